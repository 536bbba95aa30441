import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';

/** Postgres type ids the pg adapter cannot map (Prisma issue #27403); they are text underneath. */
const CHAR_OID = 18;
const NAME_OID = 19;
const TEXT_OID = 25;

type QueryResultLike = { fields?: Array<{ dataTypeID: number }> };

function reportNameAndCharAsText(result: unknown): void {
  for (const field of (result as QueryResultLike | undefined)?.fields ?? []) {
    if (field.dataTypeID === CHAR_OID || field.dataTypeID === NAME_OID) field.dataTypeID = TEXT_OID;
  }
}

/**
 * A pg client that reports `char` and `name` columns as text, so the adapter can read the
 * catalog queries that `prisma migrate` makes ("Column type 'name' could not be deserialized").
 */
class TextNameClient extends pg.Client {
  // pg's query has many overloads: the pool calls it with a callback, the adapter with promises.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the overloads' union return type cannot be named here
  override query(...args: unknown[]): any {
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      args[args.length - 1] = (err: unknown, res: unknown) => {
        if (!err) reportNameAndCharAsText(res);
        (last as (e: unknown, r: unknown) => void)(err, res);
      };
    }
    const out = (super.query as (...a: unknown[]) => unknown)(...args);
    if (out && typeof (out as Promise<unknown>).then === 'function') {
      return (out as Promise<unknown>).then((r) => {
        reportNameAndCharAsText(r);
        return r;
      });
    }
    return out;
  }
}

/**
 * Discrete connection fields rather than a connection string: the adapter derives the shadow
 * database's pool by overriding `database`, which a connection string would silently win over.
 */
export function poolConfigFromUrl(databaseUrl: string, max?: number): pg.PoolConfig {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema');
  return {
    host: decodeURIComponent(url.hostname) || 'localhost',
    port: url.port ? Number(url.port) : 5432,
    user: decodeURIComponent(url.username) || undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || undefined,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
    ...(max ? { max } : {}),
    // Lets short-lived processes (the CLI, scripts) exit once idle.
    allowExitOnIdle: true,
    Client: TextNameClient,
  };
}

type ScriptAdapter = Awaited<ReturnType<PrismaPg['connect']>>;

/**
 * Makes `adapter` run a migration script as one simple-protocol query, in which Postgres splits
 * the statements itself: the adapter's own executeScript splits the text at every semicolon, so a
 * function body (dollar-quoted, with semicolons) would be cut apart. Errors go through the
 * adapter's own conversion, so the CLI reports them as it does any other.
 */
function runScriptsWhole(adapter: ScriptAdapter): ScriptAdapter {
  const internals = adapter as unknown as { client: pg.Pool; onError(error: unknown): never };
  adapter.executeScript = async (script: string) => {
    try {
      await internals.client.query(script);
    } catch (error) {
      internals.onError(error);
    }
  };
  return adapter;
}

/**
 * The adapter for the Prisma CLI (migrate). Its shadow database is dropped only after the
 * shadow pool has been closed, and with FORCE: otherwise the DROP fails with
 * "database … is being accessed by other users".
 */
export function createMigrationAdapter(databaseUrl: string): PrismaPg {
  const config = poolConfigFromUrl(databaseUrl);
  const factory = new PrismaPg(config);
  const connect = async () => runScriptsWhole(await PrismaPg.prototype.connect.call(factory));
  factory.connect = connect;
  (factory as unknown as { connectToShadowDb: () => Promise<unknown> }).connectToShadowDb = async () => {
    const main = await connect();
    const database = `prisma_migrate_shadow_db_${globalThis.crypto.randomUUID()}`;
    await main.executeScript(`CREATE DATABASE "${database}"`);
    const shadow = runScriptsWhole(await new PrismaPg({ ...config, database }).connect());
    const dispose = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      await dispose();
      await main.executeScript(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await main.dispose();
    };
    return shadow;
  };
  return factory;
}
