#!/usr/bin/env node
// `pnpm admin <command>`: bootstraps users and API keys from the command line.
//   create-user <name>
//   create-key <user> [--admin] [--name <label>]   (the key alone on the last line of output)
//   revoke-key <id or prefix>
//   list-keys
import { ConfigError, loadConfig } from '@cwo/config';
import { createDb } from '@cwo/db';
import { AccountError, createApiKey, createUser, listApiKeys, revokeApiKey } from './auth/accounts';

const USAGE = `usage: pnpm admin create-user <name>
       pnpm admin create-key <user> [--admin] [--name <label>]
       pnpm admin revoke-key <key id or prefix>
       pnpm admin list-keys`;

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const flag = (name: string) => rest.includes(name);
  const option = (name: string) => {
    const i = rest.indexOf(name);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  const positional = rest.filter((a, i) => !a.startsWith('--') && !(i > 0 && rest[i - 1] === '--name'));
  if (!command || (command !== 'list-keys' && positional.length !== 1)) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const db = createDb(config.DATABASE_URL);
  try {
    switch (command) {
      case 'create-user': {
        const user = await createUser(db, positional[0]!);
        console.log(`created user ${user.name} (${user.id})`);
        return 0;
      }
      case 'create-key': {
        const { key, record, user } = await createApiKey(db, positional[0]!, { admin: flag('--admin'), name: option('--name') });
        console.log(`created ${record.isAdmin ? 'admin ' : ''}key ${record.id} (${record.prefix}…) for ${user.name}; it is shown only now:`);
        console.log(key);
        return 0;
      }
      case 'revoke-key': {
        const key = await revokeApiKey(db, positional[0]!);
        console.log(`revoked key ${key.id} (${key.prefix}…)`);
        return 0;
      }
      case 'list-keys': {
        for (const k of await listApiKeys(db)) {
          const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
          console.log(`${k.id}  ${k.prefix}…  ${k.user.name}  ${k.name}${k.isAdmin ? '  admin' : ''}  ${state}  last used ${k.lastUsedAt?.toISOString() ?? 'never'}`);
        }
        return 0;
      }
      default:
        console.error(USAGE);
        return 2;
    }
  } finally {
    await db.$disconnect();
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof AccountError) console.error(err.message);
    else console.error(err);
    process.exit(1);
  },
);
