// Shared by the unit/integration and e2e test setups: a fresh database per test run (created and
// migrated here, dropped afterwards) and a Redis key prefix of its own. A missing service fails
// the run at once with how to start it; tests never skip.
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const path = require('node:path');
const net = require('node:net');

const ROOT = path.join(__dirname, '..');
const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL || process.env.REDIS_URL || 'redis://127.0.0.1:6379';

function reachable(urlString) {
  const url = new URL(urlString);
  const port = Number(url.port) || (url.protocol.startsWith('redis') ? 6379 : 5432);
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port, timeout: 2000 }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function requireServices() {
  const missing = [];
  if (!(await reachable(ADMIN_URL))) missing.push(`PostgreSQL at ${new URL(ADMIN_URL).host}`);
  if (!(await reachable(REDIS_URL))) missing.push(`Redis at ${new URL(REDIS_URL).host}`);
  if (missing.length) {
    throw new Error(
      `Tests need ${missing.join(' and ')}, which did not answer. Start them with ` +
        '`bash scripts/services.sh` (or `docker compose up -d postgres redis`).',
    );
  }
}

async function withAdmin(fn) {
  const { Client } = require(require.resolve('pg', { paths: [path.join(ROOT, 'packages', 'db')] }));
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A database of its own for a test run, migrated unless `{ migrate: false }` (a fresh install). */
async function createTestDatabase(label, { migrate = true } = {}) {
  await requireServices();
  const name = `cwo_${label}_${crypto.randomBytes(4).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  if (migrate) {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'prisma.js'), 'migrate', 'deploy'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: 'pipe',
    });
  }
  return { name, databaseUrl, redisUrl: REDIS_URL, queuePrefix: `cwo-test-${name}` };
}

async function dropTestDatabase(name) {
  await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

async function clearRedisPrefix(prefix) {
  const Redis = require(require.resolve('ioredis', { paths: [path.join(ROOT, 'apps', 'api')] }));
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  await redis.quit();
}

module.exports = { createTestDatabase, dropTestDatabase, clearRedisPrefix, requireServices, ROOT };
