import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { waitForPort } from './wait-for-port';

// A real git server for tests: `git http-backend` (git's own smart-HTTP CGI program) behind a small
// Node HTTP server on 127.0.0.1, with optional basic auth. It serves fetches and, for an
// authenticated user, pushes. Every Authorization header it saw is kept (to check a token was sent).

export interface GitServer {
  /** http://<host>:<port>/<repo> */
  url(repo: string): string;
  root: string;
  /** Authorization headers received, in order. */
  authorizations: string[];
  /** The paths asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startGitServer(
  root: string,
  auth?: { username: string; password: string },
  at: { host?: string; port?: number } = {},
): Promise<GitServer> {
  const authorizations: string[] = [];
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '/');
    const header = req.headers.authorization;
    if (header) authorizations.push(header);
    const expected = auth ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` : null;
    if (expected && header !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' });
      res.end('unauthorized');
      req.resume();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const child = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        HOME: root,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
        REMOTE_ADDR: '127.0.0.1',
        ...(expected ? { REMOTE_USER: auth!.username } : {}),
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let sentHead = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (sentHead) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const i = line.indexOf(':');
        const [k, v] = [line.slice(0, i).trim(), line.slice(i + 1).trim()];
        if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      sentHead = true;
      res.write(head.subarray(end + 4));
    });
    child.on('close', () => res.end());
  });
  const host = at.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(at.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (repo) => `http://${host}:${port}/${repo}`,
    root,
    authorizations,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const gitEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@test.invalid',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@test.invalid',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' });
}

/**
 * A bare repository `<root>/<name>` whose branch main has one commit per entry of `commits`
 * (files written over the previous ones; null removes a file). Returns the commit ids.
 */
export function makeRepo(root: string, name: string, commits: Array<Record<string, string | null>>): string[] {
  const work = fs.mkdtempSync(path.join(root, `.work-${name}-`));
  git(work, 'init', '--quiet', '--initial-branch=main', '.');
  const ids: string[] = [];
  commits.forEach((files, i) => {
    for (const [rel, text] of Object.entries(files)) {
      const abs = path.join(work, rel);
      if (text === null) fs.rmSync(abs);
      else {
        fs.mkdirSync(path.dirname(abs), { recursive: true });
        fs.writeFileSync(abs, text);
      }
    }
    git(work, 'add', '--all');
    git(work, 'commit', '--quiet', '--allow-empty', '-m', `commit ${i + 1}`);
    ids.push(git(work, 'rev-parse', 'HEAD').trim());
  });
  git(root, 'clone', '--quiet', '--bare', work, name);
  fs.rmSync(work, { recursive: true, force: true });
  return ids;
}

export interface GitDaemon {
  /** git://127.0.0.1:<port>/<repo> */
  url(repo: string): string;
  close(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (the kernel picks it; closed again at once). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * `git daemon` serving every repository under `root` over git:// on 127.0.0.1 (read-only; with
 * `receivePack`, pushes too). Resolves once it accepts connections.
 */
export async function startGitDaemon(root: string, opts: { receivePack?: boolean } = {}): Promise<GitDaemon> {
  const port = await freePort();
  const child = spawn(
    'git',
    [
      'daemon',
      '--reuseaddr',
      '--export-all',
      `--base-path=${root}`,
      '--listen=127.0.0.1',
      `--port=${port}`,
      ...(opts.receivePack ? ['--enable=receive-pack'] : []),
      root,
    ],
    { env: { ...gitEnv, HOME: root }, stdio: 'ignore' },
  );
  await waitForPort(port, child, () => `git daemon did not start on port ${port}`);
  return {
    url: (repo) => `git://127.0.0.1:${port}/${repo}`,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * A bare repository `<root>/<name>` with `files` and one submodule per entry of `submodules` (a
 * gitlink at `path` to `commit`, declared in .gitmodules with `url` as written, relative or not).
 */
export function makeSuperproject(
  root: string,
  name: string,
  files: Record<string, string>,
  submodules: Array<{ path: string; url: string; commit: string }>,
): string {
  const work = fs.mkdtempSync(path.join(root, `.work-${name}-`));
  git(work, 'init', '--quiet', '--initial-branch=main', '.');
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(work, rel)), { recursive: true });
    fs.writeFileSync(path.join(work, rel), text);
  }
  const declared = submodules.map((s) => `[submodule "${s.path}"]\n\tpath = ${s.path}\n\turl = ${s.url}\n`);
  fs.writeFileSync(path.join(work, '.gitmodules'), declared.join(''));
  git(work, 'add', '--all');
  for (const s of submodules) git(work, 'update-index', '--add', '--cacheinfo', `160000,${s.commit},${s.path}`);
  git(work, 'commit', '--quiet', '-m', 'with submodules');
  const id = git(work, 'rev-parse', 'HEAD').trim();
  git(root, 'clone', '--quiet', '--bare', work, name);
  fs.rmSync(work, { recursive: true, force: true });
  return id;
}
