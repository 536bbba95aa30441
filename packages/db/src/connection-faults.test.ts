import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, sqlPool, sqlTransaction, type Db } from './index';

// Postgres ending the connections of a client (what a restart, a failover or a connection pooler
// does; here pg_terminate_backend): the process must not die of it (pg emits 'error' on a client
// whose connection ends, and an 'error' nobody listens to kills the process), and the client must
// work again at once, on fresh connections.

const admin = () => new pg.Client({ connectionString: process.env.DATABASE_URL });

async function terminate(applicationName: string): Promise<number> {
  const client = admin();
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1`,
      [applicationName],
    );
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

/** Resolves on the next uncaught exception of the process (what would kill a real one). */
function uncaught(): { errors: Error[]; stop(): void } {
  const errors: Error[] = [];
  // jest installs its own handler; ours only records, and the test asserts on what it saw.
  const onError = (err: Error) => errors.push(err);
  process.on('uncaughtException', onError);
  return { errors, stop: () => process.off('uncaughtException', onError) };
}

describe('Postgres ending the connections of a client', () => {
  let db: Db;
  let name: string;
  const reported: Error[] = [];
  beforeEach(() => {
    name = `cwo-test-${randomBytes(3).toString('hex')}`;
    reported.length = 0;
    db = createDb(process.env.DATABASE_URL!, { applicationName: name, onConnectionError: (e) => reported.push(e) });
  });
  afterEach(() => db.$disconnect());

  it('idle connections of the pool under Prisma (sqlPool) end: reported, not thrown, and the next query works', async () => {
    const watch = uncaught();
    try {
      // Only the raw pool has been used: Prisma has not attached anything to it yet.
      await Promise.all([1, 2, 3].map(() => sqlPool(db).query('SELECT pg_sleep(0.05)')));
      expect(await terminate(name)).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 200));
      expect(watch.errors).toEqual([]);
      expect(reported.length).toBeGreaterThan(0);
      expect((await sqlPool(db).query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(await db.$queryRawUnsafe('SELECT 2 AS two')).toEqual([{ two: 2 }]);
    } finally {
      watch.stop();
    }
  });

  it('idle connections after Prisma queries end: the next Prisma query works', async () => {
    const watch = uncaught();
    try {
      await db.project.count();
      expect(await terminate(name)).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 200));
      expect(watch.errors).toEqual([]);
      expect(typeof (await db.project.count())).toBe('number');
    } finally {
      watch.stop();
    }
  });

  it('a connection checked out for a transaction ends mid-statement: the statement fails, the process stays', async () => {
    const watch = uncaught();
    try {
      const inFlight = sqlTransaction(db, async (client) => {
        await client.query('SELECT 1');
        await client.query('SELECT pg_sleep(5)');
      });
      inFlight.catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300));
      expect(await terminate(name)).toBeGreaterThan(0);
      await expect(inFlight).rejects.toThrow(/terminat/i);
      await new Promise((r) => setTimeout(r, 200));
      expect(watch.errors).toEqual([]);
      expect((await sqlPool(db).query('SELECT 3 AS three')).rows).toEqual([{ three: 3 }]);
    } finally {
      watch.stop();
    }
  });
});
