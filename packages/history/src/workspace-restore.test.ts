import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { commitJob, HistoryError, projectHistoryDir } from './history';
import { takeSnapshot } from './snapshot';
import { restoreWorkspace } from './workspace-restore';

// A workspace put back to a commit of its history: what an attempt cut short left is undone
// (and only that), hostile entries the agent planted included; `.codex/` and ignored paths stay.

const author = { name: 'Test Orchestrator', email: 'orchestrator@test.invalid' };

/** The workspace as `git ls-files`-like lines: path, kind and contents (links by their target). */
function contentsOf(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const d of fs
    .readdirSync(path.join(dir, rel), { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    const abs = path.join(dir, r);
    if (d.isDirectory()) out.push(`${r}/`, ...contentsOf(dir, r));
    else if (d.isSymbolicLink()) out.push(`${r} -> ${fs.readlinkSync(abs)}`);
    else if (d.isFile()) {
      const exec = (fs.statSync(abs).mode & 0o100) !== 0 ? ' (x)' : '';
      out.push(`${r}${exec}: ${fs.readFileSync(abs, 'utf8')}`);
    } else out.push(`${r} (special)`);
  }
  return out;
}

describe('restoring a workspace from its history', () => {
  let root: string;
  let workspace: string;
  let outside: string;
  const projectId = randomUUID();
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(workspace, rel)), { recursive: true });
    fs.writeFileSync(path.join(workspace, rel), text);
  };
  const commit = (id = randomUUID()) =>
    commitJob({
      workspaceRoot: root,
      projectId,
      workspace,
      job: { id, jobType: 'edit', instruction: 'change it' },
      author,
    });
  const restore = (sha: string | null) => restoreWorkspace({ workspaceRoot: root, projectId, workspace, commit: sha });

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-restore-'));
    workspace = path.join(root, projectId);
    outside = path.join(root, 'outside');
    fs.mkdirSync(workspace);
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'not the agent’s\n');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('undoes what an attempt changed after the commit: edits, new files and directories, deletions, modes', async () => {
    write('app.py', 'print(1)\n');
    write('tests/test_app.py', 'def test(): pass\n');
    write('run.sh', '#!/bin/sh\n');
    fs.chmodSync(path.join(workspace, 'run.sh'), 0o755);
    write('.codex/jobs/x/job.log', 'kept\n');
    const sha = await commit();
    const recorded = contentsOf(workspace);

    write('app.py', 'print(1)\n# Edit: applied by an attempt cut short\n');
    write('new/dir/file.txt', 'half-written');
    fs.rmSync(path.join(workspace, 'tests'), { recursive: true });
    fs.chmodSync(path.join(workspace, 'run.sh'), 0o644);
    write('.codex/result.json', '{}');

    const result = await restore(sha);

    expect(result).toMatchObject({ changed: true, branchReset: false });
    expect(result.written.sort()).toEqual(['app.py', 'run.sh', 'tests/test_app.py']);
    expect(result.removed.sort()).toEqual(['new/dir/file.txt']);
    // .codex/ is the runner's: left as it is.
    expect(contentsOf(workspace)).toEqual([...recorded, '.codex/result.json: {}'].sort((a, b) => (a < b ? -1 : 1)));
  });

  it('changes nothing when the workspace already is the commit (one comparison of tree ids)', async () => {
    write('app.py', 'print(1)\n');
    write('.gitignore', 'build/\n');
    write('build/out.bin', 'ignored, so not in the commit');
    write('bin/run.sh', '#!/bin/sh\n');
    fs.chmodSync(path.join(workspace, 'bin/run.sh'), 0o755);
    fs.symlinkSync('bin/run.sh', path.join(workspace, 'run'));
    fs.mkdirSync(path.join(workspace, 'empty'));
    const sha = await commit();
    const inode = fs.statSync(path.join(workspace, 'app.py')).ino;

    const result = await restore(sha);

    expect(result).toEqual({ changed: false, written: [], removed: [], branchReset: false });
    expect(fs.statSync(path.join(workspace, 'app.py')).ino).toBe(inode);
  });

  it('leaves what the project ignores (by the commit’s .gitignore files), and any .git, alone', async () => {
    write('.gitignore', 'node_modules/\n*.log\n');
    write('app.py', 'print(1)\n');
    const sha = await commit();
    write('app.py', 'print(2)\n');
    write('node_modules/pkg/index.js', 'module.exports = 1;\n');
    write('debug.log', 'noise\n');
    write('.git/config', '[core]\n');
    write('stray.txt', 'not ignored\n');

    const result = await restore(sha);

    expect(result.written).toEqual(['app.py']);
    expect(result.removed).toEqual(['stray.txt']);
    expect(fs.readFileSync(path.join(workspace, 'app.py'), 'utf8')).toBe('print(1)\n');
    for (const kept of ['node_modules/pkg/index.js', 'debug.log', '.git/config'])
      expect(fs.existsSync(path.join(workspace, kept))).toBe(true);
  });

  it('follows nothing the agent planted: links to outside, a FIFO, a hard link to a file elsewhere', async () => {
    write('app.py', 'print(1)\n');
    write('src/lib.py', 'x = 1\n');
    write('notes.txt', 'notes\n');
    const sha = await commit();

    // src/ replaced by a link to a directory outside; app.py by a FIFO (opening it would wait);
    // notes.txt a hard link to a file outside; a link to outside where nothing was.
    fs.rmSync(path.join(workspace, 'src'), { recursive: true });
    fs.symlinkSync(outside, path.join(workspace, 'src'));
    fs.rmSync(path.join(workspace, 'app.py'));
    execFileSync('mkfifo', [path.join(workspace, 'app.py')]);
    fs.rmSync(path.join(workspace, 'notes.txt'));
    fs.linkSync(path.join(outside, 'secret.txt'), path.join(workspace, 'notes.txt'));
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(workspace, 'planted'));

    const result = await restore(sha);

    expect(result.written.sort()).toEqual(['app.py', 'notes.txt', 'src/lib.py']);
    expect(result.removed.sort()).toEqual(['app.py', 'planted', 'src']); // the FIFO, then written anew
    expect(contentsOf(workspace)).toEqual(['app.py: print(1)\n', 'notes.txt: notes\n', 'src/', 'src/lib.py: x = 1\n']);
    // Nothing outside the workspace was written or removed.
    expect(contentsOf(outside)).toEqual(['secret.txt: not the agent’s\n']);
  });

  it('puts back a large file (streamed) and a symlink of the commit', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    fs.writeFileSync(path.join(workspace, 'data.bin'), big);
    fs.symlinkSync('data.bin', path.join(workspace, 'link'));
    const sha = await commit();
    fs.writeFileSync(path.join(workspace, 'data.bin'), 'truncated');
    fs.rmSync(path.join(workspace, 'link'));
    fs.writeFileSync(path.join(workspace, 'link'), 'a file where a link was');

    const result = await restore(sha);

    expect(result.written.sort()).toEqual(['data.bin', 'link']);
    expect(fs.readFileSync(path.join(workspace, 'data.bin')).equals(big)).toBe(true);
    expect(fs.readlinkSync(path.join(workspace, 'link'))).toBe('data.bin');
  });

  it('moves the branch back from an unfinished attempt’s commit; restores to no files for a project’s first job', async () => {
    write('app.py', 'print(1)\n');
    const first = await commit();
    write('app.py', 'print(1)\n# Edit\n');
    const attempt = await commit(); // committed, but its job never finished
    const gitDir = projectHistoryDir(root, projectId);

    const result = await restore(first);

    expect(result).toMatchObject({ changed: true, written: ['app.py'], branchReset: true });
    expect(fs.readFileSync(path.join(gitDir, 'refs', 'heads', 'main'), 'utf8').trim()).toBe(first);
    expect(attempt).not.toBe(first);

    write('.codex/request.json', '{}');
    const empty = await restore(null);
    expect(empty).toMatchObject({ changed: true, removed: ['app.py'], branchReset: true });
    expect(fs.readdirSync(workspace)).toEqual(['.codex']);
  });

  it('refuses, before changing anything, a commit the history does not have', async () => {
    write('app.py', 'print(1)\n');
    await commit();
    write('app.py', 'changed\n');
    await expect(restore('0'.repeat(40))).rejects.toBeInstanceOf(HistoryError);
    expect(fs.readFileSync(path.join(workspace, 'app.py'), 'utf8')).toBe('changed\n');
  });

  it('uses the snapshot it is given instead of walking the workspace again', async () => {
    write('app.py', 'print(1)\n');
    const sha = await commit();
    write('app.py', 'print(2)\n');
    const snapshot = await takeSnapshot(workspace);
    const result = await restoreWorkspace({ workspaceRoot: root, projectId, workspace, commit: sha, snapshot });
    expect(result.written).toEqual(['app.py']);
  });
});

