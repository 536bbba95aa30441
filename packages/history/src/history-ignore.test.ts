import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { commitJob, projectHistoryDir } from './history';
import { diffSnapshots, takeSnapshot } from './snapshot';
import { restoreWorkspace } from './workspace-restore';

// HISTORY_IGNORE (the runner's list of dependency and cache folders) and the project's .gitignore
// files keep paths out of the history, out of a job's file lists (the snapshots) and out of reach
// of a restore; the project's .gitignore can take an entry of the list back.

const author = { name: 'Test', email: 'test@test.invalid' };
const IGNORE = ['node_modules/', '.venv/', '__pycache__/'];

describe('what the history leaves out', () => {
  let root: string;
  let workspace: string;
  const projectId = randomUUID();
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(workspace, rel)), { recursive: true });
    fs.writeFileSync(path.join(workspace, rel), text);
  };
  const gitDir = () => projectHistoryDir(root, projectId);
  const tracked = (sha: string) =>
    execFileSync('git', [`--git-dir=${gitDir()}`, 'ls-tree', '-r', '--name-only', sha], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', HOME: '/nonexistent' },
    })
      .split('\n')
      .filter(Boolean);
  const commit = async (ignore: readonly string[] | undefined = IGNORE) => {
    const snapshot = await takeSnapshot(workspace, { ignore });
    const sha = await commitJob({
      workspaceRoot: root,
      projectId,
      workspace,
      job: { id: randomUUID(), jobType: 'edit', instruction: 'x' },
      author,
      snapshot,
      ignore,
    });
    return { sha, snapshot };
  };

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-history-ignore-'));
    workspace = path.join(root, projectId);
    fs.mkdirSync(workspace);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('leaves dependency folders at any depth and .gitignore’d paths out of the snapshot and the commit', async () => {
    write('app.py', 'print(1)\n');
    write('node_modules/left-pad/index.js', 'module.exports = 1;\n');
    write('web/node_modules/react/index.js', 'x\n');
    write('.venv/bin/python', '#!/bin/sh\n');
    write('pkg/__pycache__/mod.cpython-311.pyc', 'bytes');
    write('node_modules.txt', 'a file, not the folder: kept\n');
    write('.gitignore', 'dist/\n*.log\n');
    write('dist/bundle.js', 'built\n');
    write('debug.log', 'noise\n');
    write('.git/config', '[core]\n');
    const { sha, snapshot } = await commit();
    const kept = ['.gitignore', 'app.py', 'node_modules.txt'];
    expect([...snapshot.keys()].sort()).toEqual(kept);
    expect(tracked(sha)).toEqual(kept);
    // The same commit without a snapshot (the history walks the workspace itself).
    const walked = await commitJob({
      workspaceRoot: root,
      projectId,
      workspace,
      job: { id: randomUUID(), jobType: 'edit', instruction: 'y' },
      author,
      ignore: IGNORE,
    });
    expect(tracked(walked)).toEqual(kept);
  });

  it('lets the project’s .gitignore take an entry of the list back', async () => {
    write('.gitignore', '!node_modules/\n');
    write('node_modules/vendored/index.js', 'kept on purpose\n');
    write('.venv/lib/x.py', 'still left out\n');
    const { sha } = await commit();
    expect(tracked(sha)).toEqual(['.gitignore', 'node_modules/vendored/index.js']);
  });

  it('an empty list leaves only what .gitignore says out', async () => {
    write('node_modules/a.js', 'a\n');
    const { sha } = await commit([]);
    expect(tracked(sha)).toEqual(['node_modules/a.js']);
  });

  it('a job that installs dependencies lists none of them; a restore leaves them where they are', async () => {
    write('app.py', 'print(1)\n');
    const { sha, snapshot: before } = await commit();
    write('node_modules/big/index.js', 'module.exports = 2;\n');
    write('.venv/pyvenv.cfg', 'home = /usr\n');
    write('app.py', 'print(2)\n');
    const after = await takeSnapshot(workspace, { ignore: IGNORE });
    expect(diffSnapshots(before, after)).toEqual({ created: [], modified: ['app.py'], deleted: [] });

    // An attempt cut short: put back to the commit, the dependencies untouched.
    const result = await restoreWorkspace({ workspaceRoot: root, projectId, workspace, commit: sha, ignore: IGNORE });
    expect(result).toMatchObject({ changed: true, written: ['app.py'], removed: [] });
    expect(fs.readFileSync(path.join(workspace, 'node_modules/big/index.js'), 'utf8')).toBe('module.exports = 2;\n');
    expect(fs.existsSync(path.join(workspace, '.venv/pyvenv.cfg'))).toBe(true);
    // Without the list, the same restore would remove them (they are not in the commit).
    const bare = await restoreWorkspace({ workspaceRoot: root, projectId, workspace, commit: sha });
    expect(bare.removed.sort()).toEqual(['.venv/pyvenv.cfg', 'node_modules/big/index.js']);
  });

  it('a .gitignore changed between jobs is followed at once, in the same project and the same directory', async () => {
    write('.gitignore', '*.log\n');
    write('sub/.gitignore', 'tmp/\n');
    write('a.log', 'x\n');
    write('a.tmp', 'x\n');
    write('sub/tmp/t.txt', 'x\n');
    const first = await takeSnapshot(workspace, { ignore: IGNORE });
    expect([...first.keys()].filter((k) => first.get(k)!.kind === 'file').sort()).toEqual([
      '.gitignore',
      'a.tmp',
      'sub/.gitignore',
    ]);
    // The rules compiled for the old texts are kept for reuse: a new text must not find them.
    write('.gitignore', '*.tmp\n');
    write('sub/.gitignore', '# nothing\n');
    const { snapshot, sha } = await commit();
    const files = [...snapshot.keys()].filter((k) => snapshot.get(k)!.kind === 'file').sort();
    expect(files).toEqual(['.gitignore', 'a.log', 'sub/.gitignore', 'sub/tmp/t.txt']);
    expect(tracked(sha)).toEqual(files);
    // And back: the first texts' rules again.
    write('.gitignore', '*.log\n');
    const again = await takeSnapshot(workspace, { ignore: IGNORE });
    expect(again.has('a.log')).toBe(false);
    expect(again.has('a.tmp')).toBe(true);
  });

  it('does not walk an ignored folder at all: its entries do not count towards the snapshot’s limit', async () => {
    for (let i = 0; i < 30; i++) write(`node_modules/p${i}/index.js`, `${i}\n`);
    write('app.py', 'print(1)\n');
    const snapshot = await takeSnapshot(workspace, { ignore: IGNORE, maxEntries: 5 });
    expect([...snapshot.keys()]).toEqual(['app.py']);
    await expect(takeSnapshot(workspace, { maxEntries: 5 })).rejects.toThrow(/more than 5 entries/);
  });
});

