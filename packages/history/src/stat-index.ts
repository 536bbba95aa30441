import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Snapshot, SnapshotEntry } from './snapshot';

// What git keeps in its index, kept beside a project's history: for every file of the workspace
// as the last commit saw it, its size, mtime, ctime, inode and mode, and the blob id its contents
// had. The next snapshot (any job, attempt, runner or restart on this WORKSPACE_ROOT) reads again
// only the files whose stat differs, or was too recent to be trusted (takeSnapshot's racy rule):
// the cost of a job no longer grows with the files it did not touch.
//
// It is a cache and nothing else: a file whose stat says the same keeps its recorded id, every
// other file is read. A missing, truncated or corrupt index (checked by its checksum), one of
// another format, or one recorded on another filesystem is no index: the snapshot reads every
// file, and the next commit writes a new one. It lives inside the history's directory, which only
// the runner writes (no worker container mounts .runner/), so it goes when the history goes.
//
// Hand-written format (no library reads a stat cache): NUL-separated records (a path may hold any
// byte but NUL), a header first and a SHA-1 of everything before it last.

const FILE_NAME = 'cwo-stat-index';
const MAGIC = 'cwo-stat-index 1';

/** Where a history's stat index is. */
export function statIndexPath(gitDir: string): string {
  return path.join(gitDir, FILE_NAME);
}

const deviceOf = (workspace: string): bigint | null =>
  fs.statSync(workspace, { bigint: true, throwIfNoEntry: false })?.dev ?? null;

/**
 * Writes the index of `snapshot` (taken of `workspace`; the entries the commit stored are marked
 * `stored`): to a temporary file renamed over the old one, so a reader sees one or the other.
 * Failing to write it is not an error: the old index (or none) stays, and stays correct.
 */
export function saveStatIndex(gitDir: string, workspace: string, snapshot: Snapshot): boolean {
  const dev = deviceOf(workspace);
  if (dev === null || snapshot.takenAtNs === undefined) return false;
  const records: string[] = [];
  for (const [rel, e] of snapshot) {
    if (e.kind !== 'file') continue; // links are read again each time: a readlink is their stat
    records.push(
      `${e.executable ? 'x' : '-'}${e.stored ? 's' : '-'} ${e.size} ${e.stat.mtimeNs} ${e.stat.ctimeNs} ${e.stat.ino} ${e.hash} ${rel}`,
    );
  }
  const body = Buffer.from(`${MAGIC} ${snapshot.takenAtNs} ${dev} ${records.length}\0${records.join('\0')}\0`);
  const sum = crypto.createHash('sha1').update(body).digest('hex');
  const file = statIndexPath(gitDir);
  const tmp = `${file}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    const fd = fs.openSync(tmp, 'wx', 0o600);
    try {
      fs.writeSync(fd, body);
      fs.writeSync(fd, `${sum}\n`);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    return true;
  } catch {
    fs.rmSync(tmp, { force: true });
    return false;
  }
}

/**
 * The index saved for `workspace` as a Snapshot of its files (to pass as takeSnapshot's
 * `previous`); null when there is none that can be trusted.
 */
export function loadStatIndex(gitDir: string, workspace: string): Snapshot | null {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(statIndexPath(gitDir));
  } catch {
    return null;
  }
  try {
    return parse(buf, deviceOf(workspace));
  } catch {
    return null; // corrupt: as if missing
  }
}

const DIGITS = /^\d+$/;
const HASH = /^[0-9a-f]{40}$/;

function parse(buf: Buffer, dev: bigint | null): Snapshot | null {
  if (dev === null || buf.length < 42 || buf[buf.length - 1] !== 0x0a) return null;
  const body = buf.subarray(0, buf.length - 41);
  const sum = buf.subarray(buf.length - 41, buf.length - 1).toString('latin1');
  if (crypto.createHash('sha1').update(body).digest('hex') !== sum) return null;
  const records = body.toString('utf8').split('\0');
  records.pop(); // after the last NUL
  const header = records[0]!.split(' ');
  if (`${header[0]} ${header[1]}` !== MAGIC || header.length !== 5) return null;
  const [, , takenAt, savedDev, count] = header as [string, string, string, string, string];
  if (![takenAt, savedDev, count].every((n) => DIGITS.test(n))) return null;
  if (BigInt(savedDev) !== dev || Number(count) !== records.length - 1) return null;
  const snapshot: Snapshot = new Map();
  snapshot.takenAtNs = BigInt(takenAt);
  for (let i = 1; i < records.length; i++) {
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
    if (flags.length !== 2 || !HASH.test(hash) || rel === '') return null;
    if (!DIGITS.test(size) || !DIGITS.test(mtime) || !DIGITS.test(ctime) || !DIGITS.test(ino)) return null;
    const entry: SnapshotEntry = {
      kind: 'file',
      size: Number(size),
      hash,
      executable: flags[0] === 'x',
      stored: flags[1] === 's',
      stat: { mtimeNs: BigInt(mtime), ctimeNs: BigInt(ctime), ino: BigInt(ino) },
    };
    snapshot.set(rel, entry);
  }
  return snapshot;
}
