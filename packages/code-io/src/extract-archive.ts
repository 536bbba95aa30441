import fs from 'node:fs';
import path from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import yauzl from 'yauzl';
import { ImportError, type ImportLimits } from './import-limits';

// An uploaded archive (tar.gz or zip) unpacked into a staging directory, treated as hostile: every
// name checked (no absolute paths, drive letters, backslashes, NUL or `..`), only files,
// directories and links, links created last and refused when they resolve outside (following
// the links they go through, as the kernel would), hard links copied from a file already
// unpacked, and limits on entries, unpacked bytes and the compression ratio, counted as bytes
// come out (a zip's declared sizes are checked first too). Any refusal throws ImportError; the
// caller removes the staging directory, so nothing half-unpacked reaches a workspace.
// tar-stream and yauzl parse the formats; the checks are ours.

export type UploadFormat = 'tar.gz' | 'zip';

/** The format by its first bytes (gzip: 1f 8b; zip: "PK\3\4", or "PK\5\6" when empty); null otherwise. */
export function sniffArchiveFormat(head: Buffer): UploadFormat | null {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
  if (head.length >= 4 && head.toString('latin1', 0, 2) === 'PK' && [0x0304, 0x0506].includes(head.readUInt16BE(2)))
    return 'zip';
  return null;
}

/** Ratios are judged only once this much has come out: tiny archives of small text compress well. */
const RATIO_FLOOR_BYTES = 1024 * 1024;
const MAX_LINK_TARGET = 4096;
const MAX_LINK_HOPS = 40;

/** Top-level names an import never brings in: the runner's protocol directory and a repository's own. */
const SKIPPED_TOP = new Set(['.codex', '.git']);

interface Pending {
  links: Array<{ rel: string; target: string }>;
  hardLinks: Array<{ rel: string; target: string }>;
}

export interface Extracted {
  format: UploadFormat;
  entries: number;
  bytes: number;
  skipped: string[];
}

const refused = (message: string) => new ImportError('import_refused', message);
const tooLarge = (message: string) => new ImportError('import_too_large', message);

/** The entry's name as a safe relative path ('' for the archive's root), or refused. */
export function checkEntryName(raw: string): string {
  if (raw.includes('\0')) throw refused('an entry name contains a NUL byte');
  if (raw.includes('\\')) throw refused(`the entry ${JSON.stringify(raw)} has a backslash in its name`);
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw))
    throw refused(`the entry ${JSON.stringify(raw)} has an absolute path`);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw refused(`the entry ${JSON.stringify(raw)} climbs out with ".."`);
  return parts.join('/');
}

/** Whether the link at `rel` (inside `root`) resolves outside `root`, following links on the way. */
export function linkEscapes(root: string, rel: string): boolean {
  const first = fs.readlinkSync(path.join(root, rel));
  if (path.isAbsolute(first)) return true;
  let dir = rel.split('/').slice(0, -1);
  let pending = first.split('/');
  let hops = 0;
  while (pending.length) {
    const c = pending.shift()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (dir.length === 0) return true;
      dir.pop();
      continue;
    }
    const here = [...dir, c];
    const st = fs.lstatSync(path.join(root, ...here), { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) {
      if (++hops > MAX_LINK_HOPS) return true; // a loop: refused like an escape
      const target = fs.readlinkSync(path.join(root, ...here));
      if (path.isAbsolute(target)) return true;
      pending = [...target.split('/'), ...pending];
      continue;
    }
    dir = here;
  }
  return false;
}

class Unpacker {
  entries = 0;
  bytes = 0;
  readonly skipped = new Set<string>();
  readonly files = new Set<string>();
  readonly pending: Pending = { links: [], hardLinks: [] };

  constructor(
    readonly dir: string,
    readonly limits: ImportLimits,
    readonly archiveBytes: number,
  ) {}

  /** The safe name of an entry, or null when it is skipped (the root itself, .codex/, .git/). */
  name(raw: string): string | null {
    const rel = checkEntryName(raw);
    if (!rel) return null;
    const top = rel.split('/')[0]!;
    if (SKIPPED_TOP.has(top)) {
      this.skipped.add(`${top}/`);
      return null;
    }
    if (++this.entries > this.limits.maxFiles)
      throw tooLarge(`the archive has more than ${this.limits.maxFiles} entries (IMPORT_MAX_FILES)`);
    return rel;
  }

