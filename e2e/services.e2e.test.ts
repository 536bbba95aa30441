// scripts/services.sh (bootstrap.sh, and so start.sh, runs it): Postgres and Redis where
// DATABASE_URL and REDIS_URL say. Servers on another port are the user's: it checks them and never
// starts the local ones in their place.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const SCRIPT = path.join(__dirname, '..', 'scripts', 'services.sh');

function services(env: Record<string, string>): { code: number | null; output: string } {
  const run = spawnSync('bash', [SCRIPT], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('scripts/services.sh', () => {
  it('finds the running servers through the URLs given (localhost, default ports)', () => {
    const run = services({ DATABASE_URL: 'postgresql://postgres@localhost/x', REDIS_URL: 'redis://localhost' });
    expect(run).toEqual({
      code: 0,
      output: 'services: PostgreSQL and Redis are up (localhost:5432, localhost:6379)\n',
    });
  });

  it('says which URL does not answer when Postgres or Redis is on another port, and starts nothing', () => {
    const pg = services({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/x' });
    expect(pg.code).toBe(1);
    expect(pg.output).toBe(
      'services: PostgreSQL does not answer at 127.0.0.1:1 (DATABASE_URL): start it there, or unset DATABASE_URL ' +
        'for the local default (127.0.0.1:5432)\n',
    );
    const redis = services({ REDIS_URL: 'redis://127.0.0.1:1' });
    expect(redis.code).toBe(1);
    expect(redis.output).toMatch(/^services: Redis does not answer at 127\.0\.0\.1:1 \(REDIS_URL\)/);
  });
});
