import { spawn } from 'node:child_process';
import net from 'node:net';
import { redact, type RemoteUrl } from './remote-url';

// Running git against a remote that a user named: a fixed, minimal configuration (no system or
// global config, no hooks, no fsmonitor, no filters a repository could name, no protocol but
// https/ssh/git (and http when allowed), no redirects, objects checked as they arrive), the
// connection pinned to the address that was checked, a credential passed in the environment
// (GIT_CONFIG_COUNT: never on the command line, where other local users could read it), every
// line of output redacted, and a time limit.

/** A git command against a remote that failed; `message` is redacted and fit to show. */
export class RemoteGitError extends Error {
  constructor(
    message: string,
    readonly kind: 'failed' | 'timeout' | 'aborted' | 'too_large',
    /** What git printed on stdout before it failed (redacted): `git push --porcelain` says there why. */
    readonly stdout = '',
  ) {
    super(message);
    this.name = 'RemoteGitError';
  }
}

const BASE_CONFIG: Array<[string, string]> = [
  ['core.hooksPath', '/dev/null'],
  ['core.fsmonitor', 'false'],
  ['core.excludesFile', '/dev/null'],
  ['core.attributesFile', '/dev/null'],
  ['core.symlinks', 'true'],
  ['core.autocrlf', 'false'],
  ['core.askPass', ''],
  ['credential.helper', ''],
  ['protocol.allow', 'never'],
  ['protocol.https.allow', 'always'],
  ['protocol.ssh.allow', 'always'],
  ['protocol.git.allow', 'always'],
  ['http.followRedirects', 'false'],
  ['transfer.fsckObjects', 'true'],
  ['fetch.recurseSubmodules', 'false'],
  ['submodule.recurse', 'false'],
  ['gc.auto', '0'],
  ['maintenance.auto', 'false'],
  ['advice.detachedHead', 'false'],
  ['init.defaultBranch', 'main'],
];

const GIT_BOILERPLATE = /^(Please make sure you have the correct access rights|and the repository exists\.)$/;

export interface Pinned {
  remote: RemoteUrl;
  /** The address resolveRemote checked. */
  address: string;
  /** A credential for http(s): the URL's, or the token (as the password). */
  credential: { username: string; password: string } | null;
  allowHttp: boolean;
  /** ssh only: the deploy key and known_hosts files the caller gave (else ssh's own). */
  ssh?: { keyFile: string | null; knownHostsFile: string | null };
}

const bracket = (address: string) => (net.isIPv6(address) ? `[${address}]` : address);

/** The URL git is given, and the settings that pin it to the checked address. */
export function pinnedUrl(p: Pinned): { url: string; config: Array<[string, string]>; env: Record<string, string> } {
  const { remote, address } = p;
  const config: Array<[string, string]> = [];
  const env: Record<string, string> = {};
  if (p.allowHttp) config.push(['protocol.http.allow', 'always']);
  if (remote.scheme === 'https' || remote.scheme === 'http') {
    // curl connects to the checked address and still sends the name (TLS SNI, certificate, Host).
    config.push(['http.curloptResolve', `${remote.host}:${remote.port}:${bracket(address)}`]);
    if (p.credential) {
      const basic = Buffer.from(`${p.credential.username}:${p.credential.password}`).toString('base64');
      config.push(['http.extraHeader', `Authorization: Basic ${basic}`]);
    }
    return { url: remote.display, config, env };
  }
  if (remote.scheme === 'git') {
    // git:// has no name to check on the server side: the address itself is the URL's host.
    const u = new URL(remote.display);
    u.hostname = bracket(address);
    return { url: u.href, config, env };
  }
  // ssh: to the address, checking the host key as the name's (HostKeyAlias, with the port as
  // known_hosts writes it); never a prompt, never a host key accepted that is not known. No ssh
  // config (a ProxyCommand of the user's); a deploy key given is the only key offered.
  const alias = remote.port === 22 ? remote.host : `[${remote.host}]:${remote.port}`;
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const ssh = p.ssh ?? { keyFile: null, knownHostsFile: null };
  env.GIT_SSH_COMMAND = [
    'ssh',
    '-F /dev/null',
    '-o BatchMode=yes',
    '-o StrictHostKeyChecking=yes',
    `-o ${quote(`HostKeyAlias=${alias}`)}`,
    '-o ConnectTimeout=15',
    ...(ssh.keyFile ? [`-i ${quote(ssh.keyFile)}`, '-o IdentitiesOnly=yes', '-o IdentityAgent=none'] : []),
    ...(ssh.knownHostsFile
      ? [`-o UserKnownHostsFile=${quote(ssh.knownHostsFile)}`, '-o GlobalKnownHostsFile=/dev/null']
      : []),
  ].join(' ');
  const login = remote.user ? `${remote.user}@` : '';
  const url = remote.scp
    ? `${login}${bracket(address)}:${remote.path}`
    : `ssh://${login}${bracket(address)}:${remote.port}${remote.path}`;
  return { url, config, env };
}

