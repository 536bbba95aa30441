import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fetchGitSource, type GitImportOptions } from './git-import';
import { pushHistory } from './git-push';
import { ImportError } from './import-limits';
import { git, makeRepo, makeSuperproject } from './__tests__/git-server';
import { loopbackAddress, otherHostKey, startSshServer, strayKey, type SshServer } from './__tests__/ssh-server';

// Imports over ssh against a real sshd on 127.0.0.1 (scripts/install-openssh-server.sh; started
// here with its own host key and one authorized key, both made for this run): git-upload-pack runs
// through the ssh login, as with any git host. The key and known_hosts come with the request.

const limits = { maxBytes: 20 * 1024 ** 2, maxFiles: 1000, maxUnpackedBytes: 20 * 1024 ** 2, maxRatio: 200 };
let root: string;
let sshd: SshServer;
let commits: string[];

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-git-ssh-'));
  commits = makeRepo(root, 'app.git', [{ 'app.py': 'print(1)\n' }, { 'app.py': 'print(2)\n' }]);
  const { execFileSync } = await import('node:child_process');
  execFileSync('git', ['-C', path.join(root, 'app.git'), 'tag', 'v1', commits[0]!]);
  sshd = await startSshServer(root);
});
afterAll(async () => {
  await sshd.close();
  fs.rmSync(root, { recursive: true, force: true });
});

async function fetchInto(source: GitImportOptions['source']) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-git-dest-'));
  const lines: string[] = [];
  const result = await fetchGitSource({
    source,
    dir,
    rules: { allowPrivateHosts: true, allowHttp: false },
    lookup: async () => [{ address: '127.0.0.1', family: 4 }],
    limits,
    deadline: Date.now() + 60_000,
    log: (l) => lines.push(l),
  });
  return { dir, result, lines };
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as ImportError,
  );

describe('fetchGitSource over ssh (sshd on 127.0.0.1)', () => {
  it('fetches the default branch and a tag with the deploy key, the host key checked', async () => {
    const ssh = { key: sshd.clientKey, knownHosts: sshd.knownHosts };
    const head = await fetchInto({ url: sshd.url('app.git'), ssh });
    expect(head.result.commit).toBe(commits[1]);
    expect(fs.readFileSync(path.join(head.dir, 'app.py'), 'utf8')).toBe('print(2)\n');
    const tag = await fetchInto({ url: sshd.url('app.git'), ref: 'v1', ssh });
    expect(tag.result.commit).toBe(commits[0]);
    expect(fs.readFileSync(path.join(tag.dir, 'app.py'), 'utf8')).toBe('print(1)\n');
    // The key is nowhere in what is said about the import.
    const said = JSON.stringify([head.lines, head.result, tag.lines, tag.result]);
    expect(said).not.toContain(sshd.clientKey.split('\n')[1]!);
  });

  it('a key the server does not take is a clear import_failed, without the key', async () => {
    const key = strayKey();
    const err = await failure(fetchInto({ url: sshd.url('app.git'), ssh: { key, knownHosts: sshd.knownHosts } }));
    expect(err).toBeInstanceOf(ImportError);
    expect(err!.code).toBe('import_failed');
    expect(err!.message).toMatch(/Permission denied \(publickey\)/);
    expect(err!.message).not.toContain(key.split('\n')[1]!);
  });

  it('an unknown host key is refused: another key in known_hosts, or none known', async () => {
    const otherHost = otherHostKey(sshd.knownHosts.split(' ')[0]!);
    for (const knownHosts of [otherHost, undefined]) {
      const err = await failure(fetchInto({ url: sshd.url('app.git'), ssh: { key: sshd.clientKey, knownHosts } }));
      expect(err!.code).toBe('import_failed');
      expect(err!.message).toMatch(/Host key verification failed/);
    }
  });

  it('fetches a submodule on the same ssh server with the same key and known_hosts', async () => {
    makeSuperproject(root, 'super.git', { 'main.py': 'import app\n' }, [
      { path: 'app', url: '../app.git', commit: commits[0]! },
    ]);
    const { dir } = await fetchInto({
      url: sshd.url('super.git'),
      submodules: true,
      ssh: { key: sshd.clientKey, knownHosts: sshd.knownHosts },
    });
    expect(fs.readFileSync(path.join(dir, 'app', 'app.py'), 'utf8')).toBe('print(1)\n');
  });

  it('refuses a key or known_hosts with a URL that is not ssh', async () => {
    const err = await failure(fetchInto({ url: 'https://127.0.0.1:1/app.git', ssh: { key: sshd.clientKey } }));
    expect(err!.code).toBe('import_refused');
    expect(err!.message).toBe('an ssh key or known_hosts is used with ssh URLs only');
  });

  it('leaves no key file behind', async () => {
    const before = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('cwo-ssh-'));
    await fetchInto({ url: sshd.url('app.git'), ssh: { key: sshd.clientKey, knownHosts: sshd.knownHosts } });
    await failure(fetchInto({ url: sshd.url('app.git'), ssh: { key: strayKey(), knownHosts: sshd.knownHosts } }));
    expect(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('cwo-ssh-'))).toEqual(before);
  });
});

