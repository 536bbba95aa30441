import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import { lstatSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diffSnapshots, SnapshotLimitError, takeSnapshot } from './snapshot';

describe('workspace snapshots and their diff', () => {
  let ws: string;
  beforeEach(async () => {
    ws = await fs.mkdtemp(path.join(os.tmpdir(), 'cwo-snapshot-'));
  });
  afterEach(() => fs.rm(ws, { recursive: true, force: true }));

  const write = async (rel: string, contents: string) => {
    await fs.mkdir(path.dirname(path.join(ws, rel)), { recursive: true });
    await fs.writeFile(path.join(ws, rel), contents);
  };

  it('reports created, modified and deleted files, nested ones included, and nothing that stayed the same', async () => {
    await write('app.py', 'print(1)\n');
    await write('README.md', 'readme\n');
    await write('old/gone.txt', 'bye\n');
    await write('src/keep.py', 'same\n');
    const before = await takeSnapshot(ws);

    await fs.appendFile(path.join(ws, 'app.py'), '# edit\n');
    await fs.rm(path.join(ws, 'old'), { recursive: true });
    await write('tests/test_cli.py', 'def test(): pass\n');
    await write('README.md', 'readme\n'); // rewritten with the same contents: not a modification
    const after = await takeSnapshot(ws);

    expect(diffSnapshots(before, after)).toEqual({
      created: ['tests/test_cli.py'],
      modified: ['app.py'],
      deleted: ['old/gone.txt'],
    });
  });

  it('leaves out .codex, the runner’s own files', async () => {
    const before = await takeSnapshot(ws);
    await write('.codex/result.json', '{}');
    await write('.codex/jobs/x/job.log', 'log');
    await write('a.txt', 'a');
    expect(diffSnapshots(before, await takeSnapshot(ws))).toEqual({ created: ['a.txt'], modified: [], deleted: [] });
  });

  it('records a symlink by its target without following it, even one pointing outside', async () => {
    await fs.symlink('/etc/passwd', path.join(ws, 'escape'));
    await fs.symlink('/etc', path.join(ws, 'dir-escape'));
    const snap = await takeSnapshot(ws);
    expect(snap.get('escape')?.kind).toBe('symlink');
    expect(snap.get('dir-escape')?.kind).toBe('symlink');
    expect([...snap.keys()].some((k) => k.startsWith('dir-escape/'))).toBe(false);

    await fs.rm(path.join(ws, 'escape'));
    await fs.symlink('/etc/hosts', path.join(ws, 'escape'));
    expect(diffSnapshots(snap, await takeSnapshot(ws)).modified).toEqual(['escape']);
  });

  it('treats a missing workspace as empty, so a first job lists every file as created', async () => {
    const missing = path.join(ws, 'not-yet');
    const before = await takeSnapshot(missing);
    await fs.mkdir(missing);
    await fs.writeFile(path.join(missing, 'app.py'), 'x');
    expect(diffSnapshots(before, await takeSnapshot(missing)).created).toEqual(['app.py']);
  });

  it('refuses a workspace with more entries than the limit', async () => {
    for (let i = 0; i < 5; i++) await write(`f${i}`, 'x');
    await expect(takeSnapshot(ws, { maxEntries: 3 })).rejects.toBeInstanceOf(SnapshotLimitError);
  });

  it('hashes small and streamed large files as git does, never reading through a link or a FIFO', async () => {
    await write('small.txt', 'hello\n');
    await write('big.bin', 'abcdefghij'.repeat(300_000)); // 3 MB: streamed
    await fs.symlink(path.join(ws, 'small.txt'), path.join(ws, 'link'));
    execFileSync('mkfifo', [path.join(ws, 'fifo')]);
    const snapshot = await takeSnapshot(ws);
    const gitHash = (rel: string) =>
      execFileSync('git', ['hash-object', '--no-filters', path.join(ws, rel)], { encoding: 'utf8' }).trim();
    expect(snapshot.get('small.txt')?.hash).toBe(gitHash('small.txt'));
    expect(snapshot.get('big.bin')).toMatchObject({ kind: 'file', size: 3_000_000, hash: gitHash('big.bin') });
    expect(snapshot.get('link')?.kind).toBe('symlink');
    expect(snapshot.has('fifo')).toBe(false);
  });

  it('takes its stats from one find child as lstat gives them, to the nanosecond, with the JS walk’s decisions', async () => {
    await write('app.py', 'print(1)\n');
    await write('with space/and\nnewline.txt', 'odd names\n');
    await write('unicodé/ナ.js', 'x\n');
    await write('.gitignore', 'build/\n*.log\n!keep.log\n');
    await write('build/out.js', 'ignored\n');
    await write('src/a.log', 'ignored\n');
    await write('src/keep.log', 'kept\n');
    await write('src/.gitignore', '!build/\n');
    await write('src/build/kept.js', 'taken back by a deeper .gitignore\n');
    await write('node_modules/dep/index.js', 'a dependency\n');
    await write('lib/node_modules/x.js', 'ignored at any depth\n');
    await write('tools/.gitignore', '!node_modules/\n');
    await write('tools/node_modules/tool.js', 'taken back: walked although find left it unentered\n');
    await write('sub/.git/config', 'never content\n');
    await write('.codex/jobs/x.json', 'the runner’s\n');
    await write('bin/run', '#!/bin/sh\n');
    await fs.chmod(path.join(ws, 'bin/run'), 0o755);
    await fs.symlink('../app.py', path.join(ws, 'bin/link'));
    execFileSync('mkfifo', [path.join(ws, 'fifo')]);
    const ignore = ['node_modules/', '.venv/'];

    const viaFind = await takeSnapshot(ws, { ignore, walker: 'find' });
    const inJs = await takeSnapshot(ws, { ignore, walker: 'js' });
    expect([viaFind.walker, inJs.walker]).toEqual(['find', 'js']);
    expect(new Map([...viaFind].sort())).toEqual(new Map([...inJs].sort()));
    expect([...viaFind.keys()].sort()).toEqual([
      '.gitignore',
      'app.py',
      'bin/link',
      'bin/run',
      'src/.gitignore',
      'src/build/kept.js',
      'src/keep.log',
      'tools/.gitignore',
      'tools/node_modules/tool.js',
      'unicodé/ナ.js',
      'with space/and\nnewline.txt',
    ]);
    expect(new Map([...viaFind.dirs!].sort())).toEqual(new Map([...inJs.dirs!].sort()));
    for (const [rel, e] of viaFind) {
      if (e.kind !== 'file') continue;
      const st = lstatSync(path.join(ws, rel), { bigint: true });
      expect(e.stat).toEqual({ mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino });
      expect(e.size).toBe(Number(st.size));
    }
    expect(viaFind.get('bin/run')?.executable).toBe(true);

    // Settled, the next walk by find reads nothing and keeps the very entries.
    const next = await takeSnapshot(ws, { ignore, walker: 'find', previous: viaFind, settledNs: -60_000_000_000n });
    expect(next.filesRead).toBe(0);
    expect(next.get('app.py')).toBe(viaFind.get('app.py'));
    // Unsettled (recorded within the clock's tick): read again.
    const racy = await takeSnapshot(ws, { ignore, walker: 'find', previous: viaFind });
    expect(racy.filesRead).toBe(viaFind.size - 1); // all but the link
  });
});
