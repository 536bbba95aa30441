import { execFile } from 'node:child_process';
import path from 'node:path';
import type { GitImportSource } from '../git-import';

// A public git host for tests with private hosts refused (IMPORT_ALLOW_PRIVATE_HOSTS off): the
// rules let only public addresses through, and none on this machine is one. So the import runs in a
// network namespace of its own (unshare; a user namespace too when not root) with a public address
// put on its loopback interface: a git server bound there is the public host, and nothing reaches
// the real one. Its 127.0.0.1 is the namespace's own, where a second server stands for a private
// host, to show that a refused URL is never asked for. The ports are fixed: nothing else listens
// in the namespace. The import itself runs in public-host-import.ts.

export const PUBLIC_ADDRESS = '93.184.216.34';
/** The public server's port, on PUBLIC_ADDRESS. */
export const PUBLIC_PORT = 8080;
/** The private server's port, on the namespace's 127.0.0.1. */
export const PRIVATE_PORT = 8081;

export interface PublicHostImport {
  /** The repositories both servers serve. */
  root: string;
  source: GitImportSource;
  /** A name's answers, one per lookup of it (the last one repeated): where each name resolves. */
  names: Record<string, string[][]>;
  /** An empty directory the import fetches into. */
  dir: string;
}

export interface PublicHostImported {
  commit: string | null;
  error: { name: string; code?: string; message: string } | null;
  lines: string[];
  /** Files under `dir` afterwards (relative paths, sorted). */
  files: string[];
  publicRequests: string[];
  privateRequests: string[];
}

/** Runs fetchGitSource with private hosts refused, in a network namespace with a public host. */
export function importFromPublicHost(input: PublicHostImport): Promise<PublicHostImported> {
  const tsx = path.resolve(__dirname, '../../../../node_modules/.bin/tsx');
  const script = path.join(__dirname, 'public-host-import.ts');
  const asRoot = process.getuid?.() === 0;
  const inside = 'ip link set lo up && ip addr add "$0/32" dev lo && exec "$1" "$2" "$3"';
  const args = [
    ...(asRoot ? [] : ['--map-root-user']),
    '--net',
    'sh',
    '-c',
    inside,
    PUBLIC_ADDRESS,
    tsx,
    script,
    JSON.stringify(input),
  ];
  return new Promise((resolve, reject) => {
    execFile('unshare', args, { timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (err || !last.startsWith('{'))
        return reject(
          new Error(
            'the import in a network namespace of its own did not run (it needs unshare and ip, from ' +
              `util-linux and iproute2, and root or user namespaces): ${err?.message ?? ''} ${stderr}`,
          ),
        );
      resolve(JSON.parse(last) as PublicHostImported);
    });
  });
}
