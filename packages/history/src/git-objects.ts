import crypto from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { withRegularFile } from '@cwo/workspace';

// Git's object store written and read in-process (loose objects, SHA-1 repositories), so that a
// job's commit costs no child process: spawning `git` from the runner forks a large process and
// blocks its event loop. The format is git's documented one (gitformat-*, "Git Objects"); the
// repository stays an ordinary one that the `git` CLI reads (the diff endpoint uses it).
//
// Written the way git writes them: to a temporary file in the object's directory, then renamed,
// so that an interrupted write never leaves a truncated object under its final name (an existing
// object is never rewritten, so a truncated one would stay corrupt for good).

const deflate = promisify(zlib.deflate);
const INLINE_BELOW = 64 * 1024;

export type GitObjectType = 'blob' | 'tree' | 'commit';

export interface TreeEntry {
  /** '100644' | '100755' | '120000' (symlink) | '40000' (tree). */
  mode: string;
  name: string;
  /** 40 hex digits. */
  oid: string;
}

function objectPath(gitDir: string, oid: string): string {
  return path.join(gitDir, 'objects', oid.slice(0, 2), oid.slice(2));
}

/** Writes an object unless it is there already; returns its id. */
export async function writeObject(gitDir: string, type: GitObjectType, body: Buffer): Promise<string> {
  const wrapped = Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]);
  const oid = crypto.createHash('sha1').update(wrapped).digest('hex');
  const file = objectPath(gitDir, oid);
  const tmp = `${file}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  if (wrapped.length < INLINE_BELOW) {
    // Small objects (trees, commits, most source files): a handful of microsecond syscalls on a
    // file that stays in the page cache (no fsync), so done inline; each round trip through the
    // thread pool would cost more than the work, and a commit makes several in a row.
    if (existsSync(file)) return oid;
    const data = zlib.deflateSync(wrapped, { level: 1 });
    try {
      try {
        writeFileSync(tmp, data, { mode: 0o444 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(tmp, data, { mode: 0o444 });
      }
      renameSync(tmp, file);
    } catch (err) {
      rmSync(tmp, { force: true }); // a write cut short (the disk full) leaves nothing behind
      throw err;
    }
    return oid;
  }
  const present = await fs.access(file).then(
    () => true,
    () => false,
  );
  if (present) return oid;
  const data = await deflate(wrapped, { level: 1 });
  // Objects are read-only in git's own stores (0444). The fan-out directory is made only when missing.
  try {
    await fs.writeFile(tmp, data, { mode: 0o444 }).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(tmp, data, { mode: 0o444 });
    });
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  return oid;
}

/** Whether the store holds the object (loose: the runner never packs the history). */
export function hasObject(gitDir: string, oid: string): boolean {
  // One stat, inline (see writeObject).
  return existsSync(objectPath(gitDir, oid));
}

/** Files below this are read whole; larger ones are streamed so that memory stays flat. */
const STREAM_FROM_BYTES = 1024 * 1024;

/**
 * Writes the contents of a regular file (opened without following a link) as a blob; returns
 * its id. A large file is streamed: hashed and deflated as it is read, to a temporary file
 * renamed to its id at the end, so that memory does not grow with the file. The header needs the
 * size, taken from fstat: exactly that many bytes are stored (a file that shrinks meanwhile
 * fails with ENOENT, as if it had vanished).
 */
export async function writeBlobFromFile(gitDir: string, file: string): Promise<{ oid: string; executable: boolean }> {
  // Small files are read inline, like the small objects (see writeObject).
  const written = await withRegularFile(file, async (fd, stat) => {
    const executable = (stat.mode & 0o100) !== 0;
    if (stat.size < STREAM_FROM_BYTES) return { oid: await writeObject(gitDir, 'blob', readFileSync(fd)), executable };
    return { oid: await writeLargeBlob(gitDir, file, fd, stat.size), executable };
  });
  if (!written) throw Object.assign(new Error(`${file} is not a regular file`), { code: 'ENOENT' });
  return written;
}

async function writeLargeBlob(gitDir: string, file: string, fd: number, size: number): Promise<string> {
  const sha = crypto.createHash('sha1');
  const header = Buffer.from(`blob ${size}\0`);
  sha.update(header);
  let read = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      sha.update(chunk);
      read += chunk.length;
      done(null, chunk);
    },
  });
  const deflater = zlib.createDeflate({ level: 1 });
  deflater.write(header);
  const objects = path.join(gitDir, 'objects');
  await fs.mkdir(objects, { recursive: true });
  const tmp = path.join(objects, `tmp_obj_${crypto.randomBytes(6).toString('hex')}`);
  try {
    await pipeline(
      createReadStream('', { fd, start: 0, end: size - 1, autoClose: false }),
      tap,
      deflater,
      (await fs.open(tmp, 'wx', 0o444)).createWriteStream(),
    );
    if (read !== size) throw Object.assign(new Error(`${file} shrank while it was read`), { code: 'ENOENT' });
    const oid = sha.digest('hex');
    if (hasObject(gitDir, oid)) return oid;
    const target = objectPath(gitDir, oid);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.rename(tmp, target);
    return oid;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/**
 * A tree's entries in git's order: byte order of the names, a tree's name compared as if it ended
 * in '/'. Each name is encoded once (not once per comparison: a large directory's sort was most
 * of a commit's time).
 */
export function treeBody(entries: TreeEntry[]): Buffer {
  const keyed = entries.map((e) => ({ e, key: Buffer.from(e.mode === '40000' ? `${e.name}/` : e.name) }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  const parts: Buffer[] = [];
  for (const { e } of keyed) parts.push(Buffer.from(`${e.mode} ${e.name}\0`), Buffer.from(e.oid, 'hex'));
  return Buffer.concat(parts);
}

export interface Signature {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  when: number;
}

// Names and e-mails cannot hold the characters that delimit them in the header.
const clean = (s: string) => s.replace(/[<>\n\0]/g, '').trim();

export function commitBody(args: {
  tree: string;
  parents: string[];
  author: Signature;
  committer: Signature;
  message: string;
}): Buffer {
  const sig = (s: Signature) => `${clean(s.name)} <${clean(s.email)}> ${s.when} +0000`;
  const lines = [
    `tree ${args.tree}`,
    ...args.parents.map((p) => `parent ${p}`),
    `author ${sig(args.author)}`,
    `committer ${sig(args.committer)}`,
  ];
  return Buffer.from(`${lines.join('\n')}\n\n${args.message}`);
}

export interface CommitInfo {
  parents: string[];
  /** The message: everything after the header's blank line. */
  message: string;
}

/** A commit's parents and message, from the text of a commit object (without its type header). */
export function parseCommit(text: string): CommitInfo {
  const split = text.indexOf('\n\n');
  const header = split < 0 ? text : text.slice(0, split);
  return {
    parents: header
      .split('\n')
      .filter((l) => l.startsWith('parent '))
      .map((l) => l.slice('parent '.length).trim()),
    message: split < 0 ? '' : text.slice(split + 2),
  };
}

/**
 * A loose commit object's parents and message; null when the commit is not stored loose (the
 * history is never packed by the runner, so only a repository packed by hand gets there). Read
 * inline: one small file (see writeObject).
 */
export function readLooseCommit(gitDir: string, oid: string): CommitInfo | null {
  let raw: Buffer;
  try {
    raw = zlib.inflateSync(readFileSync(objectPath(gitDir, oid)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const text = raw.toString('utf8');
  const nul = text.indexOf('\0');
  if (!text.startsWith('commit ') || nul < 0) throw new Error(`object ${oid} is not a commit`);
  return parseCommit(text.slice(nul + 1));
}