  count(n: number): void {
    this.bytes += n;
    if (this.bytes > this.limits.maxUnpackedBytes)
      throw tooLarge(
        `the archive unpacks to more than ${this.limits.maxUnpackedBytes} bytes (IMPORT_MAX_UNPACKED_BYTES)`,
      );
    if (this.bytes > RATIO_FLOOR_BYTES && this.bytes / Math.max(1, this.archiveBytes) > this.limits.maxRatio)
      throw tooLarge(
        `the archive unpacks to more than ${this.limits.maxRatio} times its size (IMPORT_MAX_RATIO): a compression bomb?`,
      );
  }

  mkdir(rel: string): void {
    try {
      fs.mkdirSync(path.join(this.dir, rel), { recursive: true, mode: 0o755 });
    } catch {
      throw refused(`the entry ${rel}/ is a directory where the archive has a file`);
    }
  }

  /** Writes one file from its stream, counting its bytes against the limits. */
  async file(rel: string, mode: number, source: Readable): Promise<void> {
    if (this.files.has(rel)) throw refused(`the archive holds ${rel} twice`);
    this.mkdir(path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel));
    let fd: number;
    try {
      fd = fs.openSync(path.join(this.dir, rel), 'wx', mode & 0o100 ? 0o755 : 0o644);
    } catch {
      throw refused(`the entry ${rel} is a file where the archive has a directory`);
    }
    this.files.add(rel);
    const count = (n: number) => this.count(n);
    try {
      await pipeline(
        source,
        new Writable({
          write(chunk: Buffer, _enc, done) {
            try {
              count(chunk.length);
              fs.writeSync(fd, chunk);
              done();
            } catch (err) {
              done(err as Error);
            }
          },
        }),
      );
    } finally {
      fs.closeSync(fd);
    }
  }

  link(rel: string, target: string): void {
    if (target.length === 0 || target.length > MAX_LINK_TARGET)
      throw refused(`the link ${rel} has an empty or overlong target`);
    if (target.includes('\0')) throw refused(`the link ${rel} has a NUL byte in its target`);
    if (path.isAbsolute(target)) throw refused(`the link ${rel} points outside the project (${target})`);
    this.pending.links.push({ rel, target });
  }

  /** Hard links are copied from the file already unpacked; then links are made and checked. */
  finish(): void {
    for (const { rel, target } of this.pending.hardLinks) {
      if (!this.files.has(target))
        throw refused(`the hard link ${rel} points at ${target}, which is not a file of the archive`);
      this.count(fs.statSync(path.join(this.dir, target)).size);
      this.mkdir(path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel));
      try {
        fs.copyFileSync(path.join(this.dir, target), path.join(this.dir, rel), fs.constants.COPYFILE_EXCL);
      } catch {
        throw refused(`the archive holds ${rel} twice`);
      }
      this.files.add(rel);
    }
    for (const { rel, target } of this.pending.links) {
      this.mkdir(path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel));
      try {
        fs.symlinkSync(target, path.join(this.dir, rel));
      } catch {
        throw refused(`the archive holds ${rel} twice`);
      }
    }
    for (const { rel, target } of this.pending.links) {
      if (linkEscapes(this.dir, rel)) throw refused(`the link ${rel} points outside the project (${target})`);
    }
  }
}

