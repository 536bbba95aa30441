import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { commitJob, projectHistoryDir } from './history';
import { commitJobOffThread, stopHistoryThreads } from './history-thread';
import { takeSnapshot, type Snapshot } from './snapshot';
import { snapshotTreeId } from './history-tree';
import { loadStatIndex, saveStatIndex, statIndexPath } from './stat-index';

const author = { name: 'Test', email: 'test@test.invalid' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Within the tests, a stat this old is trusted (the kernel's timestamp tick is a few ms here).
const SETTLED = 50_000_000n;

/** What a snapshot says of each path, without the stat it was decided by. */
const contents = (s: Snapshot) =>
  Object.fromEntries([...s].map(([rel, e]) => [rel, `${e.kind} ${e.executable ? 'x' : '-'} ${e.size} ${e.hash}`]));

function gitTree(gitDir: string): Record<string, string> {
  const out = execFileSync(
    'git',
    [`--git-dir=${gitDir}`, 'ls-tree', '-r', '--format=%(objectmode) %(objectname) %(path)', 'HEAD'],
    {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', HOME: '/nonexistent' },
    },
  );
  return Object.fromEntries(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [mode, oid, ...rest] = l.split(' ');
        return [rest.join(' '), `${mode} ${oid}`];
      }),
  );
}

