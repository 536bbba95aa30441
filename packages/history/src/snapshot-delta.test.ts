import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { snapshotTreeId } from './history-tree';
import { takeSnapshot, type Snapshot, type SnapshotOptions } from './snapshot';

// A walk by find after one by find has find print only the directories, links and files changed
// since the walk before (walkSince in snapshot.ts). It must give the very snapshot the full walk
// gives: the same entries, directories, trees and files read, whatever happened in between.

const IGNORE = ['node_modules/'];
const EXCLUDE = ['.codex'];

/** What two snapshots must agree on (entry objects differ where a file was hashed again). */
function contents(s: Snapshot) {
  return {
    entries: [...s].map(([rel, e]) => [rel, e.kind, e.size, e.hash, e.executable, e.stat] as const).sort(),
    dirs: [...(s.dirs ?? [])].map(([rel, d]) => [rel, d.count, d.oid ?? null] as const).sort(),
    filesRead: s.filesRead,
  };
}

type Op =
  | { op: 'write' | 'append'; file: string; text: string }
  | { op: 'rm' | 'rmdir' | 'mkdir' | 'chmod'; file: string }
  | { op: 'link'; file: string; target: string }
  | { op: 'rename'; file: string; to: string }
  | { op: 'gitignore'; dir: string; text: string };

const dirs = ['', 'a', 'a/b', 'c', 'node_modules', 'build', 'a/build'];
const names = ['x.js', 'y.log', 'keep.log', 'z'];
const fileArb = fc.tuple(fc.constantFrom(...dirs), fc.constantFrom(...names)).map(([d, n]) => (d ? `${d}/${n}` : n));
const textArb = fc.constantFrom('', 'one\n', 'two\n', 'three lines\n\n\n', 'x'.repeat(5000));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('write' as const), file: fileArb, text: textArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('append' as const), file: fileArb, text: textArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('rm' as const), file: fileArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rmdir' as const), file: fc.constantFrom(...dirs.slice(1)) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('mkdir' as const), file: fc.constantFrom(...dirs.slice(1)) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('chmod' as const), file: fileArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('link' as const),
      file: fileArb,
      target: fc.constantFrom('x.js', '../a', '/etc'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rename' as const), file: fileArb, to: fileArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('gitignore' as const),
      dir: fc.constantFrom('', 'a', 'c'),
      text: fc.constantFrom('build/\n', '*.log\n!keep.log\n', '!node_modules/\n', ''),
    }),
  },
);

