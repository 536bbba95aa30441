import { createDb } from './client';
import { describeSchemaState, ensureSchema, knownMigrations, pendingMigrations } from './migrate';

// test/services.js is CommonJS shared with the test set-ups.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const services = require('../../../test/services') as {
  createTestDatabase(label: string, options?: { migrate?: boolean }): Promise<{ name: string; databaseUrl: string }>;
  dropTestDatabase(name: string): Promise<void>;
};

jest.setTimeout(60_000);

describe('bringing the schema up to date at start-up', () => {
  const made: string[] = [];
  const emptyDatabase = async () => {
    const database = await services.createTestDatabase('schema', { migrate: false });
    made.push(database.name);
    return database.databaseUrl;
  };
  afterAll(async () => {
    for (const name of made) await services.dropTestDatabase(name);
  });

  it('applies every migration to an empty database, then finds it up to date with one query', async () => {
    const url = await emptyDatabase();
    const all = knownMigrations();
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(await pendingMigrations(url)).toEqual(all);

    const first = await ensureSchema(url);
    expect(first).toEqual({ applied: all, total: all.length });
    expect(describeSchemaState(first)).toBe(
      `database schema: applied ${all.length} of ${all.length} migrations (${all.join(', ')})`,
    );
    expect(await pendingMigrations(url)).toEqual([]);
    const again = await ensureSchema(url);
    expect(describeSchemaState(again)).toBe(`database schema up to date (${all.length} migrations)`);

    const db = createDb(url);
    try {
      expect(await db.job.count()).toBe(0);
    } finally {
      await db.$disconnect();
    }
  });

  it('an API and runners starting at once on an empty database: each migration is applied exactly once', async () => {
    const url = await emptyDatabase();
    const results = await Promise.all([ensureSchema(url), ensureSchema(url), ensureSchema(url)]);
    expect(results.flatMap((r) => r.applied).sort()).toEqual(knownMigrations());
    expect(await pendingMigrations(url)).toEqual([]);
  });
});
