import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { findArgs, findRecords } from './find-walk';
import { chooseSplit, splitFindRecords, splittable } from './find-split';
import { takeSnapshot, type Snapshot } from './snapshot';

// A walk split over two finds must print what one find prints, record for record and in the same
// order, whichever directories the second walks; when a split directory is gone or no longer a
// directory, it fails (the snapshot then walks with one find) rather than give other records.

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-split-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const ARGS = findArgs({ exclude: ['.codex'], prune: ['node_modules'] });
const MAX = 1_000_000;

/** Every directory under `root` (workspace-relative), as find would enter them. */
function dirsOf(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const sub = rel ? `${rel}/${e.name}` : e.name;
    out.push(sub, ...dirsOf(root, sub));
  }
  return out;
}

/** A tree with nested directories, odd names, symlinks, pruned and excluded names. */
function oddTree(root: string) {
  const files = [
    'top.txt',
    'a/one',
    'a/b/two words',
    'a/b/c/deep',
    'a/b/new\nline',
    '-dash/x',
    '(paren/y',
    'sp ace/z z',
    'star*[x]/q',
    'e/f/g/h',
    'e/f/i',
    'e/j',
    'node_modules/m/index.js',
    '.codex/log',
    'a/.git/HEAD',
    'ünï/ç',
  ];
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), f);
  }
  fs.mkdirSync(path.join(root, 'empty/inner'), { recursive: true });
  fs.symlinkSync('../a', path.join(root, 'e/link-to-a'));
  fs.symlinkSync('/nowhere', path.join(root, 'a/b/dangling'));
}

/** Disjoint, splittable directories picked by `pick` (one flag per directory, in walk order). */
function disjoint(all: string[], pick: boolean[]): string[] {
  const chosen: string[] = [];
  all.forEach((d, i) => {
    if (!pick[i] || !splittable(d) || chosen.some((c) => d.startsWith(`${c}/`) || c.startsWith(`${d}/`))) return;
    if (d.split('/').some((n) => ['node_modules', '.git'].includes(n)) || d === '.codex') return;
    chosen.push(d);
  });
  return chosen;
}

describe('splitFindRecords', () => {
  it('prints what one find prints, whichever directories the second walks', async () => {
    const root = path.join(tmp, 'odd');
    oddTree(root);
    const one = await findRecords(root, ARGS, MAX);
    expect(one).not.toBeNull();
    const all = dirsOf(root);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: all.length, maxLength: all.length }), async (pick) => {
        const split = disjoint(all, pick);
        fc.pre(split.length > 0);
        expect(await splitFindRecords(root, ARGS, split, MAX)).toEqual(one);
      }),
      { numRuns: 60 },
    );
  });

  it('fails when a split directory is gone, or is a file or a symlink now', async () => {
    const root = path.join(tmp, 'raced');
    oddTree(root);
    expect(await splitFindRecords(root, ARGS, ['e/f', 'a/b'], MAX)).toEqual(await findRecords(root, ARGS, MAX));
    fs.rmSync(path.join(root, 'e/f'), { recursive: true });
    expect(await splitFindRecords(root, ARGS, ['e/f', 'a/b'], MAX)).toBeNull();
    fs.writeFileSync(path.join(root, 'e/f'), 'now a file');
    expect(await splitFindRecords(root, ARGS, ['e/f', 'a/b'], MAX)).toBeNull();
    fs.rmSync(path.join(root, 'e/f'));
    fs.symlinkSync('../a', path.join(root, 'e/f'));
    expect(await splitFindRecords(root, ARGS, ['e/f', 'a/b'], MAX)).toBeNull();
  });
});

describe('chooseSplit', () => {
  it('picks disjoint usable directories holding about half the entries', () => {
    const dirs = new Map([
      ['', { count: 1000 }],
      ['lib', { count: 990 }],
      ['-x', { count: 10 }],
    ]);
    for (let i = 0; i < 99; i++) dirs.set(`lib/p${i}`, { count: 10 });
    const chosen = chooseSplit(dirs, splittable)!;
    const n = chosen.reduce((sum, d) => sum + dirs.get(d)!.count, 0);
    expect(n).toBeGreaterThan(450);
    expect(n).toBeLessThanOrEqual(500);
    expect(chosen.every((d) => d.startsWith('lib/'))).toBe(true);
    expect(chooseSplit(new Map([['', { count: 1000 }]]), splittable)).toBeNull();
  });
});

describe('takeSnapshot of a large workspace (split over two finds)', () => {
  const contents = (s: Snapshot) => ({
    entries: [...s].map(([rel, e]) => [rel, e.kind, e.hash, e.executable] as const).sort(),
    dirs: [...(s.dirs ?? [])].map(([rel, d]) => [rel, d.count] as const).sort(),
  });

  it('gives the snapshot one find gives, also when a split directory was removed or replaced since', async () => {
    const root = path.join(tmp, 'large');
    for (let p = 0; p < 90; p++) {
      fs.mkdirSync(path.join(root, `lib/p${p}`), { recursive: true });
      for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(root, `lib/p${p}/f${f}`), `${p} ${f}`);
    }
    oddTree(root);
    const first = await takeSnapshot(root, { walker: 'find' });
    const split = chooseSplit(first.dirs!, splittable)!;
    expect(split.length).toBeGreaterThan(0);
    const same = async () => {
      const viaSplit = await takeSnapshot(root, { previous: first });
      const viaOne = await takeSnapshot(root, { walker: 'find' });
      expect(viaSplit.walker).toBe('find');
      expect(contents(viaSplit)).toEqual(contents(viaOne));
    };
    await same();
    fs.appendFileSync(path.join(root, `${split[0]}/f1`), 'edit');
    await same();
    fs.rmSync(path.join(root, split[1]!), { recursive: true });
    await same();
    fs.writeFileSync(path.join(root, split[1]!), 'a file now');
    await same();
  });
});