function apply(ws: string, o: Op): void {
  const abs = (rel: string) => path.join(ws, rel);
  const parentOf = (rel: string) => fs.mkdirSync(path.dirname(abs(rel)), { recursive: true });
  try {
    switch (o.op) {
      case 'write':
        parentOf(o.file);
        fs.rmSync(abs(o.file), { recursive: true, force: true });
        fs.writeFileSync(abs(o.file), o.text);
        break;
      case 'append':
        if (fs.lstatSync(abs(o.file), { throwIfNoEntry: false })?.isFile()) fs.appendFileSync(abs(o.file), o.text);
        break;
      case 'rm':
        fs.rmSync(abs(o.file), { force: true });
        break;
      case 'rmdir':
        fs.rmSync(abs(o.file), { recursive: true, force: true });
        break;
      case 'mkdir':
        fs.mkdirSync(abs(o.file), { recursive: true });
        break;
      case 'chmod': {
        const st = fs.lstatSync(abs(o.file), { throwIfNoEntry: false });
        if (st?.isFile()) fs.chmodSync(abs(o.file), st.mode & 0o100 ? 0o644 : 0o755);
        break;
      }
      case 'link':
        parentOf(o.file);
        fs.rmSync(abs(o.file), { recursive: true, force: true });
        fs.symlinkSync(o.target, abs(o.file));
        break;
      case 'rename':
        if (!fs.lstatSync(abs(o.file), { throwIfNoEntry: false })?.isFile()) break;
        parentOf(o.to);
        fs.rmSync(abs(o.to), { recursive: true, force: true });
        fs.renameSync(abs(o.file), abs(o.to));
        break;
      case 'gitignore':
        fs.mkdirSync(abs(o.dir), { recursive: true });
        fs.writeFileSync(path.join(abs(o.dir), '.gitignore'), o.text);
        break;
    }
  } catch (err) {
    // A path through a file or a link (a/b under a file a): not a workspace this op can make.
    if (!['ENOTDIR', 'EEXIST', 'EISDIR', 'ENOENT'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
}

describe('a walk by find after one by find', () => {
  let ws: string;
  beforeEach(() => {
    ws = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-delta-'));
  });
  afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

  it('gives the snapshot the full parse gives, whatever changed in between (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { maxLength: 6 }),
        fc.array(fc.array(opArb, { maxLength: 4 }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        async (setup, steps, trust) => {
          fs.rmSync(ws, { recursive: true, force: true });
          fs.mkdirSync(ws);
          fs.mkdirSync(path.join(ws, '.codex'));
          for (const o of setup) apply(ws, o);
          // Trusted: every stat counts as settled; otherwise every one is too recent and is read again.
          const opts: SnapshotOptions = {
            ignore: IGNORE,
            walker: 'find',
            settledNs: trust ? -60_000_000_000n : undefined,
          };
          let previous = await takeSnapshot(ws, opts);
          await snapshotTreeId(ws, previous, EXCLUDE, IGNORE);
          for (const ops of steps) {
            for (const o of ops) apply(ws, o);
            fs.writeFileSync(path.join(ws, '.codex', 'result.json'), String(Math.random()));
            const delta = await takeSnapshot(ws, { ...opts, previous });
            const full = await takeSnapshot(ws, { ...opts, previous, incremental: false });
            expect(contents(delta)).toEqual(contents(full));
            const tree = await snapshotTreeId(ws, delta, EXCLUDE, IGNORE);
            expect(await snapshotTreeId(ws, full, EXCLUDE, IGNORE)).toBe(tree);
            // Read again, every file has what the snapshot says it has.
            if (!trust) expect(await snapshotTreeId(ws, await takeSnapshot(ws, opts), EXCLUDE, IGNORE)).toBe(tree);
            previous = delta;
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);

  it('with the files settled, gives the snapshot the full parse gives, whatever changed in between (property)', async () => {
    // Older than the walk before's start less the timestamps' coarseness: find no longer prints
    // the files of the setup, and the next walk takes them over from it (only changed directories
    // are listed again). ctime cannot be set back, so each run waits for it.
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 2, maxLength: 8 }),
        fc.array(fc.array(opArb, { maxLength: 4 }), { minLength: 1, maxLength: 3 }),
        async (setup, steps) => {
          fs.rmSync(ws, { recursive: true, force: true });
          fs.mkdirSync(ws);
          fs.mkdirSync(path.join(ws, '.codex'));
          for (const d of ['a/b', 'c']) fs.mkdirSync(path.join(ws, d), { recursive: true });
          // kept/ is no op's: its entries are always taken over.
          fs.mkdirSync(path.join(ws, 'kept'));
          for (const f of ['a/x.js', 'a/b/z', 'c/y.log', 'x.js', 'kept/one.js', 'kept/two.log']) {
            fs.writeFileSync(path.join(ws, f), f);
          }
          for (const o of setup) apply(ws, o);
          await new Promise((r) => setTimeout(r, 2_100));
          const opts: SnapshotOptions = { ignore: IGNORE, walker: 'find' };
          let previous = await takeSnapshot(ws, opts);
          await snapshotTreeId(ws, previous, EXCLUDE, IGNORE);
          let carried = 0;
          for (const ops of steps) {
            for (const o of ops) apply(ws, o);
            const since = await takeSnapshot(ws, { ...opts, previous });
            const full = await takeSnapshot(ws, { ...opts, previous, incremental: false });
            expect(contents(since)).toEqual(contents(full));
            const tree = await snapshotTreeId(ws, since, EXCLUDE, IGNORE);
            expect(await snapshotTreeId(ws, full, EXCLUDE, IGNORE)).toBe(tree);
            expect(await snapshotTreeId(ws, await takeSnapshot(ws, opts), EXCLUDE, IGNORE)).toBe(tree);
            carried = Math.max(carried, since.carried ?? 0);
            previous = since;
          }
          // What this test is for: entries taken over unprinted (a .gitignore changed: a full walk).
          if (!steps.flat().some((o) => o.op === 'gitignore')) expect(carried).toBeGreaterThanOrEqual(1);
        },
      ),
      // Each run waits 2 s: a failure is reported as found, not shrunk.
      { numRuns: 6, endOnFailure: true },
    );
  }, 120_000);

  it('prints only the directories and what changed, keeps the other entries, and reads again those too recent to trust', async () => {
    for (let d = 0; d < 20; d++) {
      fs.mkdirSync(path.join(ws, 'lib', `pkg${d}`), { recursive: true });
      for (let f = 0; f < 50; f++) fs.writeFileSync(path.join(ws, 'lib', `pkg${d}`, `m${f}.js`), `// ${d} ${f}\n`);
    }
    fs.writeFileSync(path.join(ws, 'app.py'), 'print(1)\n');
    await new Promise((r) => setTimeout(r, 2_100));
    const first = await takeSnapshot(ws, { walker: 'find' });
    expect([first.recordsParsed, first.filesRead]).toEqual([1022, 1001]);

    // Nothing changed: only the 21 directories printed, nothing read, the very entries.
    const same = await takeSnapshot(ws, { walker: 'find', previous: first });
    expect([same.recordsParsed, same.carried, same.filesRead, same.size]).toEqual([21, 1001, 0, 1001]);
    expect(same.get('lib/pkg3/m7.js')).toBe(first.get('lib/pkg3/m7.js'));

    // One line appended, one file created beside another and one removed: the directories, app.py
    // and new.js printed; pkg5 and pkg9 listed again.
    fs.appendFileSync(path.join(ws, 'app.py'), '# edit\n');
    fs.writeFileSync(path.join(ws, 'lib', 'pkg5', 'new.js'), 'new\n');
    fs.rmSync(path.join(ws, 'lib', 'pkg9', 'm0.js'));
    const edited = await takeSnapshot(ws, { walker: 'find', previous: same });
    expect(edited.recordsParsed).toBe(23);
    expect(edited.filesRead).toBe(2);
    expect([edited.has('lib/pkg5/new.js'), edited.has('lib/pkg9/m0.js'), edited.size]).toEqual([true, false, 1001]);
    expect(edited.get('app.py')!.hash).not.toBe(same.get('app.py')!.hash);
    expect(edited.get('lib/pkg5/m7.js')).toBe(first.get('lib/pkg5/m7.js'));
    expect(edited.dirs!.get('lib/pkg9')!.count).toBe(49);
    expect(edited.dirs!.get('lib/pkg9')!.oid).toBeUndefined();

    // Stats too recent to trust (here: all of the last hour's) are printed and read again.
    const racy = await takeSnapshot(ws, { walker: 'find', previous: edited, settledNs: 3_600_000_000_000n });
    expect([racy.recordsParsed, racy.carried, racy.filesRead]).toEqual([1022, 0, 1001]);
  });

  it('sees what came with old timestamps: a file or a folder moved in, a file whose mtime was set back', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-delta-out-'));
    try {
      fs.mkdirSync(path.join(ws, 'lib', 'pkg'), { recursive: true });
      fs.writeFileSync(path.join(ws, 'lib', 'pkg', 'a.js'), 'a\n');
      fs.writeFileSync(path.join(ws, 'lib', 'pkg', 'b.js'), 'b\n');
      fs.mkdirSync(path.join(outside, 'moved', 'deep'), { recursive: true });
      fs.writeFileSync(path.join(outside, 'moved', 'deep', 'm.js'), 'moved\n');
      fs.writeFileSync(path.join(outside, 'single.js'), 'single\n');
      await new Promise((r) => setTimeout(r, 2_100));
      const first = await takeSnapshot(ws, { walker: 'find' });
      const a = path.join(ws, 'lib', 'pkg', 'a.js');
      const { atime, mtime } = fs.statSync(a);
      fs.writeFileSync(a, 'A\n'); // the same size, the mtime set back: only ctime tells
      fs.utimesSync(a, atime, mtime);
      fs.renameSync(path.join(outside, 'moved'), path.join(ws, 'lib', 'moved'));
      fs.renameSync(path.join(outside, 'single.js'), path.join(ws, 'lib', 'pkg', 'single.js'));
      const next = await takeSnapshot(ws, { walker: 'find', previous: first });
      const full = await takeSnapshot(ws, { walker: 'find', previous: first, incremental: false });
      expect(contents(next)).toEqual(contents(full));
      expect([...next.keys()].sort()).toEqual([
        'lib/moved/deep/m.js',
        'lib/pkg/a.js',
        'lib/pkg/b.js',
        'lib/pkg/single.js',
      ]);
      expect(next.get('lib/pkg/a.js')!.hash).not.toBe(first.get('lib/pkg/a.js')!.hash);
      expect(next.get('lib/pkg/b.js')).toBe(first.get('lib/pkg/b.js'));
      expect(next.dirs!.get('lib')!.count).toBe(4);

      fs.rmSync(path.join(ws, 'lib', 'moved'), { recursive: true });
      const removed = await takeSnapshot(ws, { walker: 'find', previous: next });
      expect([...removed.keys()].sort()).toEqual(['lib/pkg/a.js', 'lib/pkg/b.js', 'lib/pkg/single.js']);
      expect([removed.dirs!.has('lib/moved'), removed.dirs!.get('lib')!.count]).toEqual([false, 3]);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it("compares file times with the workspace filesystem's clock, not this host's", async () => {
    // This host's clock 10 s fast (or a file server's slow): by it, a change made now would be
    // older than the walk before's start less 2 s, and find would not print it.
    const fast = () => BigInt(Date.now() + 10_000) * 1_000_000n;
    fs.mkdirSync(path.join(ws, '.codex'));
    fs.mkdirSync(path.join(ws, 'lib'));
    fs.writeFileSync(path.join(ws, 'lib', 'a.js'), 'a\n');
    fs.writeFileSync(path.join(ws, 'lib', 'b.js'), 'b\n');
    await new Promise((r) => setTimeout(r, 2_100));
    const first = await takeSnapshot(ws, { walker: 'find', now: fast });
    fs.writeFileSync(path.join(ws, 'lib', 'a.js'), 'A\n');
    const next = await takeSnapshot(ws, { walker: 'find', previous: first, now: fast });
    expect(next.carried).toBe(1);
    expect(next.get('lib/a.js')!.hash).not.toBe(first.get('lib/a.js')!.hash);
    expect(next.get('lib/b.js')).toBe(first.get('lib/b.js'));
  });

  it('walks in full again when a .gitignore changed or the walk before was not by find', async () => {
    fs.mkdirSync(path.join(ws, 'lib'));
    fs.writeFileSync(path.join(ws, 'lib', 'a.js'), 'a\n');
    fs.writeFileSync(path.join(ws, 'lib', 'b.log'), 'b\n');
    await new Promise((r) => setTimeout(r, 2_100));
    const first = await takeSnapshot(ws, { walker: 'find' });
    // A directory that came: listed, the others' entries taken over.
    fs.mkdirSync(path.join(ws, 'src'));
    fs.writeFileSync(path.join(ws, 'src', 'c.js'), 'c\n');
    const withDir = await takeSnapshot(ws, { walker: 'find', previous: first });
    expect([withDir.carried, withDir.size]).toEqual([2, 3]);
    fs.writeFileSync(path.join(ws, '.gitignore'), '*.log\n');
    const ignoring = await takeSnapshot(ws, { walker: 'find', previous: withDir });
    expect([ignoring.carried, ignoring.has('lib/b.log'), ignoring.size]).toEqual([undefined, false, 3]);
    const inJs = await takeSnapshot(ws, { walker: 'js', previous: ignoring });
    const afterJs = await takeSnapshot(ws, { walker: 'find', previous: inJs });
    expect([afterJs.carried, afterJs.size]).toEqual([undefined, 3]);
    // The rules of a .gitignore written this last second are not trusted to stay: in full again.
    const afterFind = await takeSnapshot(ws, { walker: 'find', previous: afterJs });
    expect([afterFind.carried, afterFind.size]).toEqual([undefined, 3]);
  });
});