/** The secrets whose every form is redacted from what git prints. */
export function secretsOf(p: Pinned): string[] {
  if (!p.credential) return [];
  const { username, password } = p.credential;
  return [password, Buffer.from(`${username}:${password}`).toString('base64')];
}

export interface RunGitOptions {
  cwd: string;
  args: string[];
  config?: Array<[string, string]>;
  env?: Record<string, string>;
  secrets: string[];
  signal?: AbortSignal;
  /** When it must have finished (ms since the epoch). */
  deadline: number;
  /** Called every second while it runs; throwing stops git with that error. */
  watch?: () => void;
  /** stdout is kept up to this many bytes (the rest is dropped). */
  maxOutput?: number;
}

/** Runs git; resolves with its stdout (redacted), rejects with RemoteGitError. */
export function runRemoteGit(o: RunGitOptions): Promise<string> {
  const config = [...BASE_CONFIG, ...(o.config ?? [])];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: '/nonexistent',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '/bin/false',
    SSH_ASKPASS: '/bin/false',
    GIT_PROTOCOL_FROM_USER: '0',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_LFS_SKIP_SMUDGE: '1',
    LC_ALL: 'C',
    GIT_CONFIG_COUNT: String(config.length),
    ...Object.fromEntries(
      config.flatMap(([k, v], i) => [
        [`GIT_CONFIG_KEY_${i}`, k],
        [`GIT_CONFIG_VALUE_${i}`, v],
      ]),
    ),
    ...o.env,
  };
  const maxOutput = o.maxOutput ?? 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn('git', o.args, { cwd: o.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let stopped: RemoteGitError | null = null;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (c: string) => {
      if (stdout.length < maxOutput) stdout += c;
    });
    child.stderr.on('data', (c: string) => {
      if (stderr.length < 16 * 1024) stderr += c;
    });
    const stop = (err: RemoteGitError) => {
      stopped ??= err;
      child.kill('SIGKILL');
    };
    const onAbort = () =>
      stop(new RemoteGitError('stopped: the job was cancelled or its runner is stopping', 'aborted'));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.signal?.aborted) onAbort();
    const timer = setTimeout(
      () => stop(new RemoteGitError(`git ${o.args[0]} did not finish within its time limit`, 'timeout')),
      Math.max(0, o.deadline - Date.now()),
    );
    const watcher = o.watch
      ? setInterval(() => {
          try {
            o.watch!();
          } catch (err) {
            stop(err instanceof RemoteGitError ? err : new RemoteGitError(String(err), 'failed'));
          }
        }, 1000)
      : undefined;
    const done = () => {
      clearTimeout(timer);
      clearInterval(watcher);
      o.signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (err) => {
      done();
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new RemoteGitError(missing ? 'git is not installed' : `git could not start: ${err.message}`, 'failed'));
    });
    child.once('close', (code) => {
      done();
      if (stopped) return reject(stopped);
      if (code === 0) return resolve(redact(stdout, o.secrets));
      const lines = redact(stderr, o.secrets)
        .split('\n')
        .map((l) => l.trim())
        // git's advice after an ssh failure would push out the line that says why (ssh's own).
        .filter((l) => l && !/^(hint|warning):/.test(l) && !GIT_BOILERPLATE.test(l));
      const detail = lines.slice(-3).join(' / ') || `exit code ${code}`;
      reject(new RemoteGitError(`git ${o.args[0]} failed: ${detail}`, 'failed', redact(stdout, o.secrets)));
    });
  });
}
