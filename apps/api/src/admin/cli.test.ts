import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { startHarness, type Harness } from '../../test/harness';
import { runAdminCommand } from './cli';

// The `pnpm admin` commands, run as the CLI runs them (test/admin-cli.test.ts runs the built CLI
// itself), against the API in AUTH_MODE=api_key.

describe('pnpm admin', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ AUTH_MODE: 'api_key' });
  });
  afterAll(() => h.close());

  async function admin(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runAdminCommand(h.db, argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n').split('\n'), err };
  }

  const name = () => `cli-${randomBytes(4).toString('hex')}`;

  it('create-user, create-key (the key alone on the last line) authenticates, revoke-key makes it 401', async () => {
    const user = name();
    const created = await admin('create-user', user);
    expect(created.code).toBe(0);
    expect(created.out.join('\n')).toContain(`created user ${user}`);

    const keyed = await admin('create-key', user, '--name', 'laptop');
    expect(keyed.code).toBe(0);
    const key = keyed.out.at(-1)!;
    expect(key).toMatch(/^cwo_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
    const record = await h.db.apiKey.findFirstOrThrow({ where: { user: { name: user } } });
    expect(record).toMatchObject({ name: 'laptop', isAdmin: false, revokedAt: null });
    // Only the hash is stored.
    expect(JSON.stringify(record)).not.toContain(key);

    await request(h.app).get('/api/v1/projects').set('Authorization', `Bearer ${key}`).expect(200);

    const listed = await admin('list-keys');
    const line = listed.out.find((l) => l.startsWith(record.id));
    expect(line).toContain(`${record.prefix}…  ${user}  laptop  active`);
    expect(listed.out.join('\n')).not.toContain(key);

    const revoked = await admin('revoke-key', record.id);
    expect(revoked.code).toBe(0);
    await request(h.app).get('/api/v1/projects').set('Authorization', `Bearer ${key}`).expect(401);
    expect((await admin('list-keys')).out.find((l) => l.startsWith(record.id))).toMatch(/revoked \d{4}-/);
  });

  it('create-key --admin makes an admin key; revoke-key takes the prefix as list-keys shows it', async () => {
    const user = name();
    await admin('create-user', user);
    const keyed = await admin('create-key', user, '--admin');
    expect(keyed.out[0]).toMatch(/^created admin key /);
    const record = await h.db.apiKey.findFirstOrThrow({ where: { user: { name: user } } });
    expect(record.isAdmin).toBe(true);
    expect((await admin('revoke-key', `${record.prefix}…`)).code).toBe(0);
    expect((await h.db.apiKey.findUniqueOrThrow({ where: { id: record.id } })).revokedAt).not.toBeNull();
  });

  it('refuses what it cannot do, with a reason and a non-zero exit code', async () => {
    const user = name();
    await admin('create-user', user);
    expect(await admin('create-user', user)).toMatchObject({ code: 1, err: [`user "${user}" exists already`] });
    expect(await admin('create-user', 'bad name!')).toMatchObject({ code: 1 });
    expect(await admin('create-key', 'nobody-by-this-name')).toMatchObject({
      code: 1,
      err: ['no user "nobody-by-this-name"'],
    });
    expect(await admin('revoke-key', 'cwo_nothing1')).toMatchObject({ code: 1, err: ['no API key "cwo_nothing1"'] });
  });

  it('prints the usage for unknown commands, flags and missing arguments (exit code 2)', async () => {
    for (const argv of [
      [],
      ['drop-everything'],
      ['create-user'],
      ['create-key', 'x', '--admn'],
      ['create-user', 'a', 'b'],
    ]) {
      const res = await admin(...argv);
      expect([argv, res.code]).toEqual([argv, 2]);
      expect(res.err.join('\n')).toContain('usage: pnpm admin create-user <name>');
    }
  });
});
