import { execFileSync } from 'node:child_process';
import crypto, { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import {
  commitDiffStats,
  commitJob,
  commitMessage,
  commitSubject,
  HistoryError,
  openCommitDiff,
  projectHistoryDir,
  removeProjectHistory,
} from './history';
import { commitJobOffThread, plannedOnThread, stopHistoryThreads } from './history-thread';
import { takeSnapshot, type Snapshot } from './snapshot';

const author = { name: 'Test Orchestrator', email: 'orchestrator@test.invalid' };

async function readAll(stream: Readable | null): Promise<string> {
  if (!stream) throw new Error('no diff');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** git on the history, as an operator would read it (only for the assertions). */
function gitLog(gitDir: string, ...args: string[]): string {
  return execFileSync('git', [`--git-dir=${gitDir}`, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', HOME: '/nonexistent' },
  });
}

describe('the project history', () => {
  let root: string;
  let workspace: string;
  const projectId = randomUUID();
  const write = async (rel: string, text: string) => {
    await fs.mkdir(path.dirname(path.join(workspace, rel)), { recursive: true });
    await fs.writeFile(path.join(workspace, rel), text);
  };
  const commit = (instruction: string, id = randomUUID(), jobType = 'edit', snapshot?: Snapshot) =>
    commitJob({ workspaceRoot: root, projectId, workspace, job: { id, jobType, instruction }, author, snapshot });
  const diffOf = async (sha: string) => readAll(await openCommitDiff({ workspaceRoot: root, projectId, sha }));

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'cwo-history-'));
    workspace = path.join(root, projectId);
    await fs.mkdir(workspace);
  });
  afterEach(() => fs.rm(root, { recursive: true, force: true }));
  afterAll(() => stopHistoryThreads());

  it('counts what a commit changed against its parent: files, inserted and deleted lines', async () => {
    await write('app.py', 'a\nb\nc\n');
    await write('README.md', 'hello\n');
    const first = await commit('first');
    expect(await commitDiffStats({ workspaceRoot: root, projectId, sha: first })).toEqual({
      filesChanged: 2,
      insertions: 4,
      deletions: 0,
    });
    await write('app.py', 'a\nB\nc\nd\n');
    await fs.rm(path.join(workspace, 'README.md'));
    await write('logo.bin', '\u0000\u0001binary');
    const second = await commit('second');
    // app.py: b -> B and d added; README.md removed; logo.bin is binary (changed, no lines).
    expect(await commitDiffStats({ workspaceRoot: root, projectId, sha: second })).toEqual({
      filesChanged: 3,
      insertions: 2,
      deletions: 2,
    });
    expect(await commitDiffStats({ workspaceRoot: root, projectId, sha: 'f'.repeat(40) })).toBeNull();
    expect(await commitDiffStats({ workspaceRoot: root, projectId: randomUUID(), sha: first })).toBeNull();
  });

  it('commits the first job as a root commit whose diff adds its files, .codex/ left out', async () => {
    await write('app.py', 'print("hi")\n');
    await write('tests/test_app.py', 'def test(): pass\n');
    await write('.codex/result.json', '{}');
    const jobId = randomUUID();

    const sha = await commit('Build a CLI\nwith a test', jobId, 'initial_project');

    const gitDir = projectHistoryDir(root, projectId);
    expect(gitLog(gitDir, 'log', '--format=%an <%ae>|%cn <%ce>|%B').trim()).toBe(
      `Test Orchestrator <orchestrator@test.invalid>|Test Orchestrator <orchestrator@test.invalid>|initial_project: Build a CLI\n\nBuild a CLI\nwith a test\n\nJob-Id: ${jobId}`,
    );
    expect(gitLog(gitDir, 'ls-tree', '-r', '--name-only', sha).trim().split('\n')).toEqual([
      'app.py',
      'tests/test_app.py',
    ]);
    const diff = await diffOf(sha);
    expect(diff).toContain('diff --git a/app.py b/app.py\nnew file mode 100644');
    expect(diff).toContain('+print("hi")');
    expect(diff).toContain('+++ b/tests/test_app.py');
    expect(diff).not.toContain('.codex');
    // Nothing of the history is in the workspace.
    expect(await fs.readdir(workspace)).toEqual(expect.not.arrayContaining(['.git']));
  });

  it('gives each later job a commit with only its own change, an empty one when it changed nothing', async () => {
    await write('app.py', 'one\n');
    await write('old.txt', 'bye\n');
    const first = await commit('Build it');
    await write('app.py', 'one\ntwo\n');
    await fs.rm(path.join(workspace, 'old.txt'));

    const second = await commit('Add a line');
    const third = await commit('Do nothing');

    const diff = await diffOf(second);
    expect(diff).toContain('--- a/app.py\n+++ b/app.py');
    expect(diff).toContain(' one\n+two');
    expect(diff).toContain('deleted file mode 100644');
    expect(await diffOf(third)).toBe('');
    const gitDir = projectHistoryDir(root, projectId);
    expect(gitLog(gitDir, 'rev-list', 'HEAD').trim().split('\n')).toEqual([third, second, first]);
  });

  it('replaces its own commit when the same job commits again (a run repeated after a crash)', async () => {
    await write('app.py', 'one\n');
    const first = await commit('Build it');
    const jobId = randomUUID();
    await write('app.py', 'one\ntwo\n');
    await commit('Add lines', jobId);
    await write('app.py', 'one\ntwo\nthree\n');

    const again = await commit('Add lines', jobId);

    const gitDir = projectHistoryDir(root, projectId);
    expect(gitLog(gitDir, 'rev-list', 'HEAD').trim().split('\n')).toEqual([again, first]);
    expect(await diffOf(again)).toContain(' one\n+two\n+three');
  });

  it('runs nothing the agent planted (a .git with fsmonitor, filters and hooks; .gitattributes), nor hooks set in the history’s config', async () => {
    const pwned = path.join(root, 'pwned');
    await write('.git/config', `[core]\n\tfsmonitor = "touch ${pwned}"\n[filter "evil"]\n\tclean = touch ${pwned}\n`);
    await write('.git/hooks/pre-commit', `#!/bin/sh\ntouch ${pwned}\n`);
    await fs.chmod(path.join(workspace, '.git/hooks/pre-commit'), 0o755);
    await write('.gitattributes', '* filter=evil\n');
    await write('app.py', 'x\n');
    const first = await commit('Build it');
    await expect(fs.stat(pwned)).rejects.toMatchObject({ code: 'ENOENT' });
    // Hooks and fsmonitor set in the history's own config (only the runner writes it) are overridden too.
    const gitDir = projectHistoryDir(root, projectId);
    await fs.appendFile(
      path.join(gitDir, 'config'),
      `[core]\n\thooksPath = ${path.join(workspace, '.git/hooks')}\n\tfsmonitor = "touch ${pwned}"\n`,
    );
    await write('app.py', 'y\n');

    const second = await commit('Change it');

    await expect(fs.stat(pwned)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(gitLog(gitDir, 'ls-tree', '-r', '--name-only', first).trim().split('\n')).toEqual([
      '.gitattributes',
      'app.py',
    ]);
    expect(await diffOf(second)).toContain('-x\n+y');
  });

  it.each([
    ['walking the workspace', false],
    ['from the runner’s snapshot of it', true],
  ])(
    'commits the tree `git add --all` would stage (.gitignore rules, symlinks, modes), in a repository git finds valid, %s',
    async (_, fromSnapshot) => {
      await write('.gitignore', '*.log\nbuild/\n!keep.log\n');
      await write('keep.log', 'kept\n');
      await write('drop.log', 'dropped\n');
      await write('build/out.js', 'x\n');
      await write('src/.gitignore', '!*.log\nsecret.txt\n');
      await write('src/trace.log', 'kept: a deeper .gitignore wins\n');
      await write('src/secret.txt', 's\n');
      await write('src/a b/ü.py', 'print(1)\n');
      await write('run.sh', '#!/bin/sh\n');
      await fs.chmod(path.join(workspace, 'run.sh'), 0o755);
      await fs.symlink('/etc/passwd', path.join(workspace, 'link'));
      await fs.mkdir(path.join(workspace, 'empty'));
      await write('.codex/request.json', '{}');

      const sha = await commit(
        'Build it',
        randomUUID(),
        'edit',
        fromSnapshot ? await takeSnapshot(workspace) : undefined,
      );

      const gitDir = projectHistoryDir(root, projectId);
      // What git itself stages from the same workspace, in an index of its own.
      const env = {
        PATH: process.env.PATH,
        GIT_CONFIG_NOSYSTEM: '1',
        HOME: '/nonexistent',
        GIT_INDEX_FILE: path.join(root, 'check-index'),
      };
      const run = (...args: string[]) =>
        execFileSync('git', [`--git-dir=${gitDir}`, `--work-tree=${workspace}`, ...args], {
          encoding: 'utf8',
          env,
          cwd: workspace,
        });
      run('add', '--all', '--', '.');
      expect(gitLog(gitDir, 'rev-parse', `${sha}^{tree}`).trim()).toBe(run('write-tree').trim());
      expect(gitLog(gitDir, 'ls-tree', '-r', '-z', '--name-only', sha).split('\0').filter(Boolean)).toEqual([
        '.gitignore',
        'keep.log',
        'link',
        'run.sh',
        'src/.gitignore',
        'src/a b/ü.py',
        'src/trace.log',
      ]);
      expect(() => gitLog(gitDir, 'fsck', '--strict', '--no-dangling')).not.toThrow();
    },
  );

  it('stores a file of several MB (streamed, not read whole) so that git reads it back byte for byte', async () => {
    const big = Buffer.concat(
      Array.from({ length: 48 }, (_, i) => Buffer.concat([crypto.randomBytes(64 * 1024), Buffer.alloc(64 * 1024, i)])),
    );
    await fs.writeFile(path.join(workspace, 'big.bin'), big);
    await write('small.txt', 'small\n');

    const first = await commit('Add a big file', randomUUID(), 'edit', await takeSnapshot(workspace));
    await fs.appendFile(path.join(workspace, 'big.bin'), 'more');
    const second = await commit('Grow it');

    const gitDir = projectHistoryDir(root, projectId);
    expect(() => gitLog(gitDir, 'fsck', '--strict', '--no-dangling')).not.toThrow();
    const blob = (rev: string) =>
      execFileSync('git', [`--git-dir=${gitDir}`, 'cat-file', 'blob', rev], {
        maxBuffer: 64 * 1024 * 1024,
        env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', HOME: '/nonexistent' },
      });
    expect(blob(`${first}:big.bin`).equals(big)).toBe(true);
    expect(blob(`${second}:big.bin`).equals(Buffer.concat([big, Buffer.from('more')]))).toBe(true);
    expect(gitLog(gitDir, 'diff', '--stat', first, second)).toContain('big.bin');
    // No temporary object left behind.
    expect((await fs.readdir(path.join(gitDir, 'objects'))).filter((n) => n.startsWith('tmp_'))).toEqual([]);
  });

  it('recovers from a lock left by an interrupted commit', async () => {
    await write('app.py', 'one\n');
    await commit('Build it');
    const gitDir = projectHistoryDir(root, projectId);
    await fs.writeFile(path.join(gitDir, 'index.lock'), '');
    await write('app.py', 'two\n');

    const sha = await commit('Change it');

    expect(await diffOf(sha)).toContain('-one\n+two');
  });

  it('has no diff for an unknown commit, a malformed id or a project without history', async () => {
    await write('app.py', 'one\n');
    await commit('Build it');
    expect(await openCommitDiff({ workspaceRoot: root, projectId, sha: 'f'.repeat(40) })).toBeNull();
    expect(await openCommitDiff({ workspaceRoot: root, projectId, sha: '--output=/tmp/x' })).toBeNull();
    expect(await openCommitDiff({ workspaceRoot: root, projectId: randomUUID(), sha: 'f'.repeat(40) })).toBeNull();
    await removeProjectHistory(root, projectId);
    await expect(fs.stat(projectHistoryDir(root, projectId))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('commits the same on a worker thread (with the runner’s snapshot), and reports its errors as HistoryError', async () => {
    await write('app.py', 'print("hi")\n');
    await write('lib/util.py', 'x = 1\n');
    const first = await commit('initial', randomUUID(), 'initial_project');
    await write('app.py', 'print("hello")\n');
    const jobId = randomUUID();
    const args = {
      workspaceRoot: root,
      projectId,
      workspace,
      job: { id: jobId, jobType: 'edit', instruction: 'say hello' },
      author,
    };
    const viaThread = await commitJobOffThread({ ...args, snapshot: await takeSnapshot(workspace) });
    const gitDir = projectHistoryDir(root, projectId);
    expect(gitLog(gitDir, 'rev-parse', `${viaThread}^`).trim()).toBe(first);
    expect(gitLog(gitDir, 'diff', '--name-only', first, viaThread).trim()).toBe('app.py');
    // The same job committed again in this thread amends to the very same tree.
    const again = await commitJob(args);
    expect(gitLog(gitDir, 'rev-parse', `${again}^{tree}`)).toBe(gitLog(gitDir, 'rev-parse', `${viaThread}^{tree}`));
    expect(gitLog(gitDir, 'rev-list', '--count', again).trim()).toBe('2');
    // The first commit is left dangling when the amend falls in a later second (a new timestamp).
    expect(gitLog(gitDir, 'fsck', '--strict', '--no-dangling')).toBe('');

    const gone = commitJobOffThread({ ...args, workspace: path.join(root, 'deleted-project') });
    await expect(gone).rejects.toBeInstanceOf(HistoryError);
    await expect(gone).rejects.toThrow(/does not exist/);
  });

  it('writes a planned commit of a few small files on the calling thread, a larger one on a thread', () => {
    const file = (size: number) => ({
      rel: 'f',
      entry: { size } as Parameters<typeof plannedOnThread>[0]['blobs'][0]['entry'],
    });
    expect(plannedOnThread({ blobs: [file(120)] })).toBe(false);
    expect(plannedOnThread({ blobs: Array.from({ length: 16 }, () => file(1000)) })).toBe(false);
    expect(plannedOnThread({ blobs: Array.from({ length: 17 }, () => file(10)) })).toBe(true);
    expect(plannedOnThread({ blobs: [file(100), file(300 * 1024)] })).toBe(true);
  });

  it('writes a one-line subject from the instruction’s first line', () => {
    expect(commitSubject({ jobType: 'edit', instruction: '\n  Add a flag\nand more' })).toBe('edit: Add a flag');
    expect(commitSubject({ jobType: 'edit', instruction: 'tab\there\u0000' })).toBe('edit: tab here');
    const long = commitSubject({ jobType: 'edit', instruction: 'x'.repeat(300) });
    expect(long).toHaveLength(100);
    expect(long.endsWith('…')).toBe(true);
  });

  it('keeps the whole instruction in the message when the subject cannot hold it', () => {
    const id = '00000000-0000-4000-8000-00000000000a';
    expect(commitMessage({ id, jobType: 'edit', instruction: 'Add a flag' })).toBe(
      `edit: Add a flag\n\nJob-Id: ${id}\n`,
    );
    expect(commitMessage({ id, jobType: 'edit', instruction: 'Add a flag\r\nand a test\u0000' })).toBe(
      `edit: Add a flag\n\nAdd a flag\nand a test\n\nJob-Id: ${id}\n`,
    );
  });
});

describe('the project history on a full disk', () => {
  it('a commit that fails for lack of space leaves no temporary object behind', async () => {
    const disk = await fs.mkdtemp(path.join(os.tmpdir(), 'cwo-history-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', disk]);
    try {
      const projectId = randomUUID();
      const workspace = path.join(disk, projectId);
      await fs.mkdir(workspace);
      // Many small files (each an object written inline) fill what is left after the first ones.
      for (let i = 0; i < 400; i++) await fs.writeFile(path.join(workspace, `f${i}.txt`), crypto.randomBytes(3000));
      await expect(
        commitJob({
          workspaceRoot: disk,
          projectId,
          workspace,
          job: { id: randomUUID(), jobType: 'edit', instruction: 'x' },
          author,
        }),
      ).rejects.toThrow(/ENOSPC/);
      const left = execFileSync('find', [projectHistoryDir(disk, projectId), '-name', '*.tmp'], { encoding: 'utf8' });
      expect(left).toBe('');
    } finally {
      execFileSync('umount', ['-l', disk]);
      await fs.rm(disk, { recursive: true, force: true });
    }
  });
});

describe('a commit of a workspace with many new files', () => {
  it.each([
    ['without a snapshot', false],
    ['from the runner’s snapshot', true],
  ])(
    '%s holds few files open at once (it ran out of descriptors: every file was open together)',
    async (_, withSnapshot) => {
      const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cwo-history-fds-'));
      try {
        const workspace = path.join(root, 'p');
        for (let d = 0; d < 20; d++) {
          await fs.mkdir(path.join(workspace, `pkg${d}`), { recursive: true });
          for (let f = 0; f < 50; f++) await fs.writeFile(path.join(workspace, `pkg${d}`, `m${f}.js`), `${d} ${f}\n`);
        }
        const script = `
        const { commitJob } = require(${JSON.stringify(path.join(__dirname, 'history'))});
        const { takeSnapshot } = require(${JSON.stringify(path.join(__dirname, 'snapshot'))});
        const workspace = ${JSON.stringify(workspace)};
        (${withSnapshot} ? takeSnapshot(workspace) : Promise.resolve(undefined)).then((snapshot) => commitJob({
          workspaceRoot: ${JSON.stringify(root)}, projectId: 'p', workspace, snapshot,
          job: { id: 'j', jobType: 'edit', instruction: 'x' }, author: { name: 'a', email: 'a@b.c' } }))
          .then((sha) => console.log(sha), (err) => { console.error(err.message); process.exit(1); });`;
        // 1,000 files under a limit of 200 descriptors.
        const tsx = path.join(__dirname, '..', '..', '..', 'node_modules', '.bin', 'tsx');
        const sha = execFileSync('bash', ['-c', `ulimit -n 200 && exec "${tsx}" -e "$0"`, script], {
          encoding: 'utf8',
        }).trim();
        expect(sha).toMatch(/^[0-9a-f]{40}$/);
        expect(
          gitLog(projectHistoryDir(root, 'p'), 'ls-tree', '-r', '--name-only', sha).split('\n').filter(Boolean),
        ).toHaveLength(1000);
      } finally {
        await fs.rm(root, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
