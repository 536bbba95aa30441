import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// An ssh deploy key and the known_hosts a caller gave for one import or push: written to files
// that only the service's user can read (a 0700 directory of their own, the key 0600) for as long
// as the git command runs, then removed. ssh reads them there; they are never on a command line,
// in Postgres, Redis or a log.

export interface SshCredentials {
  /** An OpenSSH private key (without a passphrase). */
  key?: string;
  /** known_hosts lines for the host: only these host keys are accepted. */
  knownHosts?: string;
}

export interface SshFiles {
  keyFile: string | null;
  knownHostsFile: string | null;
  remove(): void;
}

const PRIVATE_KEY =
  /^-----BEGIN ([A-Z0-9 ]+ )?PRIVATE KEY-----\r?\n[\s\S]+\r?\n-----END ([A-Z0-9 ]+ )?PRIVATE KEY-----\s*$/;

/** Why `key` is not a private key ssh can use, or null. */
export function sshKeyProblem(key: string): string | null {
  if (!PRIVATE_KEY.test(key.trim() + '\n')) return 'ssh_key must be a private key in PEM or OpenSSH form';
  if (/Proc-Type: 4,ENCRYPTED/.test(key)) return 'ssh_key must not have a passphrase';
  return null;
}

export function writeSshFiles(c: SshCredentials): SshFiles {
  if (!c.key && !c.knownHosts) return { keyFile: null, knownHostsFile: null, remove: () => {} };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-ssh-'));
  fs.chmodSync(dir, 0o700);
  const write = (name: string, text: string | undefined) => {
    if (!text) return null;
    const file = path.join(dir, name);
    // ssh wants the key to end with a newline.
    fs.writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o600, flag: 'wx' });
    return file;
  };
  return {
    keyFile: write('key', c.key),
    knownHostsFile: write('known_hosts', c.knownHosts),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