describe('the .gitignore files, as git reads them', () => {
  let root: string;
  let workspace: string;
  const projectId = randomUUID();
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-gitignore-'));
    workspace = path.join(root, projectId);
    fs.mkdirSync(workspace);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('match what `git add --all` stages: a deeper file takes back a folder, names are case-sensitive', async () => {
    const files: Record<string, string> = {
      '.gitignore': 'build/\n*.LOG\n',
      'build/out.js': 'ignored\n',
      'src/.gitignore': '!build/\n',
      'src/build/kept.js': 'taken back by src/.gitignore\n',
      'trace.log': 'kept: the pattern is upper case\n',
      'TRACE.LOG': 'ignored\n',
    };
    for (const [rel, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(workspace, rel)), { recursive: true });
      fs.writeFileSync(path.join(workspace, rel), text);
    }
    const env = {
      PATH: process.env.PATH,
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: '/nonexistent',
      GIT_CONFIG_GLOBAL: '/dev/null',
    };
    const plain = path.join(root, 'plain');
    execFileSync('git', ['init', '-q', plain], { env });
    execFileSync('cp', ['-a', `${workspace}/.`, plain]);
    execFileSync('git', ['-C', plain, '-c', 'core.ignoreCase=false', 'add', '--all'], { env });
    const staged = execFileSync('git', ['-C', plain, 'ls-files'], { encoding: 'utf8', env })
      .split('\n')
      .filter(Boolean);
    expect(staged).toEqual(['.gitignore', 'src/.gitignore', 'src/build/kept.js', 'trace.log']);

    const snapshot = await takeSnapshot(workspace);
    expect([...snapshot.keys()].sort()).toEqual(staged);
    const sha = await commitJob({
      workspaceRoot: root,
      projectId,
      workspace,
      job: { id: randomUUID(), jobType: 'edit', instruction: 'x' },
      author,
      snapshot,
    });
    const tree = execFileSync(
      'git',
      [`--git-dir=${projectHistoryDir(root, projectId)}`, 'ls-tree', '-r', '--name-only', sha],
      {
        encoding: 'utf8',
        env,
      },
    );
    expect(tree.split('\n').filter(Boolean)).toEqual(staged);
  });
});
