import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { overwriteInPlace } from './overwrite';
import { setStatKey, type Snapshot, type SnapshotDir, type SnapshotEntry } from './snapshot';

// What git keeps in its index, kept beside a project's history: for every file of the workspace
// as the last commit saw it, its size, mtime, ctime, inode and mode, and the blob id its contents
// had; and for every directory, how many entries were under it and its tree's id (git's
// cache-tree). The next snapshot (any job, attempt, runner or restart on this WORKSPACE_ROOT)
// reads again only the files whose stat differs, or was too recent to be trusted (takeSnapshot's
// racy rule), and the next commit builds only the trees of the directories that changed: the
// cost of a job no longer grows with the files it did not touch.
//
// It is a cache and nothing else: a file whose stat says the same keeps its recorded id, every
// other file is read. A missing, truncated or corrupt index (checked by its checksum), one of
// another format, or one recorded on another filesystem is no index: the snapshot reads every
// file, and the next commit writes a new one. It lives inside the history's directory, which only
// the runner writes (no worker container mounts .runner/), so it goes when the history goes.
//
// Hand-written format (no library reads a stat cache): NUL-separated records (a path may hold any
// byte but NUL), a header first and a SHA-1 of everything before it last. Version 1 (files only)
// is still read.

const FILE_NAME = 'cwo-stat-index';
const MAGIC = 'cwo-stat-index';
const VERSION = '2';

/** Where a history's stat index is. */
export function statIndexPath(gitDir: string): string {
  return path.join(gitDir, FILE_NAME);
}

export const deviceOf = (workspace: string): bigint | null =>
  fs.statSync(workspace, { bigint: true, throwIfNoEntry: false })?.dev ?? null;

// An entry's record after its flags, kept with the entry: entries are shared from one snapshot
// to the next (takeSnapshot), so most of an index is written again without formatting a number.
const recordTails = new WeakMap<SnapshotEntry, string>();

function recordTail(rel: string, e: SnapshotEntry): string {
  let tail = recordTails.get(e);
  if (tail === undefined) {
    tail = `${e.size} ${e.stat.mtimeNs} ${e.stat.ctimeNs} ${e.stat.ino} ${e.hash} ${rel}`;
    recordTails.set(e, tail);
  }
  return tail;
}

// And its whole record's bytes (flags, tail, NUL): an index is then mostly a copy of buffers.
const recordBytes = new WeakMap<SnapshotEntry, Buffer>();
const STORED = 0x73; // 's'

function recordOf(rel: string, e: SnapshotEntry): Buffer {
  let bytes = recordBytes.get(e);
  // Only `stored` changes in an entry (a commit stored its blob).
  if (bytes === undefined || (bytes[1] === STORED) !== (e.stored === true)) {
    // A link's flag says so; its stat is never trusted (a readlink is its stat), its id keeps the tree.
    const kind = e.kind === 'symlink' ? 'l' : e.executable ? 'x' : '-';
    bytes = Buffer.from(`${kind}${e.stored ? 's' : '-'} ${recordTail(rel, e)}\0`);
    recordBytes.set(e, bytes);
  }
  return bytes;
}

/**
 * The index's bytes for `snapshot` (taken of a workspace on device `dev`): the entries the commit
 * stored are marked `stored`, and so are the directories whose trees it wrote or found.
 */
export function serializeStatIndex(snapshot: Snapshot, dev: bigint): Buffer | null {
  if (snapshot.takenAtNs === undefined) return null;
  const records: Buffer[] = [];
  let length = 0;
  for (const [rel, e] of snapshot) {
    const bytes = recordOf(rel, e);
    records.push(bytes);
    length += bytes.length;
  }
  const trees = [...(snapshot.dirs ?? [])].filter(([, d]) => d.stored && d.oid !== undefined);
  const treeRecords = Buffer.from(trees.map(([rel, d]) => `${d.count} ${d.oid} ${rel}\0`).join(''));
  const key = Buffer.from(snapshot.ignoreKey ?? '').toString('hex') || '-';
  const header = Buffer.from(
    `${MAGIC} ${VERSION} ${snapshot.takenAtNs} ${dev} ${snapshot.size} ${trees.length} ${key}\0`,
  );
  // One buffer for the body and its checksum: each record is copied once.
  const bodyLength = header.length + length + treeRecords.length;
  const out = Buffer.allocUnsafe(bodyLength + 41);
  let at = header.copy(out, 0);
  for (const bytes of records) at += bytes.copy(out, at);
  treeRecords.copy(out, at);
  const sum = crypto.createHash('sha1').update(out.subarray(0, bodyLength)).digest('hex');
  out.write(`${sum}\n`, bodyLength, 'latin1');
  return out;
}

/**
 * Writes index bytes, in place (overwrite.ts): a reader of a torn one finds its checksum wrong and
 * reads every file. False when it could not be written (not an error: the next snapshot reads every
 * file, and the next commit writes it again).
 */
export function writeStatIndex(gitDir: string, bytes: Uint8Array): boolean {
  return overwriteInPlace(statIndexPath(gitDir), bytes);
}

// The last index each history's runner wrote or read, with the snapshot it is: the next job of the
// project starts from it without parsing the file again when the file still holds exactly those
// bytes (read and compared: a few milliseconds where parsing took a hundred or more), and its walk
// by find prints only what changed (snapshot.ts). Kept for the projects used last, up to a total
// of entries (what their memory grows with, about 2 KB each; the last one whatever its size), so
// that a runner serving many small projects keeps them all, and one serving large ones a few.
const REMEMBERED_MAX = 256;
const REMEMBERED_MAX_ENTRIES = 50_000;
const remembered = new Map<string, { bytes: Buffer; dev: bigint; snapshot: Snapshot }>();
let rememberedEntries = 0;

