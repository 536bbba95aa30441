#!/usr/bin/env node
// `pnpm admin <command>`: bootstraps users and API keys from the command line (admin/cli.ts).
// Reads DATABASE_URL from the environment, as the API does.
//   create-user <name>
//   create-key <user> [--admin] [--name <label>]   (the key alone on the last line of output)
//   revoke-key <id or prefix>
//   list-keys
import { ConfigError, loadConfig } from '@cwo/config';
import { createDb } from '@cwo/db';
import { runAdminCommand } from './admin/cli';

async function main(argv: string[]): Promise<number> {
  const config = loadConfig();
  const db = createDb(config.DATABASE_URL);
  try {
    return await runAdminCommand(db, argv, { out: (l) => console.log(l), err: (l) => console.error(l) });
  } finally {
    await db.$disconnect();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  },
);
