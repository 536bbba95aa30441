import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fetchGitSource, type GitImportOptions } from './git-import';
import { ImportError } from './import-limits';
import {
  startGitDaemon,
  startGitServer,
  makeRepo,
  makeSuperproject,
  type GitDaemon,
  type GitServer,
} from './__tests__/git-server';
import { importFromPublicHost, PRIVATE_PORT, PUBLIC_ADDRESS, PUBLIC_PORT } from './__tests__/public-host';

// Against real git: `git http-backend` on 127.0.0.1 (so IMPORT_ALLOW_PRIVATE_HOSTS and
// IMPORT_ALLOW_HTTP are on, as in every test), one server open and one with basic auth, and
// `git daemon` for git:// URLs.

const limits = { maxBytes: 20 * 1024 ** 2, maxFiles: 1000, maxUnpackedBytes: 20 * 1024 ** 2, maxRatio: 200 };
let root: string;
let open: GitServer;
let locked: GitServer;
let daemon: GitDaemon;
let commits: string[];
const TOKEN = 's3cr3t-t0ken-value';

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-git-import-'));
  commits = makeRepo(root, 'app.git', [
    { 'app.py': 'print(1)\n', 'lib/util.py': 'X = 1\n' },
    { 'app.py': 'print(2)\n' },
    { 'app.py': 'print(3)\n', 'lib/util.py': null },
  ]);
  const { execFileSync } = await import('node:child_process');
  execFileSync('git', ['-C', path.join(root, 'app.git'), 'tag', 'v1', commits[0]!]);
  execFileSync('git', ['-C', path.join(root, 'app.git'), 'branch', 'old', commits[1]!]);
  open = await startGitServer(root);
  const lockedRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-git-locked-'));
  makeRepo(lockedRoot, 'private.git', [{ 'secret.txt': 'classified\n' }]);
  locked = await startGitServer(lockedRoot, { username: 'x-access-token', password: TOKEN });
  daemon = await startGitDaemon(root);
});
afterAll(async () => {
  await daemon.close();
  await open.close();
  await locked.close();
  fs.rmSync(root, { recursive: true, force: true });
});

async function fetchInto(over: Partial<GitImportOptions> & { source: GitImportOptions['source'] }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-git-dest-'));
  const lines: string[] = [];
  const result = await fetchGitSource({
    dir,
    rules: { allowPrivateHosts: true, allowHttp: true },
    lookup: async () => [{ address: '127.0.0.1', family: 4 }],
    limits,
    deadline: Date.now() + 60_000,
    log: (l) => lines.push(l),
    ...over,
  });
  return { dir, result, lines };
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as ImportError,
  );

