import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { listWithFind, listWorkspaceFiles } from './list';
import { GONE, statSizesElsewhere } from './stat-worker';

describe('listWorkspaceFiles', () => {
  let tmp: string;
  let ws: string;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-list-'));
    ws = path.join(tmp, 'ws');
    const outside = path.join(tmp, 'outside');
    fs.mkdirSync(path.join(ws, 'tests'), { recursive: true });
    fs.mkdirSync(path.join(ws, '.codex', 'jobs', 'j1'), { recursive: true });
    fs.mkdirSync(path.join(ws, 'empty-dir'));
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(ws, 'app.py'), 'print("hi")\n');
    fs.writeFileSync(path.join(ws, 'README.md'), '# readme\n');
    fs.writeFileSync(path.join(ws, 'tests', 'test_cli.py'), 'x');
    fs.writeFileSync(path.join(ws, '.codex', 'request.json'), '{}');
    fs.writeFileSync(path.join(ws, '.codex', 'jobs', 'j1', 'job.log'), 'line\n');
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret');
    fs.writeFileSync(path.join(outside, 'other.txt'), 'other');
    fs.symlinkSync(outside, path.join(ws, 'linked-dir'));
    fs.symlinkSync(path.join(ws, 'tests'), path.join(ws, 'inside-dir-link'));
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(ws, 'escaping-file'));
    fs.symlinkSync('app.py', path.join(ws, 'app-link.py'));
    fs.symlinkSync('missing-target', path.join(ws, 'dangling'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('lists every file with its size, sorted, .codex included, symlinked dirs and escapes skipped', async () => {
    await expect(listWorkspaceFiles(ws)).resolves.toEqual([
      { path: '.codex/jobs/j1/job.log', size: 5 },
      { path: '.codex/request.json', size: 2 },
      { path: 'README.md', size: 9 },
      { path: 'app-link.py', size: 12 },
      { path: 'app.py', size: 12 },
      { path: 'tests/test_cli.py', size: 1 },
    ]);
  });

  it('lists the same through find as in JS: links, names with newlines, spaces, quotes, UTF-8 and bad bytes, empty dirs, .codex', async () => {
    const odd = path.join(tmp, 'odd');
    fs.cpSync(ws, odd, { recursive: true, verbatimSymlinks: true });
    const names = ['new\nline', ' lead and trail ', 'it\'s "quoted"', 'tab\there', 'ünï ✓ 😀', '\\back', '-dash'];
    for (const name of names) {
      fs.mkdirSync(path.join(odd, 'deep', name), { recursive: true });
      fs.writeFileSync(path.join(odd, 'deep', name, name), name);
      fs.writeFileSync(path.join(odd, name), name);
    }
    fs.mkdirSync(path.join(odd, 'empty', 'emptier'), { recursive: true });
    // A name that is not UTF-8: no path the API could be asked for, listed by neither walk.
    fs.writeFileSync(Buffer.from([...Buffer.from(`${odd}/bad-`), 0xff, 0xfe, ...Buffer.from('.txt')]), 'x');
    fs.symlinkSync('deep/ünï ✓ 😀/ünï ✓ 😀', path.join(odd, 'link to ✓'));
    fs.symlinkSync('../outside/secret.txt', path.join(odd, '.codex', 'escape'));
    execFileSync('mkfifo', [path.join(odd, 'fifo')]);

    const viaJs = await listWorkspaceFiles(odd, { walker: 'js' });
    const viaFind = await listWithFind(fs.realpathSync(odd));
    expect(viaFind).not.toBeNull(); // find walked it: no fallback to the JS walk
    expect(viaFind!.sort((a, b) => (a.path < b.path ? -1 : 1))).toEqual(viaJs);
    await expect(listWorkspaceFiles(odd, { walker: 'find' })).resolves.toEqual(viaJs);
    const paths = viaJs.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['new\nline', 'deep/new\nline/new\nline', '\\back', 'ünï ✓ 😀']));
    expect(paths).toEqual(expect.arrayContaining(['.codex/request.json', 'app-link.py', 'link to ✓']));
    expect(paths.filter((p) => /fifo|escape|linked-dir|dangling|empty|bad-/.test(p))).toEqual([]);
    expect(viaJs.find((f) => f.path === 'link to ✓')?.size).toBe(Buffer.byteLength('ünï ✓ 😀'));
  });

  it('lists a missing workspace as empty', async () => {
    await expect(listWorkspaceFiles(path.join(tmp, 'nope'))).resolves.toEqual([]);
    await expect(listWorkspaceFiles(path.join(tmp, 'nope'), { walker: 'find' })).resolves.toEqual([]);
  });

  it('walks wide and deep trees completely, yielding to the event loop between slices', async () => {
    const big = path.join(tmp, 'big');
    const expected: string[] = [];
    for (let d = 0; d < 20; d++) {
      const dir = path.join(big, `d${String(d).padStart(2, '0')}`, 'nested');
      fs.mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 50; f++) {
        const name = `f${String(f).padStart(3, '0')}.txt`;
        fs.writeFileSync(path.join(dir, name), 'x'.repeat(f));
        expected.push(`d${String(d).padStart(2, '0')}/nested/${name}`);
      }
    }
    // 1,040 entries: by default the JS walk leaves it to find.
    const listed = await listWorkspaceFiles(big, { sliceMs: 0 });
    expect(listed.map((f) => f.path)).toEqual(expected.sort());
    await expect(listWorkspaceFiles(big, { sliceMs: 0, walker: 'js' })).resolves.toEqual(listed);
    expect(listed.find((f) => f.path === 'd07/nested/f042.txt')?.size).toBe(42);
  });

  it('stats on the worker thread as the walk does: the size of a regular file, GONE for anything else', async () => {
    const sizes = await statSizesElsewhere([
      path.join(ws, 'app.py'),
      path.join(ws, 'tests'),
      path.join(ws, 'app-link.py'),
      path.join(ws, 'vanished.txt'),
      path.join(ws, 'app.py', 'not-a-dir'),
    ]);
    expect([...sizes]).toEqual([12, GONE, GONE, GONE, GONE]);
  });

  it('lists a large tree the same whether half of it is stat-ed on the worker thread or not', async () => {
    const big = path.join(tmp, 'big-parallel');
    for (let d = 0; d < 10; d++) {
      fs.mkdirSync(path.join(big, `d${d}`), { recursive: true });
      for (let f = 0; f < 30; f++) fs.writeFileSync(path.join(big, `d${d}`, `f${f}`), 'y'.repeat(d + f));
    }
    fs.symlinkSync('d1/f2', path.join(big, 'link'));
    const single = await listWorkspaceFiles(big, { parallelAbove: Infinity });
    const parallel = await listWorkspaceFiles(big, { parallelAbove: 10 });
    expect(parallel).toEqual(single);
    expect(single).toHaveLength(301);
    expect(single.find((f) => f.path === 'd9/f29')?.size).toBe(38);
  });

  it('lists in path order however names compare with a directory\'s "/": punctuation, case, non-ASCII', async () => {
    const tricky = path.join(tmp, 'tricky');
    // Each name both as a file and, with a suffix, as a directory holding a file: "a" and "a-b"
    // as files beside "a/" and "a.b/" as directories, where sorting names alone would misplace them.
    const names = ['a', 'a-b', 'a.b', 'a0', 'A', 'a b', 'ä', 'z', '😀', 'a~', '-', '.hidden'];
    const expected: string[] = [];
    for (const [i, name] of names.entries()) {
      const dir = path.join(tricky, Array.from(name)[0]! + String.fromCharCode(0x21 + i));
      fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
      for (const file of names) {
        fs.writeFileSync(path.join(dir, file), file);
        expected.push(`${path.basename(dir)}/${file}`);
      }
      fs.writeFileSync(path.join(dir, 'sub', name), 'x');
      expected.push(`${path.basename(dir)}/sub/${name}`);
      fs.writeFileSync(path.join(tricky, name), name);
      expected.push(name);
    }
    const listed = (await listWorkspaceFiles(tricky)).map((f) => f.path);
    expect(listed).toEqual([...expected].sort());
  });
});
