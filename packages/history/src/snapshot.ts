import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CODEX_DIR, timeSlicer, withRegularFile } from '@cwo/workspace';
import { baseRules, isIgnored, readGitignore, withGitignore, type Rules } from './ignore-rules';

// What a workspace holds at one moment, so that the runner can tell for itself which files a job
// created, modified or deleted, instead of trusting what the agent reports. What the history leaves
// out (the project's .gitignore files, HISTORY_IGNORE: ignore-rules.ts) is left out here too, not
// even walked: a job's files are those its commit records, and a `node_modules` costs nothing.
//
// Walked with synchronous calls in short time slices (time-slice.ts); only files of a megabyte
// or more are read through the thread pool, streamed.

export interface SnapshotEntry {
  kind: 'file' | 'symlink';
  size: number;
  /**
   * The git blob id of the contents (of the link target string for a symlink, which is never
   * followed): the history's commit reuses it (history-tree.ts) instead of reading the file again.
   */
  hash: string;
  /** Whether the owner may execute it (git's 100755). */
  executable: boolean;
  /** What the hash was computed for: a file whose stat still says the same need not be read again. */
  stat: { mtimeNs: bigint; ctimeNs: bigint; ino: bigint };
  /** The history's object store holds this blob (a commit stored or found it): no need to look. */
  stored?: boolean;
}

/**
 * A directory of a snapshot, for its git tree (git's "cache-tree"): how many entries are under it
 * (at any depth), and the id of its tree when known. A directory whose entries are all those of
 * `previous`, unchanged, keeps `previous`'s tree id, so that a commit or the check against the
 * history rebuilds only the trees of the directories that changed.
 */
export interface SnapshotDir {
  count: number;
  /** The tree's id (never the empty tree's: a directory whose entries are all ignored has none). */
  oid?: string;
  /** The history's object store holds that tree (a commit wrote or found it). */
  stored?: boolean;
}

/** Workspace-relative, forward-slash path -> entry. Directories are not entries; their files are. */
export type Snapshot = Map<string, SnapshotEntry> & {
  /** When the walk began (wall clock, as file timestamps are). */
  takenAtNs?: bigint;
  /** How many files the walk read (the others kept the hash `previous` had for them). */
  filesRead?: number;
  /** Directory ('' for the top) -> its count and tree; only directories with entries under them. */
  dirs?: Map<string, SnapshotDir>;
  /** The ignore patterns the walk applied (ignoreKey): tree ids are valid only under the same ones. */
  ignoreKey?: string;
};

/** What decides a snapshot's trees besides its entries: HISTORY_IGNORE (the .gitignore files are entries). */
export function ignoreKey(patterns: readonly string[] | undefined): string {
  return JSON.stringify(patterns ?? []);
}

export interface WorkspaceDiff {
  created: string[];
  modified: string[];
  deleted: string[];
}

export interface SnapshotOptions {
  /** Top-level names left out (default: `.codex`, the runner's own files). */
  exclude?: readonly string[];
  /** Refuse to walk workspaces with more entries than this (a runaway agent). */
  maxEntries?: number;
  /**
   * An earlier snapshot of the same workspace (the "before" of the same attempt, or the history's
   * stat index, stat-index.ts): a file whose size, mtime, ctime, inode and mode are unchanged since
   * then, and were already settled when it was taken, keeps its hash without being read again.
   */
  previous?: Snapshot | null;
  /** HISTORY_IGNORE: gitignore patterns left out, under the project's own .gitignore files. */
  ignore?: readonly string[];
  /** Tests: how old a stat must be to be trusted (SETTLED_NS otherwise). */
  settledNs?: bigint;
}

const DEFAULT_SNAPSHOT_EXCLUDE: readonly string[] = [CODEX_DIR];
const DEFAULT_MAX_ENTRIES = 200_000;
// Small files are read whole; larger ones are streamed so that memory stays flat.
const READ_WHOLE_BELOW = 1024 * 1024;

export class SnapshotLimitError extends Error {
  constructor(readonly maxEntries: number) {
    super(`workspace has more than ${maxEntries} entries`);
    this.name = 'SnapshotLimitError';
  }
}

/**
 * File timestamps come from a coarse clock (a jiffy or more, 2 s on FAT), so a file changed twice
 * within one tick can keep its stat: only a stat older than the earlier snapshot by this much is
 * trusted, the rest is read again (git's "racy" rule: a file changed after its stat was recorded
 * has a timestamp after that moment less one tick, so it differs from one recorded this long before).
 */
const SETTLED_NS = 2_000_000_000n;

/** A symlink's stat: it is read again on every walk (a readlink is its stat). */
const NO_STAT: SnapshotEntry['stat'] = Object.freeze({ mtimeNs: 0n, ctimeNs: 0n, ino: 0n });

function gitBlobHasher(size: number): crypto.Hash {
  return crypto.createHash('sha1').update(`blob ${size}\0`);
}

/** The git blob id of a regular file; null when it is no longer one (replaced since its lstat). */
async function hashFile(file: string, size: number): Promise<string | null> {
  return withRegularFile(file, (fd, stat) => {
    if (size < READ_WHOLE_BELOW) {
      const data = fs.readFileSync(fd);
      // Changed between the stat and the read: hashed as read.
      return gitBlobHasher(data.length).update(data).digest('hex');
    }
    return (async () => {
      const hash = gitBlobHasher(stat.size);
      for await (const chunk of fs.createReadStream('', { fd, autoClose: false })) hash.update(chunk as Buffer);
      return hash.digest('hex');
    })();
  });
}

const isGone = (err: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '');

