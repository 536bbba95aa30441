import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import archiver from 'archiver';
import tar from 'tar-stream';
import { extractArchive } from './extract-archive';
import { ImportError, type ImportLimits } from './import-limits';

// Real archives, made here with tar-stream (which writes any header, hostile ones included),
// archiver (zip) and GNU tar, unpacked by extractArchive into a fresh directory.

const limits: ImportLimits = {
  maxBytes: 50 * 1024 ** 2,
  maxFiles: 1000,
  maxUnpackedBytes: 200 * 1024 ** 2,
  maxRatio: 200,
};
let tmp: string;
beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-extract-'))));
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

type TarEntry = Parameters<ReturnType<typeof tar.pack>['entry']>[0] & { body?: Buffer | string; zeros?: number };

/** A tar.gz of exactly these headers. */
async function tarGz(entries: TarEntry[]): Promise<string> {
  const pack = tar.pack();
  const file = path.join(tmp, `a-${Math.random().toString(36).slice(2)}.tar.gz`);
  const out = pack.pipe(zlib.createGzip()).pipe(fs.createWriteStream(file));
  for (const { body, zeros, ...header } of entries) {
    if (zeros) {
      const entry = pack.entry({ ...header, size: zeros });
      const chunk = Buffer.alloc(1024 * 1024);
      for (let left = zeros; left > 0; left -= chunk.length) {
        if (!entry.write(left >= chunk.length ? chunk : chunk.subarray(0, left)))
          await new Promise<void>((r) => entry.once('drain', () => r()));
      }
      entry.end(() => undefined);
    } else
      await new Promise<void>((resolve, reject) =>
        pack.entry(header, body ?? '', (err) => (err ? reject(err) : resolve())),
      );
  }
  pack.finalize();
  await new Promise<void>((r) => out.on('finish', () => r()));
  return file;
}

/** A zip made by archiver; `rename` then swaps names in its bytes (archiver refuses hostile ones). */
async function zip(build: (a: archiver.Archiver) => void, rename: Record<string, string> = {}): Promise<string> {
  const a = archiver('zip');
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((r) => sink.on('end', r));
  a.pipe(sink);
  build(a);
  await a.finalize();
  await ended;
  let bytes = Buffer.concat(chunks);
  for (const [from, to] of Object.entries(rename)) {
    expect(to).toHaveLength(from.length);
    bytes = Buffer.from(bytes.toString('latin1').split(from).join(to), 'latin1');
  }
  const file = path.join(tmp, `z-${Math.random().toString(36).slice(2)}.zip`);
  fs.writeFileSync(file, bytes);
  return file;
}

async function refusal(file: string, opts: Partial<ImportLimits> = {}): Promise<ImportError> {
  const dest = fs.mkdtempSync(path.join(tmp, 'dest-'));
  const err = await extractArchive(file, dest, { ...limits, ...opts }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImportError);
  return err as ImportError;
}

