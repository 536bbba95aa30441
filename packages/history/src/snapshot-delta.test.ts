import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { snapshotTreeId } from './history-tree';
import { takeSnapshot, type Snapshot, type SnapshotOptions } from './snapshot';

// A walk by find after one by find parses only the records of find's output that differ from the
// walk before's (walkDelta in snapshot.ts). It must give the very snapshot the full parse gives:
// the same entries, directories, trees and files read, whatever happened in between.

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

  it('parses only what changed, keeps the other entries, and reads again those too recent to trust', async () => {
    for (let d = 0; d < 20; d++) {
      fs.mkdirSync(path.join(ws, 'lib', `pkg${d}`), { recursive: true });
      for (let f = 0; f < 50; f++) fs.writeFileSync(path.join(ws, 'lib', `pkg${d}`, `m${f}.js`), `// ${d} ${f}\n`);
    }
    fs.writeFileSync(path.join(ws, 'app.py'), 'print(1)\n');
    const trusted: SnapshotOptions = { walker: 'find', settledNs: -60_000_000_000n };
    const first = await takeSnapshot(ws, trusted);
    expect(first.recordsParsed).toBe(1022);

    // Nothing changed: nothing parsed, nothing read, the very entries.
    const same = await takeSnapshot(ws, { ...trusted, previous: first });
    expect([same.recordsParsed, same.filesRead, same.size]).toEqual([0, 0, 1001]);
    expect(same.get('lib/pkg3/m7.js')).toBe(first.get('lib/pkg3/m7.js'));

    // One line appended, one file created beside another and one removed: those records only.
    fs.appendFileSync(path.join(ws, 'app.py'), '# edit\n');
    fs.writeFileSync(path.join(ws, 'lib', 'pkg5', 'new.js'), 'new\n');
    fs.rmSync(path.join(ws, 'lib', 'pkg9', 'm0.js'));
    const edited = await takeSnapshot(ws, { ...trusted, previous: same });
    expect(edited.recordsParsed).toBeLessThan(20);
    expect(edited.filesRead).toBe(2);
    expect([edited.has('lib/pkg5/new.js'), edited.has('lib/pkg9/m0.js'), edited.size]).toEqual([true, false, 1001]);
    expect(edited.get('app.py')!.hash).not.toBe(same.get('app.py')!.hash);
    expect(edited.dirs!.get('lib/pkg9')!.count).toBe(49);
    expect(edited.dirs!.get('lib/pkg9')!.oid).toBeUndefined();

    // Stats too recent to trust (here: all of the last hour's) are read again although find
    // printed the very same ones.
    const racy = await takeSnapshot(ws, { walker: 'find', previous: edited, settledNs: 3_600_000_000_000n });
    expect([racy.recordsParsed, racy.filesRead]).toEqual([0, 1001]);
  });

  it('parses everything again when a directory came, a .gitignore changed or the walk before was not by find', async () => {
    fs.writeFileSync(path.join(ws, 'a.js'), 'a\n');
    fs.writeFileSync(path.join(ws, 'b.log'), 'b\n');
    const trusted: SnapshotOptions = { walker: 'find', settledNs: -60_000_000_000n };
    const first = await takeSnapshot(ws, trusted);
    fs.mkdirSync(path.join(ws, 'src'));
    fs.writeFileSync(path.join(ws, 'src', 'c.js'), 'c\n');
    const withDir = await takeSnapshot(ws, { ...trusted, previous: first });
    expect(withDir.recordsParsed).toBe(4);
    fs.writeFileSync(path.join(ws, '.gitignore'), '*.log\n');
    const ignoring = await takeSnapshot(ws, { ...trusted, previous: withDir });
    expect(ignoring.recordsParsed).toBe(5);
    expect(ignoring.has('b.log')).toBe(false);
    const inJs = await takeSnapshot(ws, { ...trusted, walker: 'js', previous: ignoring });
    const afterJs = await takeSnapshot(ws, { ...trusted, previous: inJs });
    expect(afterJs.recordsParsed).toBe(5);
  });
});
