import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { startHarness, type Harness } from './harness';

// The built CLI as users run it (`pnpm admin …` is `node apps/api/dist/admin.js …`), with
// DATABASE_URL from the environment. Needs the build (scripts/test.sh builds first).

const CLI = path.resolve(__dirname, '../dist/admin.js');
const run = promisify(execFile);

describe('the built admin CLI', () => {
  let h: Harness;
  beforeAll(async () => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`pnpm build\` first`);
    h = await startHarness({ AUTH_MODE: 'api_key' });
  });
  afterAll(() => h.close());

  const admin = (...args: string[]) =>
    run(process.execPath, [CLI, ...args], { env: { ...process.env, DATABASE_URL: h.config.DATABASE_URL } });

  it('bootstraps a user and a key that authenticates; revoking it makes it 401', async () => {
    const user = `cli-${randomBytes(4).toString('hex')}`;
    await admin('create-user', user);
    const { stdout } = await admin('create-key', user);
    const key = stdout.trimEnd().split('\n').at(-1)!;
    expect(key).toMatch(/^cwo_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
    const listed = await request(h.app).get('/api/v1/projects').set('Authorization', `Bearer ${key}`);
    // A failure here once answered a bare 500 in CI: the API's own error lines say why.
    expect({ status: listed.status, errors: h.logs.filter((l) => l.level === 'error') }).toEqual({
      status: 200,
      errors: [],
    });

    const { id } = await h.db.apiKey.findFirstOrThrow({ where: { user: { name: user } } });
    await admin('revoke-key', id);
    await request(h.app).get('/api/v1/projects').set('Authorization', `Bearer ${key}`).expect(401);
  });

  it('exits non-zero with the reason on stderr', async () => {
    const failed = await admin('create-key', 'nobody-by-this-name').catch(
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed).toMatchObject({ code: 1, stderr: 'no user "nobody-by-this-name"\n' });
  });
});