/** Records that `bytes`, the index of `gitDir` (its workspace on device `dev`), are `snapshot`. */
export function rememberStatIndex(gitDir: string, bytes: Uint8Array, dev: bigint, snapshot: Snapshot): void {
  forget(gitDir);
  remembered.set(gitDir, { bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), dev, snapshot });
  rememberedEntries += snapshot.size;
  while (remembered.size > 1 && (remembered.size > REMEMBERED_MAX || rememberedEntries > REMEMBERED_MAX_ENTRIES)) {
    forget(remembered.keys().next().value!);
  }
}

function forget(gitDir: string): void {
  const known = remembered.get(gitDir);
  if (!known) return;
  rememberedEntries -= known.snapshot.size;
  remembered.delete(gitDir);
}

/**
 * Writes the index of `snapshot` (taken of `workspace`; the entries the commit stored are marked
 * `stored`). Failing to write it is not an error: the old index (or none) stays, and stays correct.
 */
export function saveStatIndex(gitDir: string, workspace: string, snapshot: Snapshot): boolean {
  const dev = deviceOf(workspace);
  const bytes = dev === null ? null : serializeStatIndex(snapshot, dev);
  if (dev === null || bytes === null || !writeStatIndex(gitDir, bytes)) return false;
  rememberStatIndex(gitDir, bytes, dev, snapshot);
  return true;
}

/**
 * The index saved for `workspace` as a Snapshot of its files (to pass as takeSnapshot's
 * `previous`); null when there is none that can be trusted.
 */
export function loadStatIndex(gitDir: string, workspace: string): Snapshot | null {
  const dev = deviceOf(workspace);
  if (dev === null) return null;
  let buf: Buffer;
  try {
    buf = fs.readFileSync(statIndexPath(gitDir));
  } catch {
    return null;
  }
  const known = remembered.get(gitDir);
  if (known && known.dev === dev && known.bytes.equals(buf)) {
    // Used last: forgotten last.
    remembered.delete(gitDir);
    remembered.set(gitDir, known);
    return known.snapshot;
  }
  let snapshot: Snapshot | null;
  try {
    snapshot = parse(buf, dev);
  } catch {
    return null; // corrupt: as if missing
  }
  if (snapshot) rememberStatIndex(gitDir, buf, dev, snapshot);
  return snapshot;
}

const DIGITS = /^\d+$/;
const HASH = /^[0-9a-f]{40}$/;

function parse(buf: Buffer, dev: bigint): Snapshot | null {
  if (buf.length < 42 || buf[buf.length - 1] !== 0x0a) return null;
  const body = buf.subarray(0, buf.length - 41);
  const sum = buf.subarray(buf.length - 41, buf.length - 1).toString('latin1');
  if (crypto.createHash('sha1').update(body).digest('hex') !== sum) return null;
  const records = body.toString('utf8').split('\0');
  records.pop(); // after the last NUL
  const header = records[0]!.split(' ');
  if (header[0] !== MAGIC) return null;
  let files: number;
  let trees = 0;
  let key: string | undefined;
  if (header[1] === '1' && header.length === 5) files = Number(header[4]);
  else if (header[1] === VERSION && header.length === 7) {
    files = Number(header[4]);
    trees = Number(header[5]);
    key = header[6] === '-' ? '' : Buffer.from(header[6]!, 'hex').toString();
  } else return null;
  const [, , takenAt, savedDev] = header as [string, string, string, string];
  if (![takenAt, savedDev, header[4]!].every((n) => DIGITS.test(n))) return null;
  if (BigInt(savedDev) !== dev || files + trees !== records.length - 1) return null;
  const snapshot: Snapshot = new Map();
  snapshot.takenAtNs = BigInt(takenAt);
  for (let i = 1; i <= files; i++) {
    const r = records[i]!;
    const f: string[] = [];
    let at = 0;
    for (let k = 0; k < 6; k++) {
      const space = r.indexOf(' ', at);
      if (space < 0) return null;
      f.push(r.slice(at, space));
      at = space + 1;
    }
    const [flags, size, mtime, ctime, ino, hash] = f as [string, string, string, string, string, string];
    const rel = r.slice(at);
    if (flags.length !== 2 || hash.length !== 40 || rel === '') return null;
    // BigInt() refuses what is not a decimal number; Number() of a size would not.
    if (!DIGITS.test(size)) return null;
    const entry: SnapshotEntry = {
      kind: flags[0] === 'l' ? 'symlink' : 'file',
      size: Number(size),
      hash,
      executable: flags[0] === 'x',
      stored: flags[1] === 's',
      stat: { mtimeNs: BigInt(mtime), ctimeNs: BigInt(ctime), ino: BigInt(ino) },
    };
    if (!HASH.test(hash)) return null;
    recordTails.set(entry, r.slice(3));
    if (entry.kind === 'file') setStatKey(entry, `${size} ${mtime} ${ctime} ${ino} ${entry.executable ? 1 : 0}`);
    snapshot.set(rel, entry);
  }
  if (key !== undefined) {
    const dirs = new Map<string, SnapshotDir>();
    for (let i = files + 1; i < records.length; i++) {
      const r = records[i]!;
      const a = r.indexOf(' ');
      const b = r.indexOf(' ', a + 1);
      const count = r.slice(0, a);
      const oid = r.slice(a + 1, b);
      if (a < 0 || b < 0 || !DIGITS.test(count) || !HASH.test(oid)) return null;
      dirs.set(r.slice(b + 1), { count: Number(count), oid, stored: true });
    }
    snapshot.dirs = dirs;
    snapshot.ignoreKey = key;
  }
  return snapshot;
}
