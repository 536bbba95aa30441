import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listWorkspaceFiles } from './list';
import { forgetListings, listingWalks } from './listing-cache';

// A listing by find after one by find of the same workspace has find print only what changed
// (listing-cache.ts): it must list what a full walk lists, whatever changed in between.

const settle = () => new Promise((r) => setTimeout(r, 2_100));

describe('a listing after a listing by find', () => {
  let root: string;
  let ws: string;
  let outside: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-listing-'));
    ws = path.join(root, 'ws');
    outside = path.join(root, 'outside');
    fs.mkdirSync(outside);
    for (let d = 0; d < 5; d++) {
      fs.mkdirSync(path.join(ws, 'lib', `pkg${d}`), { recursive: true });
      for (let f = 0; f < 20; f++) fs.writeFileSync(path.join(ws, 'lib', `pkg${d}`, `m${f}.js`), `// ${d} ${f}\n`);
    }
    fs.writeFileSync(path.join(ws, 'app.py'), 'print(1)\n');
    fs.symlinkSync('app.py', path.join(ws, 'link.py'));
    fs.mkdirSync(path.join(outside, 'moved'));
    fs.writeFileSync(path.join(outside, 'moved', 'old.js'), 'old\n');
    fs.writeFileSync(path.join(outside, 'single.js'), 'single\n');
    forgetListings();
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const byFind = () => listWorkspaceFiles(ws, { walker: 'find' });
  const inJs = () => listWorkspaceFiles(ws, { walker: 'js' });

  it('lists from the last listing when only files changed, and walks in full when a directory did', async () => {
    await settle();
    const first = await byFind();
    expect(first).toEqual(await inJs());
    expect(first).toHaveLength(102);

    // Nothing changed, then a file grew: from the last listing, with the new size.
    const walks = { ...listingWalks };
    expect(await byFind()).toEqual(first);
    fs.appendFileSync(path.join(ws, 'lib', 'pkg2', 'm3.js'), 'more\n');
    fs.writeFileSync(path.join(ws, 'app.py'), 'print("a longer line")\n');
    const grown = await byFind();
    expect(listingWalks.since - walks.since).toBe(2);
    expect(grown).toEqual(await inJs());
    expect(grown.find((f) => f.path === 'lib/pkg2/m3.js')!.size).toBe('// 2 3\nmore\n'.length);
    expect(grown.find((f) => f.path === 'link.py')!.size).toBe('print("a longer line")\n'.length);

    // Each of these changes a directory, so the walk is a full one, and lists what is there: an
    // entry gone, a folder moved in with its old timestamps, a file moved in, one renamed.
    const steps: Array<[string, () => void, (paths: string[]) => void]> = [
      [
        'a file removed',
        () => fs.rmSync(path.join(ws, 'lib', 'pkg4', 'm0.js')),
        (paths) => expect(paths).not.toContain('lib/pkg4/m0.js'),
      ],
      [
        'a folder moved in',
        () => fs.renameSync(path.join(outside, 'moved'), path.join(ws, 'lib', 'moved')),
        (paths) => expect(paths).toContain('lib/moved/old.js'),
      ],
      [
        'a file moved in',
        () => fs.renameSync(path.join(outside, 'single.js'), path.join(ws, 'lib', 'pkg0', 'single.js')),
        (paths) => expect(paths).toContain('lib/pkg0/single.js'),
      ],
      [
        'a file renamed',
        () => fs.renameSync(path.join(ws, 'lib', 'pkg1', 'm1.js'), path.join(ws, 'lib', 'pkg1', 'renamed.js')),
        (paths) => expect(paths).toEqual(expect.arrayContaining(['lib/pkg1/renamed.js'])),
      ],
    ];
    for (const [what, change, check] of steps) {
      change();
      const full = listingWalks.full;
      const listed = await byFind();
      expect([what, listingWalks.full - full]).toEqual([what, 1]);
      expect(listed).toEqual(await inJs());
      check(listed.map((f) => f.path));
    }
  });

  it('sees a size changed with the mtime set back (only ctime tells)', async () => {
    await settle();
    await byFind();
    const file = path.join(ws, 'lib', 'pkg3', 'm5.js');
    const { atime, mtime } = fs.statSync(file);
    fs.writeFileSync(file, 'a different, longer content\n');
    fs.utimesSync(file, atime, mtime);
    const since = listingWalks.since;
    const listed = await byFind();
    expect(listingWalks.since - since).toBe(1);
    expect(listed.find((f) => f.path === 'lib/pkg3/m5.js')!.size).toBe('a different, longer content\n'.length);
    expect(listed).toEqual(await inJs());
  });
});

describe('a large listing split over two finds', () => {
  let root: string;
  let ws: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-split-'));
    ws = path.join(root, 'ws');
    // 5,000 files in nested folders, with names find's patterns and command line treat specially.
    for (let d = 0; d < 50; d++) {
      const dir = path.join(ws, 'src', d % 2 ? `pkg[${d}]*` : `pkg${d}`, 'lib');
      fs.mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(dir, `m${f}.js`), `// ${d} ${f}\n`);
    }
    fs.mkdirSync(path.join(ws, '-dash'));
    fs.writeFileSync(path.join(ws, '-dash', 'x.txt'), 'x');
    fs.writeFileSync(path.join(ws, '.hidden'), 'h');
    fs.symlinkSync('../pkg0/lib/m1.js', path.join(ws, 'src', 'pkg2', 'linked.js'));
    forgetListings();
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const byFind = () => listWorkspaceFiles(ws, { walker: 'find' });
  const inJs = () => listWorkspaceFiles(ws, { walker: 'js' });
  const afterTheAnswer = () => new Promise((r) => setImmediate(r));

  it('lists exactly what one walk lists, in full and from the last listing', async () => {
    const one = await byFind();
    expect(one).toEqual(await inJs());
    expect(one).toHaveLength(5003);
    await afterTheAnswer();
    const walks = { ...listingWalks };
    expect(await byFind()).toEqual(one); // a full walk (the tree is new), split
    expect(listingWalks.split - walks.split).toBe(1);
    await settle();
    await byFind();
    await afterTheAnswer();
    fs.appendFileSync(path.join(ws, 'src', 'pkg[1]*', 'lib', 'm3.js'), 'more\n');
    fs.appendFileSync(path.join(ws, 'src', 'pkg0', 'lib', 'm4.js'), 'more\n');
    const since = { ...listingWalks };
    const grown = await byFind();
    expect(listingWalks.since - since.since).toBe(1);
    expect(listingWalks.split - since.split).toBe(1);
    expect(grown).toEqual(await inJs());
  });

  it('lists what is there when a directory of the split is replaced by a link to a file', async () => {
    await byFind();
    await afterTheAnswer();
    const walks = { ...listingWalks };
    await byFind();
    expect(listingWalks.split - walks.split).toBe(1);
    await afterTheAnswer();
    // Whichever directories the split holds: each is now a link to a file inside.
    for (const d of fs.readdirSync(path.join(ws, 'src'))) {
      fs.rmSync(path.join(ws, 'src', d), { recursive: true });
      fs.symlinkSync('../.hidden', path.join(ws, 'src', d));
    }
    const listed = await byFind();
    expect(listed).toEqual(await inJs());
    expect(listed.filter((f) => f.path === 'src/pkg0')).toHaveLength(1);
    expect(listed).toHaveLength(2 + 50);
  });
});