describe('restoring on a full disk', () => {
  let disk: string;
  beforeAll(() => {
    disk = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-restore-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', disk]);
  });
  afterAll(() => {
    execFileSync('umount', ['-l', disk]);
    fs.rmSync(disk, { recursive: true, force: true });
  });

  it('rewrites an appended file in place when there is no room for a copy', async () => {
    const projectId = randomUUID();
    const workspace = path.join(disk, projectId);
    fs.mkdirSync(workspace);
    fs.writeFileSync(path.join(workspace, 'app.py'), 'print(1)\n');
    const sha = await commitJob({
      workspaceRoot: disk,
      projectId,
      workspace,
      job: { id: randomUUID(), jobType: 'edit', instruction: 'x' },
      author,
    });
    fs.appendFileSync(path.join(workspace, 'app.py'), '# Edit: landed before the disk filled\n');
    const fd = fs.openSync(path.join(disk, 'filler'), 'a');
    for (const size of [1024 * 1024, 4096, 512, 1]) {
      try {
        for (;;) fs.writeSync(fd, Buffer.alloc(size));
      } catch {
        // next, smaller
      }
    }
    fs.closeSync(fd);
    expect(() => fs.writeFileSync(path.join(disk, 'probe'), 'x'.repeat(8192))).toThrow(/ENOSPC/);

    const result = await restoreWorkspace({ workspaceRoot: disk, projectId, workspace, commit: sha });

    expect(result.written).toEqual(['app.py']);
    expect(fs.readFileSync(path.join(workspace, 'app.py'), 'utf8')).toBe('print(1)\n');
    expect(fs.readdirSync(workspace)).toEqual(['app.py']); // no temporary file left
  });
});