async function unpackTarGz(file: string, u: Unpacker, signal?: AbortSignal): Promise<void> {
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const handle = async () => {
      const rel = u.name(header.name);
      if (rel === null) {
        stream.resume();
        return;
      }
      switch (header.type) {
        case 'file':
        case 'contiguous-file':
          return u.file(rel, header.mode ?? 0o644, stream as unknown as Readable);
        case 'directory':
          stream.resume();
          return u.mkdir(rel);
        case 'symlink':
          stream.resume();
          return u.link(rel, header.linkname ?? '');
        case 'link': {
          stream.resume();
          u.pending.hardLinks.push({ rel, target: checkEntryName(header.linkname ?? '') });
          return;
        }
        case 'character-device':
        case 'block-device':
          throw refused(`the entry ${rel} is a device`);
        case 'fifo':
          throw refused(`the entry ${rel} is a FIFO`);
        default:
          throw refused(`the entry ${rel} is of a kind an import does not take (${String(header.type)})`);
      }
    };
    handle().then(
      () => next(),
      (err: unknown) => {
        stream.resume();
        next(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
  try {
    await pipeline(fs.createReadStream(file), zlib.createGunzip(), extract, { signal });
  } catch (err) {
    if (err instanceof ImportError || (err as Error).name === 'AbortError') throw err;
    throw new ImportError('import_failed', `the archive is not a valid tar.gz: ${(err as Error).message}`);
  }
}

const S_IFMT = 0o170000;

async function unpackZip(file: string, u: Unpacker, signal?: AbortSignal): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      // Names stay bytes (decodeStrings: false) and are checked by us (checkEntryName), so that a
      // refusal says which entry and why.
      yauzl.open(file, { lazyEntries: true, validateEntrySizes: true, decodeStrings: false }, (err, z) =>
        err ? reject(err) : resolve(z),
      ),
    );
  } catch (err) {
    throw new ImportError('import_failed', `the archive is not a valid zip: ${(err as Error).message}`);
  }
  const open = (entry: yauzl.Entry) =>
    new Promise<Readable>((resolve, reject) => zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))));
  try {
    let declared = 0;
    await new Promise<void>((resolve, reject) => {
      const fail = (err: unknown) => {
        zip.close();
        reject(err instanceof Error ? err : new Error(String(err)));
      };
      signal?.addEventListener('abort', () => fail(signal.reason), { once: true });
      zip.on('error', fail);
      zip.on('end', resolve);
      zip.on('entry', (entry: yauzl.Entry) => {
        const handle = async () => {
          const fileName = Buffer.from(entry.fileName as unknown as Uint8Array).toString('utf8');
          const rel = u.name(fileName);
          if (rel === null) return;
          // The central directory's sizes first: a bomb is refused before it is inflated.
          declared += entry.uncompressedSize;
          if (declared > u.limits.maxUnpackedBytes)
            throw tooLarge(
              `the archive declares more than ${u.limits.maxUnpackedBytes} bytes unpacked (IMPORT_MAX_UNPACKED_BYTES)`,
            );
          if (
            entry.uncompressedSize > RATIO_FLOOR_BYTES &&
            entry.uncompressedSize / Math.max(1, entry.compressedSize) > u.limits.maxRatio
          )
            throw tooLarge(
              `the entry ${rel} unpacks to more than ${u.limits.maxRatio} times its size (IMPORT_MAX_RATIO): a compression bomb?`,
            );
          if (entry.isEncrypted()) throw refused(`the entry ${rel} is encrypted`);
          const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
          const kind = mode & S_IFMT;
          if (fileName.endsWith('/') || kind === 0o040000) return u.mkdir(rel);
          if (kind === 0o120000) {
            const chunks: Buffer[] = [];
            for await (const c of await open(entry)) {
              chunks.push(c as Buffer);
              if (Buffer.concat(chunks).length > MAX_LINK_TARGET)
                throw refused(`the link ${rel} has an overlong target`);
            }
            return u.link(rel, Buffer.concat(chunks).toString('utf8'));
          }
          if (kind === 0o020000 || kind === 0o060000) throw refused(`the entry ${rel} is a device`);
          if (kind === 0o010000) throw refused(`the entry ${rel} is a FIFO`);
          if (kind === 0o140000) throw refused(`the entry ${rel} is a socket`);
          return u.file(rel, mode, await open(entry));
        };
        handle().then(() => zip.readEntry(), fail);
      });
      zip.readEntry();
    });
  } catch (err) {
    if (err instanceof ImportError || (err as Error).name === 'AbortError') throw err;
    throw new ImportError('import_failed', `the archive is not a valid zip: ${(err as Error).message}`);
  } finally {
    zip.close();
  }
}

/**
 * Unpacks `file` into `dir` (an empty directory). Throws ImportError for anything refused or too
 * large; what was unpacked so far stays in `dir` for the caller to remove.
 */
export async function extractArchive(
  file: string,
  dir: string,
  limits: ImportLimits,
  signal?: AbortSignal,
): Promise<Extracted> {
  const size = fs.statSync(file).size;
  if (size > limits.maxBytes) throw tooLarge(`the archive is larger than ${limits.maxBytes} bytes (MAX_IMPORT_BYTES)`);
  const head = Buffer.alloc(4);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, 4, 0);
  } finally {
    fs.closeSync(fd);
  }
  const format = sniffArchiveFormat(head);
  if (!format) throw refused('the upload is neither a tar.gz nor a zip archive');
  const u = new Unpacker(dir, limits, size);
  if (format === 'tar.gz') await unpackTarGz(file, u, signal);
  else await unpackZip(file, u, signal);
  u.finish();
  return { format, entries: u.entries, bytes: u.bytes, skipped: [...u.skipped] };
}
