import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitForPort } from './wait-for-port';

// A real ssh server for tests: Debian's sshd (scripts/install-openssh-server.sh) as a non-daemon
// child on a free port of 127.0.0.1, with a host key of its own and one authorized client key, both
// made for this run. A login runs git-upload-pack / git-receive-pack as git over ssh does. It logs
// in as the user running the tests (sshd cannot switch users otherwise). The scp form
// (user@host:path) has no port, so a test of it starts sshd on port 22 of an address of its own
// in 127.0.0.0/8 (any of them is loopback on Linux), clear of anything on 127.0.0.1:22.

export interface SshServer {
  /** ssh://<user>@<address>:<port><absolute path of repo under root> */
  url(repo: string): string;
  /** The login name (the user running the tests). */
  user: string;
  address: string;
  port: number;
  /** The client key sshd accepts (OpenSSH private key text). */
  clientKey: string;
  /** A known_hosts line for the server's host key, under its address and port. */
  knownHosts: string;
  /** A known_hosts line for the server's host key under another name (a name a test resolves to it). */
  knownHostsAs(name: string): string;
  close(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';

function keypair(dir: string, name: string): { key: string; pub: string } {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
  return { key: fs.readFileSync(file, 'utf8'), pub: fs.readFileSync(`${file}.pub`, 'utf8').trim() };
}

/** A private key nobody authorized (for the wrong-key tests). */
export function strayKey(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-stray-key-'));
  try {
    return keypair(dir, 'stray').key;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A known_hosts line naming `host` with a host key that is not the server's. */
export function otherHostKey(host: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-other-host-'));
  try {
    return `${host} ${keypair(dir, 'other').pub.split(' ').slice(0, 2).join(' ')}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** An address in 127.0.0.0/8 other than 127.0.0.1, picked at random (for sshd on port 22). */
export function loopbackAddress(): string {
  const byte = () => 2 + Math.floor(Math.random() * 250);
  return `127.${byte()}.${byte()}.${byte()}`;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startSshServer(root: string, at: { address?: string; port?: number } = {}): Promise<SshServer> {
  if (!fs.existsSync(SSHD))
    throw new Error(`the ssh tests need ${SSHD}: run \`bash scripts/install-openssh-server.sh\``);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-sshd-'));
  const host = keypair(dir, 'host_key');
  const client = keypair(dir, 'client_key');
  fs.writeFileSync(path.join(dir, 'authorized_keys'), `${client.pub}\n`, { mode: 0o600 });
  const address = at.address ?? '127.0.0.1';
  const port = at.port ?? (await freePort());
  const user = os.userInfo().username;
  const config = [
    `Port ${port}`,
    `ListenAddress ${address}`,
    `HostKey ${path.join(dir, 'host_key')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AllowUsers ${user}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // The temporary directories are not the login's home: their modes are not ssh's business here.
    'StrictModes no',
    'PrintMotd no',
    'AllowTcpForwarding no',
    'X11Forwarding no',
    'PermitTTY no',
  ].join('\n');
  const configFile = path.join(dir, 'sshd_config');
  fs.writeFileSync(configFile, `${config}\n`);
  // sshd wants its privilege separation directory even when run by hand.
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const child = spawn(SSHD, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
  await waitForPort(port, child, () => `sshd did not start on ${address}:${port}: ${stderr}`, address);
  // known_hosts names a host on port 22 bare, [host]:port otherwise.
  const knownHostsAs = (name: string) =>
    `${port === 22 ? name : `[${name}]:${port}`} ${host.pub.split(' ').slice(0, 2).join(' ')}`;
  return {
    url: (repo) => `ssh://${user}@${address}:${port}${path.resolve(root, repo)}`,
    user,
    address,
    port,
    clientKey: client.key,
    knownHosts: knownHostsAs(address),
    knownHostsAs,
    close: () =>
      new Promise((resolve) => {
        const done = () => {
          fs.rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}
