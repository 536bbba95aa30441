import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { poolConfigFromUrl } from './pg-adapter';

/** The repository root: where prisma.config.ts and prisma/ live. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const MIGRATIONS_DIR = path.join(REPO_ROOT, 'prisma', 'migrations');

/** Postgres: relation does not exist (no `_prisma_migrations` yet: a fresh database). */
const UNDEFINED_TABLE = '42P01';

/**
 * Applies the checked-in migrations (`prisma migrate deploy`) before serving. Nothing else creates tables. Prisma holds a Postgres advisory lock
 * (pg_advisory_lock(72707369)) while it migrates, so the API and any number of runners can call
 * this at once: one applies, the others wait and find nothing left to do. Resolves with the
 * migrations this call applied; rejects with the CLI's output on failure.
 */
export function applyMigrations(databaseUrl: string): Promise<string[]> {
  const script = path.join(REPO_ROOT, 'scripts', 'prisma.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, 'migrate', 'deploy'], {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        // Prisma's own words ("Error: P3009 …"), not its banner and warnings.
        const error = output.slice(Math.max(0, output.search(/^Error:/m))).trim();
        reject(new Error(`prisma migrate deploy failed (exit ${code}): ${error}`));
        return;
      }
      // It lists what it applied as a tree: `└─ 20261125160031_init/`.
      resolve([...output.matchAll(/└─ ([^\s/]+)\/\s*$/gm)].map((m) => m[1]!));
    });
  });
}

/** The migrations in the repository, oldest first (their directory names sort by time). */
export function knownMigrations(): string[] {
  return fs
    .readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(MIGRATIONS_DIR, e.name, 'migration.sql')))
    .map((e) => e.name)
    .sort();
}

/** Migrations of the repository the database has not finished applying; all of them on a fresh database. */
export async function pendingMigrations(databaseUrl: string): Promise<string[]> {
  const known = knownMigrations();
  const client = new pg.Client(poolConfigFromUrl(databaseUrl));
  await client.connect();
  try {
    const { rows } = await client.query<{ migration_name: string }>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    const applied = new Set(rows.map((r) => r.migration_name));
    return known.filter((name) => !applied.has(name));
  } catch (err) {
    if ((err as { code?: string }).code === UNDEFINED_TABLE) return known;
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface SchemaState {
  /** Migrations this call applied (empty when the schema was already up to date). */
  applied: string[];
  /** Migrations in the repository. */
  total: number;
}

/**
 * Makes sure the database has every migration of this checkout before a process uses it: one
 * query when it does (the usual start), `prisma migrate deploy` under Prisma's lock when it
 * does not (a fresh database, or a new version), whichever process gets there first.
 */
export async function ensureSchema(databaseUrl: string): Promise<SchemaState> {
  const total = knownMigrations().length;
  const pending = await pendingMigrations(databaseUrl);
  if (pending.length === 0) return { applied: [], total };
  return { applied: await applyMigrations(databaseUrl), total };
}

/** The one start-up line that says what was done to the schema. */
export function describeSchemaState({ applied, total }: SchemaState): string {
  if (applied.length === 0) return `database schema up to date (${total} migrations)`;
  return `database schema: applied ${applied.length} of ${total} migrations (${applied.join(', ')})`;
}
