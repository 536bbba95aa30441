import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitForPort } from './wait-for-port';

// A real ssh server for tests: Debian's sshd (scripts/install-openssh-server.sh) as a non-daemon
// child on a free port of 127.0.0.1, with a host key of its own and one authorized client key, both
// made for this run. A login runs git-upload-pack / git-receive-pack as git over ssh does. It logs
// in as the user running the tests (sshd cannot switch users otherwise).

export interface SshServer {
  /** ssh://<user>@127.0.0.1:<port><absolute path of repo under root> */
  url(repo: string): string;
  /** The client key sshd accepts (OpenSSH private key text). */
  clientKey: string;
  /** A known_hosts line for the server's host key, under the name 127.0.0.1 and its port. */
  knownHosts: string;
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

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startSshServer(root: string): Promise<SshServer> {
  if (!fs.existsSync(SSHD))
    throw new Error(`the ssh tests need ${SSHD}: run \`bash scripts/install-openssh-server.sh\``);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-sshd-'));
  const host = keypair(dir, 'host_key');
  const client = keypair(dir, 'client_key');
  fs.writeFileSync(path.join(dir, 'authorized_keys'), `${client.pub}\n`, { mode: 0o600 });
  const port = await freePort();
  const user = os.userInfo().username;
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
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
  await waitForPort(port, child, () => `sshd did not start on port ${port}: ${stderr}`);
  return {
    url: (repo) => `ssh://${user}@127.0.0.1:${port}${path.resolve(root, repo)}`,
    clientKey: client.key,
    knownHosts: `[127.0.0.1]:${port} ${host.pub.split(' ').slice(0, 2).join(' ')}`,
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
