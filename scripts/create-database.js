// Creates the database named in the URL if it does not exist yet (a fresh machine's first start).
const path = require('node:path');
const { Client } = require(require.resolve('pg', { paths: [path.join(__dirname, '..', 'packages', 'db')] }));

async function main() {
  const target = new URL(process.argv[2]);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(target);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (!rowCount) {
    await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    console.log(`created database ${name}`);
  }
  await client.end();
}
main().catch((err) => {
  console.error(`could not create the database: ${err.message}`);
  process.exit(1);
});
