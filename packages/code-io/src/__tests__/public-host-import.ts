import fs from 'node:fs';
import path from 'node:path';
import { fetchGitSource } from '../git-import';
import { ImportError } from '../import-limits';
import { startGitServer } from './git-server';
import {
  PRIVATE_PORT,
  PUBLIC_ADDRESS,
  PUBLIC_PORT,
  type PublicHostImport,
  type PublicHostImported,
} from './public-host';

// Run by importFromPublicHost inside its network namespace (never by jest): serves the
// repositories on the public address and on 127.0.0.1, runs the import with private hosts refused,
// and prints what happened as one JSON line.

const limits = { maxBytes: 20 * 1024 ** 2, maxFiles: 1000, maxUnpackedBytes: 20 * 1024 ** 2, maxRatio: 200 };

function filesUnder(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const p = path.posix.join(rel, e.name);
    return e.isDirectory() ? [`${p}/`, ...filesUnder(dir, p)] : [p];
  });
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2]!) as PublicHostImport;
  const publicHost = await startGitServer(input.root, undefined, { host: PUBLIC_ADDRESS, port: PUBLIC_PORT });
  const privateHost = await startGitServer(input.root, undefined, { host: '127.0.0.1', port: PRIVATE_PORT });
  const asked = new Map<string, number>();
  const lookup = async (name: string) => {
    const answers = input.names[name];
    if (!answers) throw Object.assign(new Error(`${name} not found`), { code: 'ENOTFOUND' });
    const n = asked.get(name) ?? 0;
    asked.set(name, n + 1);
    return answers[Math.min(n, answers.length - 1)]!.map((address) => ({
      address,
      family: address.includes(':') ? 6 : 4,
    }));
  };
  const lines: string[] = [];
  const out: PublicHostImported = {
    commit: null,
    error: null,
    lines,
    files: [],
    publicRequests: [],
    privateRequests: [],
  };
  try {
    const imported = await fetchGitSource({
      source: input.source,
      dir: input.dir,
      rules: { allowPrivateHosts: false, allowHttp: true },
      lookup,
      limits,
      deadline: Date.now() + 30_000,
      log: (l) => lines.push(l),
    });
    out.commit = imported.commit;
  } catch (err) {
    const e = err as Error;
    out.error = { name: e.name, code: err instanceof ImportError ? err.code : undefined, message: e.message };
  }
  out.files = filesUnder(input.dir).sort();
  out.publicRequests = publicHost.requests;
  out.privateRequests = privateHost.requests;
  await Promise.all([publicHost.close(), privateHost.close()]);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