describe('the stat index beside a project history', () => {
  let root: string;
  let workspace: string;
  let gitDir: string;
  const projectId = randomUUID();
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(workspace, rel)), { recursive: true });
    fs.writeFileSync(path.join(workspace, rel), text);
  };
  const commit = (snapshot: Snapshot) =>
    commitJob({
      workspaceRoot: root,
      projectId,
      workspace,
      job: { id: randomUUID(), jobType: 'edit', instruction: 'x' },
      author,
      snapshot,
    });
  const commitOnThread = (snapshot: Snapshot) =>
    commitJobOffThread({
      workspaceRoot: root,
      projectId,
      workspace,
      job: { id: randomUUID(), jobType: 'edit', instruction: 'x' },
      author,
      snapshot,
    });
  // By find, whatever the size (find walks large workspaces only).
  const indexed = () =>
    takeSnapshot(workspace, { previous: loadStatIndex(gitDir, workspace), settledNs: SETTLED, walker: 'find' });

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-stat-index-'));
    workspace = path.join(root, projectId);
    fs.mkdirSync(workspace);
    gitDir = projectHistoryDir(root, projectId);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
  afterAll(() => stopHistoryThreads());

  it('is written by a commit, and the next snapshot reads only the files changed since', async () => {
    for (let i = 0; i < 50; i++) write(`lib/pkg${i % 5}/f${i}.js`, `module.exports = ${i};\n`);
    write('app.py', 'print(1)\n');
    expect(loadStatIndex(gitDir, workspace)).toBeNull();
    const first = await indexed();
    expect(first.filesRead).toBe(51);
    await sleep(80);
    await commit(await indexed());

    write('app.py', 'print(2)\n');
    write('lib/new.js', 'new\n');
    fs.rmSync(path.join(workspace, 'lib/pkg0/f0.js'));
    fs.chmodSync(path.join(workspace, 'lib/pkg1/f1.js'), 0o755);
    const next = await indexed();
    // app.py and new.js have new contents; f1.js a new mode (its ctime moved: read again).
    expect(next.filesRead).toBe(3);
    expect(contents(next)).toEqual(contents(await takeSnapshot(workspace)));
    expect(next.get('lib/pkg1/f1.js')?.executable).toBe(true);
    expect(next.has('lib/pkg0/f0.js')).toBe(false);
  });

  it('is written by a commit on the history thread too (as the runner commits)', async () => {
    for (let i = 0; i < 10; i++) write(`f${i}.txt`, `${i}\n`);
    await sleep(80);
    const snapshot = await indexed();
    await commitJobOffThread({
      workspaceRoot: root,
      projectId,
      workspace,
      job: { id: randomUUID(), jobType: 'edit', instruction: 'x' },
      author,
      snapshot,
    });
    expect(loadStatIndex(gitDir, workspace)?.takenAtNs).toBe(snapshot.takenAtNs);
    expect((await indexed()).filesRead).toBe(0);
  });

  it('is kept in memory for each of many small projects: the next job starts from the very snapshot', async () => {
    const projects = Array.from({ length: 12 }, () => {
      const id = randomUUID();
      const ws = path.join(root, id);
      fs.mkdirSync(ws);
      fs.writeFileSync(path.join(ws, 'app.py'), `print("${id}")\n`);
      return { id, ws, gitDir: projectHistoryDir(root, id) };
    });
    const saved: Snapshot[] = [];
    for (const p of projects) {
      const snapshot = await takeSnapshot(p.ws, { walker: 'find' });
      await commitJob({
        workspaceRoot: root,
        projectId: p.id,
        workspace: p.ws,
        job: { id: randomUUID(), jobType: 'edit', instruction: 'x' },
        author,
        snapshot,
      });
      saved.push(snapshot);
    }
    // Not parsed again from the file: the snapshot the commit saved, with what its walk knew.
    projects.forEach((p, i) => expect(loadStatIndex(p.gitDir, p.ws)).toBe(saved[i]));
  });

  it('a missing, truncated, corrupt or foreign index is no index: every file is read, and the next commit writes a good one', async () => {
    for (let i = 0; i < 20; i++) write(`src/f${i}.txt`, `${i}\n`);
    await sleep(80);
    await commit(await indexed());
    const file = statIndexPath(gitDir);
    const good = fs.readFileSync(file);
    expect((await indexed()).filesRead).toBe(0);

    const flipped = Buffer.from(good);
    flipped[40] = flipped[40]! ^ 1;
    const otherDevice = Buffer.from(
      good.toString('latin1').replace(/^(cwo-stat-index \d+ \d+ )(\d+)/, '$19$2'),
      'latin1',
    );
    for (const bad of [
      good.subarray(0, good.length - 10), // truncated
      flipped, // one bit changed
      Buffer.from('garbage\n'),
      Buffer.alloc(0),
      otherDevice, // checksum wrong too; a foreign device is refused even with a right one below
    ]) {
      fs.writeFileSync(file, bad);
      expect(loadStatIndex(gitDir, workspace)).toBeNull();
      const s = await indexed();
      expect(s.filesRead).toBe(20);
      expect(contents(s)).toEqual(contents(await takeSnapshot(workspace)));
    }
    fs.rmSync(file);
    expect(loadStatIndex(gitDir, workspace)).toBeNull();
    // A directory where the file should be: still no index, and saving it fails quietly.
    fs.mkdirSync(file);
    expect(loadStatIndex(gitDir, workspace)).toBeNull();
    fs.rmdirSync(file);

    // Rebuilt by the next commit.
    await commit(await indexed());
    await sleep(80);
    expect((await indexed()).filesRead).toBe(0);
  });

  it('writes the flag an entry gained since the index before (each entry keeps its record’s bytes)', async () => {
    write('a.txt', 'a\n');
    write('bin/run', '#!/bin/sh\n');
    fs.chmodSync(path.join(workspace, 'bin/run'), 0o755);
    fs.mkdirSync(gitDir, { recursive: true });
    const snapshot = await takeSnapshot(workspace);
    const flagsOf = () =>
      fs
        .readFileSync(statIndexPath(gitDir), 'utf8')
        .split('\0')
        .filter((r) => / (a\.txt|bin\/run)$/.test(r))
        .map((r) => r.slice(0, 2))
        .sort();
    expect(saveStatIndex(gitDir, workspace, snapshot)).toBe(true);
    expect(flagsOf()).toEqual(['--', 'x-']);
    snapshot.get('a.txt')!.stored = true;
    snapshot.get('bin/run')!.stored = true;
    expect(saveStatIndex(gitDir, workspace, snapshot)).toBe(true);
    expect(flagsOf()).toEqual(['-s', 'xs']);
  });

  it('refuses an index recorded on another filesystem, even with a right checksum', async () => {
    write('a.txt', 'a\n');
    const s = await takeSnapshot(workspace);
    fs.mkdirSync(gitDir, { recursive: true });
    expect(saveStatIndex(gitDir, workspace, s)).toBe(true);
    expect(loadStatIndex(gitDir, workspace)?.get('a.txt')?.hash).toBe(s.get('a.txt')?.hash);
    // Another device: the same workspace path on another disk (inode numbers mean nothing there).
    const realStat = fs.statSync;
    const spy = jest.spyOn(fs, 'statSync').mockImplementation((p: fs.PathLike, o?: fs.StatSyncOptions) => {
      const st = realStat(p, { ...o, bigint: true });
      return p === workspace ? { ...st, dev: st.dev + 1n } : st;
    });
    try {
      expect(loadStatIndex(gitDir, workspace)).toBeNull();
    } finally {
      spy.mockRestore();
    }
  });

  it('reads again a file whose stat is unchanged but was recorded within the timestamp granularity (racy)', async () => {
    write('app.py', 'print(1)\n');
    const real = await takeSnapshot(workspace);
    const st = fs.statSync(path.join(workspace, 'app.py'), { bigint: true });
    fs.mkdirSync(gitDir, { recursive: true });
    // An index whose entry matches the file's stat exactly but names other contents: what it would
    // say had the file been changed again, within the same clock tick, after it was hashed.
    const recordedAt = (takenAtNs: bigint) => {
      const index: Snapshot = new Map([['app.py', { ...real.get('app.py')!, hash: 'f'.repeat(40) }]]);
      index.takenAtNs = takenAtNs;
      saveStatIndex(gitDir, workspace, index);
    };
    const newest = st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs;

    // Recorded 1 ms after the file's last change, within the 2 s the runner allows for a tick.
    recordedAt(newest + 1_000_000n);
    const racy = await takeSnapshot(workspace, { previous: loadStatIndex(gitDir, workspace) });
    expect(racy.filesRead).toBe(1);
    expect(racy.get('app.py')?.hash).toBe(real.get('app.py')?.hash);

    // Recorded well after it: trusted (which is why the entry above had to be read).
    recordedAt(newest + 3_000_000_000n);
    const settled = await takeSnapshot(workspace, { previous: loadStatIndex(gitDir, workspace) });
    expect(settled.filesRead).toBe(0);
    expect(settled.get('app.py')?.hash).toBe('f'.repeat(40));
  });

  it('a commit after a one-file edit builds only the trees on its path, as git would build them', async () => {
    for (let i = 0; i < 40; i++) write(`lib/pkg${i % 4}/f${i}.js`, `module.exports = ${i};\n`);
    write('app.py', 'print(1)\n');
    await sleep(80);
    await commit(await indexed());
    await sleep(80);
    const objects = () =>
      new Set(execFileSync('find', [path.join(gitDir, 'objects'), '-type', 'f'], { encoding: 'utf8' }).split('\n'));
    for (const [rel, viaThread] of [
      ['lib/pkg2/f2.js', false],
      ['app.py', true],
    ] as const) {
      write(rel, `changed ${rel}\n`);
      const before = objects();
      const sha = await (viaThread ? commitOnThread(await indexed()) : commit(await indexed()));
      const added = [...objects()].filter((o) => !before.has(o));
      // One blob, the trees from the file's directory up, the commit.
      expect(added).toHaveLength(1 + rel.split('/').length + 1);
      // git's own tree of the workspace, from an empty index.
      const env = {
        PATH: process.env.PATH,
        GIT_CONFIG_NOSYSTEM: '1',
        HOME: '/nonexistent',
        GIT_INDEX_FILE: path.join(root, 'index'),
      };
      const g = (...args: string[]) =>
        execFileSync('git', [`--git-dir=${gitDir}`, `--work-tree=${workspace}`, ...args], {
          encoding: 'utf8',
          env,
        }).trim();
      fs.rmSync(env.GIT_INDEX_FILE, { force: true });
      g('add', '-A');
      expect(g('rev-parse', `${sha}^{tree}`)).toBe(g('write-tree'));
      await sleep(80);
    }
  });

  it('gives the same snapshots and commits as no index, whatever is done to the files between jobs (property)', async () => {
    const names = ['a.txt', 'b.txt', 'lib/c.js', 'lib/deep/d.js', 'e.bin'];
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('write' as const),
        name: fc.constantFrom(...names),
        text: fc.constantFrom('one', 'two', 'six', 'longer text'),
      }),
      fc.record({
        kind: fc.constant('replace' as const),
        name: fc.constantFrom(...names),
        text: fc.constantFrom('one', 'two'),
      }),
      fc.record({ kind: fc.constant('remove' as const), name: fc.constantFrom(...names) }),
      // A directory keeps its count of entries: only their names tell (its tree is not the recorded one).
      fc.record({
        kind: fc.constant('move' as const),
        name: fc.constantFrom(...names),
        to: fc.constantFrom(...names, 'lib/moved.js', 'lib/deep/moved.js'),
      }),
      fc.record({
        kind: fc.constant('chmod' as const),
        name: fc.constantFrom(...names),
        mode: fc.constantFrom(0o644, 0o755),
      }),
      fc.record({ kind: fc.constant('wait' as const) }),
    );
    const job = fc.record({ ops: fc.array(op, { maxLength: 6 }), commit: fc.boolean(), onThread: fc.boolean() });

    await fc.assert(
      fc.asyncProperty(fc.array(job, { minLength: 1, maxLength: 5 }), async (jobs) => {
        fs.rmSync(workspace, { recursive: true, force: true });
        fs.rmSync(gitDir, { recursive: true, force: true });
        fs.mkdirSync(workspace);
        for (const { ops, commit: commits, onThread } of jobs) {
          for (const o of ops) {
            const abs = path.join(workspace, 'name' in o ? o.name : '');
            if (o.kind === 'write') write(o.name, o.text);
            else if (o.kind === 'replace') {
              // Same size, new inode (an editor's save): only the inode tells.
              write(`${o.name}.tmp`, o.text);
              fs.renameSync(`${abs}.tmp`, abs);
            } else if (o.kind === 'remove') fs.rmSync(abs, { force: true });
            else if (o.kind === 'move') {
              if (fs.existsSync(abs)) {
                fs.mkdirSync(path.dirname(path.join(workspace, o.to)), { recursive: true });
                fs.renameSync(abs, path.join(workspace, o.to));
              }
            } else if (o.kind === 'chmod') {
              if (fs.existsSync(abs)) fs.chmodSync(abs, o.mode);
            } else await sleep(60);
          }
          const withIndex = await indexed();
          // The other walk (the index's by find, this one in JS): the same files, the same trees.
          const without = await takeSnapshot(workspace, { walker: 'js' });
          expect(contents(withIndex)).toEqual(contents(without));
          // The check against the history: the recorded trees of unchanged directories stand in.
          expect(await snapshotTreeId(workspace, withIndex, ['.codex'])).toBe(
            await snapshotTreeId(workspace, without, ['.codex']),
          );
          if (commits && without.size > 0) {
            await (onThread ? commitOnThread(withIndex) : commit(withIndex));
            const tree = gitTree(gitDir);
            expect(tree).toEqual(
              Object.fromEntries(
                [...without].map(([rel, e]) => [rel, `${e.executable ? '100755' : '100644'} ${e.hash}`]),
              ),
            );
          }
        }
        if (fs.existsSync(path.join(gitDir, 'HEAD')))
          execFileSync('git', [`--git-dir=${gitDir}`, 'fsck', '--strict', '--no-dangling'], {
            env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', HOME: '/nonexistent' },
            stdio: 'pipe',
          });
      }),
      { numRuns: 30 },
    );
  }, 120_000);
});