describe('fetchGitSource from the scp form user@host:path (sshd on port 22 of its own loopback address)', () => {
  let sshd22: SshServer;
  beforeAll(async () => {
    sshd22 = await startSshServer(root, { address: loopbackAddress(), port: 22 });
  });
  afterAll(() => sshd22.close());

  // A name, resolved by the test to the server's address: ssh connects to the address checked and
  // checks the host key under the name (known_hosts as the user would write it for that name).
  const NAME = 'git.internal.test';
  const scpFetch = (allowPrivateHosts: boolean) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-git-dest-'));
    const result = fetchGitSource({
      source: {
        url: `${sshd22.user}@${NAME}:${path.join(root, 'app.git')}`,
        ref: 'v1',
        ssh: { key: sshd22.clientKey, knownHosts: sshd22.knownHostsAs(NAME) },
      },
      dir,
      rules: { allowPrivateHosts, allowHttp: false },
      lookup: async (host) => (host === NAME ? [{ address: sshd22.address, family: 4 }] : []),
      limits,
      deadline: Date.now() + 60_000,
      log: () => {},
    });
    return { dir, result };
  };

  it('fetches the ref into the directory, the host key checked under the name', async () => {
    const { dir, result } = scpFetch(true);
    expect((await result).commit).toBe(commits[0]);
    expect(fs.readFileSync(path.join(dir, 'app.py'), 'utf8')).toBe('print(1)\n');
  });

  it('refuses the name when it resolves to a loopback address and private hosts are not allowed', async () => {
    const { dir, result } = scpFetch(false);
    const err = await failure(result);
    expect(err).toBeInstanceOf(ImportError);
    expect(err!.code).toBe('import_refused');
    expect(err!.message).toBe(
      `${NAME} resolves to ${sshd22.address}, a loopback address: not allowed (IMPORT_ALLOW_PRIVATE_HOSTS)`,
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('pushHistory over ssh', () => {
  it('pushes a commit to a branch with the deploy key, read back from the server; a wrong key is a clear failure', async () => {
    git(root, 'init', '--quiet', '--bare', 'target.git');
    const push = (key: string) =>
      pushHistory({
        gitDir: path.join(root, 'app.git'),
        commit: commits[1]!,
        url: sshd.url('target.git'),
        branch: 'codex/result',
        ssh: { key, knownHosts: sshd.knownHosts },
        rules: { allowPrivateHosts: true, allowHttp: false },
        lookup: async () => [{ address: '127.0.0.1', family: 4 }],
        deadline: Date.now() + 60_000,
      });
    const pushed = await push(sshd.clientKey);
    expect(pushed).toMatchObject({ status: 'created', commit: commits[1], previousCommit: null, commits: 2 });
    expect(git(path.join(root, 'target.git'), 'rev-parse', 'refs/heads/codex/result').trim()).toBe(commits[1]);
    const wrong = await push(strayKey()).then(
      () => null,
      (e: unknown) => e as Error & { kind: string },
    );
    expect(wrong?.kind).toBe('failed');
    expect(wrong?.message).toBe(
      'authentication failed: the remote refused the ssh key (send an ssh_key with push rights)',
    );
  });
});