/**
 * Walks a workspace without following symlinks (a link is recorded by its target, never read
 * through), hashing every regular file. A missing workspace is an empty snapshot. Files that
 * vanish during the walk are skipped: the snapshot is of what could be read.
 */
export async function takeSnapshot(workspace: string, opts: SnapshotOptions = {}): Promise<Snapshot> {
  const exclude = new Set(opts.exclude ?? DEFAULT_SNAPSHOT_EXCLUDE);
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const snapshot: Snapshot = new Map();
  // Wall clock, as file timestamps are.
  snapshot.takenAtNs = BigInt(Date.now()) * 1_000_000n;
  snapshot.ignoreKey = ignoreKey(opts.ignore);
  const dirs = new Map<string, SnapshotDir>();
  snapshot.dirs = dirs;
  const previous = opts.previous;
  // Trees recorded under other ignore patterns describe other entries.
  const previousDirs = previous?.ignoreKey === snapshot.ignoreKey ? previous.dirs : undefined;
  const settledBefore = previous?.takenAtNs !== undefined ? previous.takenAtNs - (opts.settledNs ?? SETTLED_NS) : -1n;
  let seen = 0;
  let filesRead = 0;

  const slicer = timeSlicer();

  /**
   * Walks one directory; returns how many entries are under it and whether every one of them is
   * `previous`'s entry of the same path with the same contents and mode. A directory with as
   * many entries as `previous` had under it, all of them the same, has the same tree.
   */
  async function walk(dir: string, prefix: string, inherited: Rules[]): Promise<{ count: number; same: boolean }> {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if (isGone(err)) return { count: 0, same: true };
      throw err;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const rules = entries.some((e) => e.name === '.gitignore' && e.isFile())
      ? withGitignore(inherited, prefix, readGitignore(path.join(dir, '.gitignore')))
      : inherited;
    // Most walks have no rule that can match a file (HISTORY_IGNORE's are directories): no test per file then.
    const fileRules = rules.some((r) => r.filesToo);
    let count = 0;
    let same = true;
    for (const entry of entries) {
      if (prefix === '' && exclude.has(entry.name)) continue;
      // Never content, as in the history (history-tree.ts).
      if (entry.name === '.git') continue;
      const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      const isDir = entry.isDirectory();
      if ((isDir ? rules.length > 0 : fileRules) && isIgnored(rules, rel, isDir)) continue;
      if (++seen > maxEntries) throw new SnapshotLimitError(maxEntries);
      const turn = slicer.tick();
      if (turn) await turn;
      // Concatenated: path.join's normalising was a tenth of a large walk (dir is normal already).
      const abs = `${dir}/${entry.name}`;
      try {
        if (isDir) {
          const sub = await walk(abs, rel, rules);
          count += sub.count;
          same &&= sub.same;
        } else if (entry.isSymbolicLink()) {
          const target = fs.readlinkSync(abs, { encoding: 'buffer' });
          const hash = gitBlobHasher(target.length).update(target).digest('hex');
          const old = previous?.get(rel);
          if (old?.kind === 'symlink' && old.hash === hash) snapshot.set(rel, old);
          else {
            same = false;
            snapshot.set(rel, { kind: 'symlink', size: target.length, hash, executable: false, stat: NO_STAT });
          }
          count++;
        } else if (entry.isFile()) {
          const st = fs.lstatSync(abs, { bigint: true, throwIfNoEntry: false });
          if (!st?.isFile()) continue;
          const size = Number(st.size);
          const old = previous?.get(rel);
          const executable = (Number(st.mode) & 0o100) !== 0;
          if (
            old?.kind === 'file' &&
            old.size === size &&
            old.executable === executable &&
            old.stat.mtimeNs === st.mtimeNs &&
            old.stat.ctimeNs === st.ctimeNs &&
            old.stat.ino === st.ino &&
            st.ctimeNs < settledBefore &&
            st.mtimeNs < settledBefore
          ) {
            // The very entry: nothing about it changed (entries are shared between snapshots).
            snapshot.set(rel, old);
            count++;
            continue;
          }
          filesRead++;
          const hash = await hashFile(abs, size);
          if (hash === null) continue; // replaced by something else since the lstat
          if (old?.kind !== 'file' || old.hash !== hash || old.executable !== executable) same = false;
          snapshot.set(rel, {
            kind: 'file',
            size,
            hash,
            executable,
            stat: { mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino },
          });
          count++;
        }
        // Sockets, FIFOs and devices are not workspace content.
      } catch (err) {
        if (!isGone(err)) throw err;
      }
    }
    if (count > 0) {
      const was = previousDirs?.get(prefix);
      dirs.set(prefix, same && was?.count === count && was.oid !== undefined ? was : { count });
    }
    return { count, same };
  }

  await walk(path.resolve(workspace), '', baseRules(opts.ignore));
  snapshot.filesRead = filesRead;
  return snapshot;
}

/** Which paths appeared, changed (contents or kind) or disappeared between two snapshots; sorted. */
export function diffSnapshots(before: Snapshot, after: Snapshot): WorkspaceDiff {
  const created: string[] = [];
  const modified: string[] = [];
  const deleted: string[] = [];
  for (const [rel, entry] of after) {
    const old = before.get(rel);
    if (old === entry) continue; // the same entry, shared (takeSnapshot)
    if (!old) created.push(rel);
    else if (old.kind !== entry.kind || old.hash !== entry.hash) modified.push(rel);
  }
  for (const rel of before.keys()) if (!after.has(rel)) deleted.push(rel);
  return { created: created.sort(), modified: modified.sort(), deleted: deleted.sort() };
}