describe('fetchGitSource', () => {
  it('fetches the default branch shallow, without its .git', async () => {
    const { dir, result } = await fetchInto({ source: { url: open.url('app.git') } });
    expect(result.commit).toBe(commits[2]);
    expect(fs.readdirSync(dir).sort()).toEqual(['app.py']);
    expect(fs.readFileSync(path.join(dir, 'app.py'), 'utf8')).toBe('print(3)\n');
  });

  it('fetches a branch, a tag, and a commit id (which needs the history: git http-backend will not send one alone)', async () => {
    const branch = await fetchInto({ source: { url: open.url('app.git'), ref: 'old' } });
    expect(branch.result.commit).toBe(commits[1]);
    expect(fs.readFileSync(path.join(branch.dir, 'app.py'), 'utf8')).toBe('print(2)\n');
    const tag = await fetchInto({ source: { url: open.url('app.git'), ref: 'v1' } });
    expect(tag.result.commit).toBe(commits[0]);
    expect(fs.readFileSync(path.join(tag.dir, 'lib', 'util.py'), 'utf8')).toBe('X = 1\n');
    const sha = await fetchInto({ source: { url: open.url('app.git'), ref: commits[0]!.slice(0, 12) } });
    expect(sha.result.commit).toBe(commits[0]);
    expect(sha.lines.join('\n')).toMatch(/fetching the whole history to find it/);
  });

  it('sends the token as basic auth and never lets it out in an error', async () => {
    const { dir } = await fetchInto({ source: { url: locked.url('private.git'), token: TOKEN } });
    expect(fs.readFileSync(path.join(dir, 'secret.txt'), 'utf8')).toBe('classified\n');
    expect(locked.authorizations).toContain(`Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`);

    const wrong = await failure(fetchInto({ source: { url: locked.url('private.git'), token: 'wrong-token-123' } }));
    expect(wrong).toBeInstanceOf(ImportError);
    expect(wrong!.code).toBe('import_failed');
    expect(wrong!.message).not.toContain('wrong-token-123');
    const inUrl = locked.url('private.git').replace('http://', `http://x-access-token:${TOKEN}@`);
    const viaUrl = await fetchInto({ source: { url: inUrl } });
    expect(fs.existsSync(path.join(viaUrl.dir, 'secret.txt'))).toBe(true);
    expect(viaUrl.result.description).not.toContain(TOKEN);
  });

  it('refuses private addresses, other schemes and option-like hosts before connecting', async () => {
    const cases: Array<[string, RegExp]> = [
      [open.url('app.git'), /127\.0\.0\.1 is a loopback address: not allowed \(IMPORT_ALLOW_PRIVATE_HOSTS\)/],
      ['file:///etc', /must start with https:\/\/, ssh:\/\/, git:\/\//],
      ['ext::sh -c touch% /tmp/pwned', /spaces or control characters|must start with/],
      ['ssh://-oProxyCommand=touch/x/repo', /the host must not start with "-"/],
      ['https://169.254.169.254/latest', /link-local address/],
    ];
    for (const [url, message] of cases) {
      const err = await failure(fetchInto({ source: { url }, rules: { allowPrivateHosts: false, allowHttp: true } }));
      expect(err).toBeInstanceOf(ImportError);
      expect(err!.code).toBe('import_refused');
      expect(err!.message).toMatch(message);
    }
    const http = await failure(
      fetchInto({ source: { url: open.url('app.git') }, rules: { allowPrivateHosts: true, allowHttp: false } }),
    );
    expect(http!.message).toMatch(/http is not allowed \(IMPORT_ALLOW_HTTP\)/);
  });

  it('refuses a tree over the limits before checking anything out, and names a missing ref', async () => {
    const many = await failure(
      fetchInto({ source: { url: open.url('app.git'), ref: 'v1' }, limits: { ...limits, maxFiles: 1 } }),
    );
    expect(many!.code).toBe('import_too_large');
    expect(many!.message).toMatch(/has 2 files, more than 1 \(IMPORT_MAX_FILES\)/);
    const missing = await failure(fetchInto({ source: { url: open.url('app.git'), ref: 'no-such-branch' } }));
    expect(missing!.code).toBe('import_failed');
    expect(missing!.message).toMatch(/has no ref no-such-branch/);
  });
});

describe('fetchGitSource over git:// (git daemon)', () => {
  it('fetches the default branch shallow, a tag, and a commit id', async () => {
    const head = await fetchInto({ source: { url: daemon.url('app.git') } });
    expect(head.result.commit).toBe(commits[2]);
    expect(fs.readdirSync(head.dir).sort()).toEqual(['app.py']);
    expect(fs.readFileSync(path.join(head.dir, 'app.py'), 'utf8')).toBe('print(3)\n');
    const tag = await fetchInto({ source: { url: daemon.url('app.git'), ref: 'v1' } });
    expect(tag.result.commit).toBe(commits[0]);
    expect(fs.readFileSync(path.join(tag.dir, 'lib', 'util.py'), 'utf8')).toBe('X = 1\n');
    const sha = await fetchInto({ source: { url: daemon.url('app.git'), ref: commits[1]! } });
    expect(sha.result.commit).toBe(commits[1]);
    expect(fs.readFileSync(path.join(sha.dir, 'app.py'), 'utf8')).toBe('print(2)\n');
  });

  it('a repository the daemon does not have is import_failed; a token with git:// is refused', async () => {
    const missing = await failure(fetchInto({ source: { url: daemon.url('nope.git') } }));
    expect(missing).toBeInstanceOf(ImportError);
    expect(missing?.code).toBe('import_failed');
    const token = await failure(fetchInto({ source: { url: daemon.url('app.git'), token: TOKEN } }));
    expect(token?.code).toBe('import_refused');
    expect(token?.message).toBe('a token is used with https URLs only');
  });
});

describe('fetchGitSource with submodules', () => {
  let libCommits: string[];
  let toolCommits: string[];
  beforeAll(() => {
    libCommits = makeRepo(root, 'lib.git', [{ 'lib.py': 'A = 1\n' }, { 'lib.py': 'A = 2\n' }]);
    toolCommits = makeRepo(root, 'tool.git', [{ 'tool.sh': 'echo tool\n' }]);
    // lib at its first commit, by a relative URL (next to the superproject on the same server);
    // tool by an absolute git:// URL (another server, another scheme).
    makeSuperproject(root, 'super.git', { 'main.py': 'import lib\n' }, [
      { path: 'lib', url: '../lib.git', commit: libCommits[0]! },
      { path: 'vendor/tool', url: daemon.url('tool.git'), commit: toolCommits[0]! },
    ]);
  });

  it('fetches each submodule at its commit, shallow, without their .git, only when asked', async () => {
    const { dir, lines } = await fetchInto({ source: { url: open.url('super.git'), submodules: true } });
    expect(fs.readFileSync(path.join(dir, 'lib', 'lib.py'), 'utf8')).toBe('A = 1\n');
    expect(fs.readFileSync(path.join(dir, 'vendor', 'tool', 'tool.sh'), 'utf8')).toBe('echo tool\n');
    for (const d of ['.', 'lib', 'vendor/tool']) expect(fs.existsSync(path.join(dir, d, '.git'))).toBe(false);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^import: fetching submodule lib from http:\/\/127\.0\.0\.1:\d+\/lib\.git \(shallow\)$/),
        expect.stringMatching(/^import: fetching submodule vendor\/tool from git:\/\/127\.0\.0\.1:\d+\/tool\.git/),
      ]),
    );
    expect(lines.join('\n')).not.toMatch(/whole history/);
    const without = await fetchInto({ source: { url: open.url('super.git') } });
    expect(fs.readdirSync(path.join(without.dir, 'lib'))).toEqual([]);
    expect(without.lines.join('\n')).toMatch(/the repository has submodules; they are not fetched/);
  });

  it('counts the submodules in the import’s limits', async () => {
    const err = await failure(
      fetchInto({ source: { url: open.url('super.git'), submodules: true }, limits: { ...limits, maxFiles: 4 } }),
    );
    expect(err!.code).toBe('import_too_large');
    expect(err!.message).toMatch(/with its submodules has 5 files, more than 4 \(IMPORT_MAX_FILES\)/);
  });

  it.each([
    ['file:///etc/repo.git', /must start with https:\/\/, ssh:\/\/, git:\/\//],
    ['ext::sh -c touch% /tmp/pwned', /spaces or control characters|not a valid/],
    ['ssh://-oProxyCommand=touch%20x/repo', /the host must not start with "-"/],
    ['/srv/git/lib.git', /not a valid https:\/\/, ssh:\/\/, git:\/\/ or user@host:path URL/],
  ])('refuses a submodule at %s before fetching any, naming it', async (url, why) => {
    const name = `bad-${Math.random().toString(36).slice(2)}.git`;
    makeSuperproject(root, name, { 'main.py': 'x\n' }, [
      { path: 'lib', url: '../lib.git', commit: libCommits[0]! },
      { path: 'evil', url, commit: libCommits[0]! },
    ]);
    const fetched: string[] = [];
    const err = await failure(
      fetchInto({ source: { url: open.url(name), submodules: true }, log: (l) => fetched.push(l) }),
    );
    expect(err).toBeInstanceOf(ImportError);
    expect(err!.code).toBe('import_refused');
    expect(err!.message).toMatch(/^the submodule at evil: /);
    expect(err!.message).toMatch(why);
    expect(fetched.filter((l) => l.includes('fetching submodule'))).toEqual([]);
  });

  it('sends the token to a submodule on the same server only', async () => {
    const lockedRoot = locked.root;
    const sub = makeRepo(lockedRoot, 'sublib.git', [{ 'sub.txt': 'inner\n' }]);
    makeSuperproject(lockedRoot, 'with-sub.git', {}, [{ path: 'sub', url: './../sublib.git', commit: sub[0]! }]);
    const { dir } = await fetchInto({ source: { url: locked.url('with-sub.git'), token: TOKEN, submodules: true } });
    expect(fs.readFileSync(path.join(dir, 'sub', 'sub.txt'), 'utf8')).toBe('inner\n');
  });
});