describe('extractArchive', () => {
  it('unpacks a tar.gz made by GNU tar: files, modes, directories and links that stay inside', async () => {
    const src = path.join(tmp, 'src');
    fs.mkdirSync(path.join(src, 'pkg', 'empty'), { recursive: true });
    fs.writeFileSync(path.join(src, 'app.py'), 'print(1)\n');
    fs.writeFileSync(path.join(src, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(src, 'pkg', 'lib.py'), 'X = 1\n');
    fs.symlinkSync('../app.py', path.join(src, 'pkg', 'app-link'));
    fs.mkdirSync(path.join(src, '.codex'));
    fs.writeFileSync(path.join(src, '.codex', 'result.json'), '{"forged":true}');
    const file = path.join(tmp, 'gnu.tar.gz');
    execFileSync('tar', ['-czf', file, '-C', src, '.']);
    const dest = fs.mkdtempSync(path.join(tmp, 'dest-'));
    const result = await extractArchive(file, dest, limits);
    expect(result).toMatchObject({ format: 'tar.gz', skipped: ['.codex/'] });
    expect(fs.readFileSync(path.join(dest, 'pkg', 'lib.py'), 'utf8')).toBe('X = 1\n');
    expect(fs.statSync(path.join(dest, 'run.sh')).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(dest, 'app.py')).mode & 0o777).toBe(0o644);
    expect(fs.readlinkSync(path.join(dest, 'pkg', 'app-link'))).toBe('../app.py');
    expect(fs.statSync(path.join(dest, 'pkg', 'empty')).isDirectory()).toBe(true);
    expect(fs.existsSync(path.join(dest, '.codex'))).toBe(false);
  });

  it('unpacks a zip with its Unix modes and links', async () => {
    const file = await zip((a) => {
      a.append('print(1)\n', { name: 'app.py', mode: 0o644 });
      a.append('#!/bin/sh\n', { name: 'bin/run', mode: 0o755 });
      a.symlink('bin/alias', 'run', 0o777);
    });
    const dest = fs.mkdtempSync(path.join(tmp, 'dest-'));
    expect(await extractArchive(file, dest, limits)).toMatchObject({ format: 'zip', entries: 3 });
    expect(fs.readFileSync(path.join(dest, 'app.py'), 'utf8')).toBe('print(1)\n');
    expect(fs.statSync(path.join(dest, 'bin', 'run')).mode & 0o777).toBe(0o755);
    expect(fs.readlinkSync(path.join(dest, 'bin', 'alias'))).toBe('run');
  });

  it('refuses an absolute path, "..", a device, a FIFO and links that escape, in tar.gz', async () => {
    const cases: Array<[TarEntry[], RegExp]> = [
      [[{ name: '/etc/cron.d/x', body: 'x' }], /has an absolute path/],
      [[{ name: 'a/../../x', body: 'x' }], /climbs out with ".."/],
      [[{ name: 'null', type: 'character-device', devmajor: 1, devminor: 3 }], /is a device/],
      [[{ name: 'pipe', type: 'fifo' }], /is a FIFO/],
      [[{ name: 'evil', type: 'symlink', linkname: '/etc/passwd' }], /points outside the project/],
      [[{ name: 'sub/evil', type: 'symlink', linkname: '../../etc' }], /points outside the project/],
      // Each link stays inside on its own; through one another they climb out.
      [
        [
          { name: 'here', type: 'symlink', linkname: '.' },
          { name: 'out', type: 'symlink', linkname: 'here/here/here/../../..' },
        ],
        /the link out points outside/,
      ],
      [[{ name: 'x', type: 'link', linkname: '../outside' }], /climbs out/],
    ];
    for (const [entries, message] of cases) {
      const err = await refusal(await tarGz(entries));
      expect(err.code).toBe('import_refused');
      expect(err.message).toMatch(message);
    }
    expect(fs.existsSync('/etc/cron.d/x')).toBe(false);
  });

  it('refuses "..", absolute paths and escaping links in a zip', async () => {
    const dotdot = await zip((a) => a.append('x', { name: 'aa/x.txt' }), { 'aa/x.txt': '../x.txt' });
    expect((await refusal(dotdot)).message).toMatch(/climbs out with ".."/);
    const absolute = await zip((a) => a.append('x', { name: 'etc/passwdx' }), { 'etc/passwdx': '/etc/passwd' });
    expect((await refusal(absolute)).message).toMatch(/has an absolute path/);
    const link = await zip((a) => a.symlink('evil', '../../../../etc/shadow'));
    expect((await refusal(link)).message).toMatch(/the link evil points outside/);
  });

  it('ends a compression bomb with a clear error, tar.gz and zip', async () => {
    const tarBomb = await tarGz([{ name: 'zeros', zeros: 60 * 1024 ** 2 }]);
    expect(fs.statSync(tarBomb).size).toBeLessThan(200 * 1024);
    const tarErr = await refusal(tarBomb);
    expect(tarErr.code).toBe('import_too_large');
    expect(tarErr.message).toMatch(/unpacks to more than 200 times its size \(IMPORT_MAX_RATIO\): a compression bomb/);

    const zipBomb = await zip((a) => a.append(Buffer.alloc(60 * 1024 ** 2), { name: 'zeros' }));
    const zipErr = await refusal(zipBomb);
    expect(zipErr.code).toBe('import_too_large');
    expect(zipErr.message).toMatch(/the entry zeros unpacks to more than 200 times its size/);
  });

  it('refuses past the entry and unpacked-size limits, and what is no archive', async () => {
    const many = await tarGz(Array.from({ length: 6 }, (_, i) => ({ name: `f${i}`, body: 'x' })));
    expect((await refusal(many, { maxFiles: 5 })).message).toMatch(/more than 5 entries \(IMPORT_MAX_FILES\)/);
    const big = await tarGz([{ name: 'big', body: 'y'.repeat(4096) }]);
    expect((await refusal(big, { maxUnpackedBytes: 1000 })).message).toMatch(/IMPORT_MAX_UNPACKED_BYTES/);
    const text = path.join(tmp, 'notes.txt');
    fs.writeFileSync(text, 'not an archive');
    expect((await refusal(text)).message).toBe('the upload is neither a tar.gz nor a zip archive');
    const corrupt = path.join(tmp, 'corrupt.tar.gz');
    fs.writeFileSync(corrupt, Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('garbage')]));
    expect((await refusal(corrupt)).code).toBe('import_failed');
  });
});
