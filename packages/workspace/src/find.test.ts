import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scanFind } from './find';

describe('scanFind', () => {
  let tmp: string;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-find-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const collect = async (cwd: string, args: string[]) => {
    const records: string[] = [];
    const ok = await scanFind(cwd, args, (buf) => {
      expect(buf.at(-1)).toBe(0);
      records.push(...buf.toString('utf8').split('\0').slice(0, -1));
    });
    return { ok, records };
  };

  it('hands over every record whole, names with newlines and multi-byte characters across chunk ends', async () => {
    const dir = path.join(tmp, 'many');
    fs.mkdirSync(dir);
    // Enough output for several pipe chunks, so some characters and records are cut between two.
    const names = Array.from({ length: 3000 }, (_, i) => `${i} ✓ zäh 😀${i % 7 === 0 ? '\nline' : ''}`);
    for (const name of names) fs.writeFileSync(path.join(dir, name), '');
    const { ok, records } = await collect(dir, ['.', '-mindepth', '1', '-printf', '%P\\0']);
    expect(ok).toBe(true);
    expect(records.sort()).toEqual([...names].sort());
  });

  it('is false when find fails, cannot start in its directory, or is stopped', async () => {
    expect((await collect(tmp, ['./missing', '-printf', '%P\\0'])).ok).toBe(false);
    expect((await collect(path.join(tmp, 'nope'), ['.', '-printf', '%P\\0'])).ok).toBe(false);
    let calls = 0;
    const stopped = await scanFind(tmp, ['.', '-printf', '%P\\0'], () => {
      calls++;
      return false;
    });
    expect([stopped, calls]).toEqual([false, 1]);
  });

  it('walks the same at once, after a stopped walk, and in directories named with quotes and newlines', async () => {
    // Walks at once: one goes to the long-lived launcher, the others are direct children.
    const dirs = ['it\'s "quoted" $(x) `y`', 'new\nline', 'plain'].map((name) => path.join(tmp, name));
    for (const dir of dirs) {
      fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'sub', 'a.txt'), '');
    }
    const args = ['.', '-mindepth', '1', '-printf', '%y %P\\0'];
    const expected = { ok: true, records: ['d sub', 'f sub/a.txt'] };
    const all = await Promise.all([...dirs, ...dirs].map((dir) => collect(dir, args)));
    for (const walk of all) expect(walk).toEqual(expected);
    await scanFind(path.join(tmp, 'many'), args, () => false);
    for (const dir of dirs) expect(await collect(dir, args)).toEqual(expected);
  });

  it('runs two walks at once in two launchers, neither a child of this process', async () => {
    // Each find prints its parent's pid: a launcher's shell, never this process (a costly fork).
    const args = [
      '.',
      '-maxdepth',
      '0',
      '-exec',
      'sh',
      '-c',
      'printf "%s\\0" "$(cut -d" " -f4 /proc/$PPID/stat)"',
      ';',
    ];
    const walks = await Promise.all([collect(tmp, args), collect(tmp, args)]);
    const parents = walks.map((w) => (expect(w.ok).toBe(true), w.records[0]));
    expect(new Set(parents).size).toBe(2);
    expect(parents).not.toContain(String(process.pid));
  });

  it('is false when the output does not end with a NUL (a record cut off)', async () => {
    expect((await collect(tmp, ['.', '-maxdepth', '0', '-printf', 'no terminator'])).ok).toBe(false);
  });
});