describe('fetchGitSource with private hosts refused: each submodule URL checked on its own', () => {
  // The superproject is on a public host (git.example.com, a public address in a network namespace
  // of its own: __tests__/public-host.ts), so it is allowed; a submodule's URL must pass the same
  // rules by itself, whatever the parent's did.
  let pubRoot: string;
  let lib: string[];
  const names: Record<string, string[][]> = {
    'git.example.com': [[PUBLIC_ADDRESS]],
    'internal.example.com': [['10.1.2.3']],
    'both.example.com': [[PUBLIC_ADDRESS, '127.0.0.1']],
    // Public when the superproject is checked, loopback when its submodule is (DNS rebinding).
    'rebind.example.com': [[PUBLIC_ADDRESS], ['127.0.0.1']],
  };
  const fetchSuper = (name: string, host = 'git.example.com') => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-git-dest-'));
    const url = `http://${host}:${PUBLIC_PORT}/${name}`;
    return importFromPublicHost({ root: pubRoot, source: { url, submodules: true }, names, dir });
  };
  beforeAll(() => {
    pubRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-git-public-'));
    lib = makeRepo(pubRoot, 'lib.git', [{ 'lib.py': 'A = 1\n' }]);
  });
  afterAll(() => fs.rmSync(pubRoot, { recursive: true, force: true }));

  it('fetches a superproject and its submodule from the public host', async () => {
    makeSuperproject(pubRoot, 'ok.git', { 'main.py': 'import lib\n' }, [
      { path: 'lib', url: '../lib.git', commit: lib[0]! },
    ]);
    const out = await fetchSuper('ok.git');
    expect(out.error).toBeNull();
    expect(out.files).toEqual(['.gitmodules', 'lib/', 'lib/lib.py', 'main.py']);
    expect(out.publicRequests.some((r) => r.startsWith('/lib.git/'))).toBe(true);
  });

  it.each([
    [`http://127.0.0.1:${PRIVATE_PORT}/lib.git`, '127.0.0.1 is a loopback address'],
    [`http://[::1]:${PRIVATE_PORT}/lib.git`, '::1 is a loopback address'],
    [
      `http://internal.example.com:${PRIVATE_PORT}/lib.git`,
      'internal.example.com resolves to 10.1.2.3, a private address',
    ],
    [`http://both.example.com:${PRIVATE_PORT}/lib.git`, 'both.example.com resolves to 127.0.0.1, a loopback address'],
    ['git@169.254.169.254:lib.git', '169.254.169.254 is a link-local address (where cloud metadata services answer)'],
  ])('refuses a submodule at %s, the superproject allowed, before asking it for anything', async (url, why) => {
    const name = `sub-${Math.random().toString(36).slice(2)}.git`;
    makeSuperproject(pubRoot, name, { 'main.py': 'import lib\n' }, [{ path: 'lib', url, commit: lib[0]! }]);
    const out = await fetchSuper(name);
    expect(out.error).toEqual({
      name: 'ImportError',
      code: 'import_refused',
      message: `the submodule at lib: ${why}: not allowed (IMPORT_ALLOW_PRIVATE_HOSTS)`,
    });
    // The superproject was fetched (it was allowed); the submodule's host was never asked.
    expect(out.publicRequests.some((r) => r.startsWith(`/${name}/`))).toBe(true);
    expect(out.privateRequests).toEqual([]);
    expect(out.lines.filter((l) => l.includes('fetching submodule'))).toEqual([]);
  });

  it('refuses a relative submodule when the host, resolved again for it, has turned private', async () => {
    makeSuperproject(pubRoot, 'rebind.git', { 'main.py': 'import lib\n' }, [
      { path: 'lib', url: '../lib.git', commit: lib[0]! },
    ]);
    const out = await fetchSuper('rebind.git', 'rebind.example.com');
    expect(out.error?.code).toBe('import_refused');
    expect(out.error?.message).toBe(
      'the submodule at lib: rebind.example.com resolves to 127.0.0.1, a loopback address: not allowed (IMPORT_ALLOW_PRIVATE_HOSTS)',
    );
    expect(out.privateRequests).toEqual([]);
  });
});
