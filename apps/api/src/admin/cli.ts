import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Db } from '@cwo/db';
import { AccountError, createApiKey, createUser, listApiKeys, revokeApiKey } from '../auth/accounts';

// The commands of `pnpm admin`, over a database client and two output streams, so that tests run
// them as they are. src/admin.ts is the process around them.

export const USAGE = `usage: pnpm admin create-user <name>
       pnpm admin create-key <user name or id> [--admin] [--name <label>]
       pnpm admin revoke-key <key id or prefix>
       pnpm admin list-keys`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Which arguments each command takes. */
const COMMANDS: Record<string, { positionals: number; options: NonNullable<ParseArgsConfig['options']> }> = {
  'create-user': { positionals: 1, options: {} },
  'create-key': { positionals: 1, options: { admin: { type: 'boolean' }, name: { type: 'string' } } },
  'revoke-key': { positionals: 1, options: {} },
  'list-keys': { positionals: 0, options: {} },
};

/** Runs one command; returns the exit code (0 done, 1 refused, 2 usage). */
export async function runAdminCommand(db: Db, argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  const spec = command ? COMMANDS[command] : undefined;
  if (!spec) {
    io.err(USAGE);
    return 2;
  }
  let args;
  try {
    args = parseArgs({ args: rest, options: spec.options, allowPositionals: true, strict: true });
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.positionals.length !== spec.positionals) {
    io.err(USAGE);
    return 2;
  }
  const [target] = args.positionals;
  try {
    switch (command) {
      case 'create-user': {
        const user = await createUser(db, target!);
        io.out(`created user ${user.name} (${user.id})`);
        break;
      }
      case 'create-key': {
        const { admin, name } = args.values as { admin?: boolean; name?: string };
        const { key, record, user } = await createApiKey(db, target!, { admin, name });
        const kind = record.isAdmin ? 'admin key' : 'key';
        io.out(`created ${kind} ${record.id} (${record.prefix}…) for ${user.name}; it is shown only now:`);
        // Alone on the last line, so that scripts can take it with `tail -n 1`.
        io.out(key);
        break;
      }
      case 'revoke-key': {
        const key = await revokeApiKey(db, target!);
        io.out(`revoked key ${key.id} (${key.prefix}…)`);
        break;
      }
      case 'list-keys': {
        for (const k of await listApiKeys(db)) {
          const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
          io.out(
            `${k.id}  ${k.prefix}…  ${k.user.name}  ${k.name}${k.isAdmin ? '  admin' : ''}  ${state}  ` +
              `last used ${k.lastUsedAt?.toISOString() ?? 'never'}`,
          );
        }
        break;
      }
    }
    return 0;
  } catch (err) {
    if (err instanceof AccountError) {
      io.err(err.message);
      return 1;
    }
    throw err;
  }
}
