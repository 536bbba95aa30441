import crypto from 'node:crypto';
import fs from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import { findArgs, findRecords } from './find-walk';
import { chooseSplit, splitFindRecords, splittable } from './find-split';
import {
  CODEX_DIR,
  filesystemNow,
  findTimeArg,
  findTimeNs,
  hostNowNs,
  timeSlicer,
  withRegularFile,
} from '@cwo/workspace';
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
  /** How the walk got its stats: from one find child, or by an lstat per file in JS. */
  walker?: 'find' | 'js';
  /** How many records find printed (only the directories, links and changed files after a walk by find). */
  recordsParsed?: number;
  /** How many entries are `previous`'s, taken over without find printing them (walkSince). */
  carried?: number;
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
  /**
   * Tests: 'find' walks with find whatever the workspace's size, 'js' without it (as where find
   * cannot). By default find walks the workspaces whose `previous` has FIND_FROM_ENTRIES or more.
   */
  walker?: 'find' | 'js';
  /** Tests: false parses all of find's output even when `previous` was taken by find too. */
  incremental?: boolean;
  /** Tests: this host's clock in nanoseconds (Date.now's); file times are compared with the workspace's own (walkStart). */
  now?: () => bigint;
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

// What a file's stat says, as one string (size, mtime and ctime in ns, inode, owner's execute
// bit): the walk by find compares it without a number conversion. Kept with the entry, which is
// shared from one snapshot to the next.
const statKeys = new WeakMap<SnapshotEntry, string>();

/** An entry's stat key (see statKeys), for a stat read by find or recorded in the index. */
export function statKeyOf(e: SnapshotEntry): string {
  let key = statKeys.get(e);
  if (key === undefined) {
    key = `${e.size} ${e.stat.mtimeNs} ${e.stat.ctimeNs} ${e.stat.ino} ${e.executable ? 1 : 0}`;
    statKeys.set(e, key);
  }
  return key;
}

/** Records an entry's stat key when it is known as text already (stat-index.ts). */
export function setStatKey(e: SnapshotEntry, key: string): void {
  statKeys.set(e, key);
}

/** a < b for non-negative decimal integers without leading zeros. */
const decimalLess = (a: string, b: string) => a.length < b.length || (a.length === b.length && a < b);

// Starting a child costs a few milliseconds (more than the JS walk of a small workspace), so find
// walks only a workspace whose last snapshot had this many entries (without one, every file is
// read anyway, and reading, not the stats, is the cost).
const FIND_FROM_ENTRIES = 5000;

// Set when `find` cannot walk here (not installed, no -printf): the walk is done in JS from then on.
let findUnusable = false;

/** The top-level names of HISTORY_IGNORE find can leave unentered: `name/`, no wildcard, no negation. */
function prunableNames(patterns: readonly string[] | undefined): string[] {
  return (patterns ?? []).filter((p) => /^[^/!#\\*?[\]\s]+\/$/.test(p)).map((p) => p.slice(0, -1));
}

/**
 * Walks a workspace without following symlinks (a link is recorded by its target, never read
 * through), hashing every regular file whose stat is not that of `previous`. A missing workspace
 * is an empty snapshot. Files that vanish during the walk are skipped: the snapshot is of what
 * could be read. The stats of a large workspace come from one `find` child (find-walk.ts); the
 * same walk is done in JS otherwise (and when find fails half-way: an entry that vanished, one it
 * may not read).
 */
export async function takeSnapshot(workspace: string, opts: SnapshotOptions = {}): Promise<Snapshot> {
  const root = path.resolve(workspace);
  // Before the first stat: what the next walk trusts must be older than this.
  const takenAtNs = walkStart(root, opts);
  const large = (opts.previous?.size ?? 0) >= FIND_FROM_ENTRIES;
  if (!findUnusable && (opts.walker === 'find' || (opts.walker !== 'js' && large)) && fs.existsSync(root)) {
    const viaFind = await walkWithFind(root, opts, takenAtNs);
    if (viaFind) return viaFind;
  }
  const walk = newWalk(opts, takenAtNs);
  walk.finishDir('', await walk.dir(root, '', baseRules(opts.ignore)));
  return walk.done('js');
}

/**
 * When a walk starts, by the workspace's own filesystem clock (@cwo/workspace's filesystemNow,
 * read off the runner's `.codex/`, which no walk enters), so that file times are compared with a
 * time of their own clock; this host's where there is no `.codex/` directory to touch.
 */
function walkStart(root: string, opts: SnapshotOptions): bigint {
  const host = () => opts.now?.() ?? hostNowNs();
  if (!(opts.exclude ?? DEFAULT_SNAPSHOT_EXCLUDE).includes(CODEX_DIR)) return host();
  return filesystemNow(`${root}/${CODEX_DIR}`, host);
}

/** What both walks share: the snapshot being made, and how each entry and directory goes in it. */
function newWalk(opts: SnapshotOptions, takenAtNs: bigint) {
  const exclude = new Set(opts.exclude ?? DEFAULT_SNAPSHOT_EXCLUDE);
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const snapshot: Snapshot = new Map();
  // Wall clock, as file timestamps are.
  snapshot.takenAtNs = takenAtNs;
  snapshot.ignoreKey = ignoreKey(opts.ignore);
  const dirs = new Map<string, SnapshotDir>();
  snapshot.dirs = dirs;
  const previous = opts.previous;
  // Trees recorded under other ignore patterns describe other entries.
  const previousDirs = previous?.ignoreKey === snapshot.ignoreKey ? previous.dirs : undefined;
  const settledBefore = previous?.takenAtNs !== undefined ? previous.takenAtNs - (opts.settledNs ?? SETTLED_NS) : -1n;
  const settledText = settledBefore < 0n ? '0' : String(settledBefore);
  let seen = 0;
  let filesRead = 0;
  const slicer = timeSlicer();

  /** Counts an entry against the limit, and gives the event loop its turn now and then. */
  const count = (): Promise<void> | null => {
    if (++seen > maxEntries) throw new SnapshotLimitError(maxEntries);
    return slicer.tick();
  };
  /** Counts entries taken over from `previous` unwalked (walkSince). */
  const countKept = (n: number): void => {
    seen += n;
    if (seen > maxEntries) throw new SnapshotLimitError(maxEntries);
  };

  /** A regular file whose stat was not `previous`'s: hashed. Returns whether it has `previous`'s contents. */
  async function hashed(
    rel: string,
    abs: string,
    size: number,
    executable: boolean,
    stat: SnapshotEntry['stat'],
    key?: string,
  ): Promise<boolean | null> {
    filesRead++;
    const hash = await hashFile(abs, size);
    if (hash === null) return null; // replaced by something else since its stat
    const old = previous?.get(rel);
    const entry: SnapshotEntry = { kind: 'file', size, hash, executable, stat };
    if (key !== undefined) statKeys.set(entry, key);
    snapshot.set(rel, entry);
    return old?.kind === 'file' && old.hash === hash && old.executable === executable;
  }

  /**
   * A regular file by an lstat in JS: kept as `previous`'s entry when its stat is, and settled;
   * hashed otherwise. Returns whether it has `previous`'s contents; null when it is not a regular
   * file (any more).
   */
  async function fileByLstat(rel: string, abs: string): Promise<boolean | null> {
    const st = fs.lstatSync(abs, { bigint: true, throwIfNoEntry: false });
    if (!st?.isFile()) return null;
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
      return true;
    }
    const stat = { mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino };
    return hashed(rel, abs, size, executable, stat);
  }

  /** A symlink: its target read (a readlink is its stat). Returns whether it is `previous`'s. */
  function link(rel: string, abs: string): boolean {
    const target = fs.readlinkSync(abs, { encoding: 'buffer' });
    const hash = gitBlobHasher(target.length).update(target).digest('hex');
    const old = previous?.get(rel);
    if (old?.kind === 'symlink' && old.hash === hash) {
      snapshot.set(rel, old);
      return true;
    }
    snapshot.set(rel, { kind: 'symlink', size: target.length, hash, executable: false, stat: NO_STAT });
    return false;
  }

  /**
   * A directory walked: `count` entries under it, `same` when every one is `previous`'s entry of
   * the same path with the same contents and mode. With as many entries as `previous` had under
   * it, all the same, it has the same tree.
   */
  function finishDir(prefix: string, { count, same }: { count: number; same: boolean }): void {
    if (count === 0) return;
    const was = previousDirs?.get(prefix);
    dirs.set(prefix, same && was?.count === count && was.oid !== undefined ? was : { count });
  }

  /** Walks one directory in JS (readdir, an lstat per file). */
  async function dir(abs: string, prefix: string, inherited: Rules[]): Promise<{ count: number; same: boolean }> {
    let entries;
    try {
      entries = fs.readdirSync(abs, { withFileTypes: true });
    } catch (err) {
      if (isGone(err)) return { count: 0, same: true };
      throw err;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const rules = entries.some((e) => e.name === '.gitignore' && e.isFile())
      ? withGitignore(inherited, prefix, readGitignore(path.join(abs, '.gitignore')))
      : inherited;
    // Most walks have no rule that can match a file (HISTORY_IGNORE's are directories): no test per file then.
    const fileRules = rules.some((r) => r.filesToo);
    let n = 0;
    let same = true;
    for (const entry of entries) {
      if (prefix === '' && exclude.has(entry.name)) continue;
      // Never content, as in the history (history-tree.ts).
      if (entry.name === '.git') continue;
      const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      const isDir = entry.isDirectory();
      if ((isDir ? rules.length > 0 : fileRules) && isIgnored(rules, rel, isDir)) continue;
      const turn = count();
      if (turn) await turn;
      // Concatenated: path.join's normalising was a tenth of a large walk (abs is normal already).
      const child = `${abs}/${entry.name}`;
      try {
        if (isDir) {
          const sub = await dir(child, rel, rules);
          finishDir(rel, sub);
          n += sub.count;
          same &&= sub.same;
        } else if (entry.isSymbolicLink()) {
          same = link(rel, child) && same;
          n++;
        } else if (entry.isFile()) {
          const kept = await fileByLstat(rel, child);
          if (kept === null) continue;
          same &&= kept;
          n++;
        }
        // Sockets, FIFOs and devices are not workspace content.
      } catch (err) {
        if (!isGone(err)) throw err;
      }
    }
    return { count: n, same };
  }

  return {
    snapshot,
    exclude,
    maxEntries,
    previous,
    ignore: opts.ignore,
    settledBefore,
    settledText,
    count,
    countKept,
    seen: () => seen,
    tick: () => slicer.tick(),
    hashed,
    fileByLstat,
    link,
    dir,
    finishDir,
    done(walker: 'find' | 'js'): Snapshot {
      snapshot.filesRead = filesRead;
      snapshot.walker = walker;
      return snapshot;
    },
  };
}

type Walk = ReturnType<typeof newWalk>;

/**
 * What a walk by find leaves for the next one (kept beside its snapshot, in memory only): the
 * stat of each directory it walked, and what it decided for each. The next walk by find under
 * the same arguments has find print only what changed since (walkSince).
 */
interface FindState {
  /** The workspace, find's arguments and the ignore patterns: walks compare only under the same. */
  key: string;
  /** Each directory walked ('' the top) -> its stat as text (dirKey): same text, same directory. */
  dirs: Map<string, string>;
  /** Entries counted against maxEntries (every record not ignored, as `count` counts them). */
  seen: number;
  /** Each directory walked -> the rules that apply to its entries. */
  rules: Map<string, Rules[]>;
  /** Directories left out by a rule, whose entries find still printed. */
  ignoredDirs: Set<string>;
  /** The .gitignore files whose rules were read (their entries must be settled for the rules to be). */
  gitignores: string[];
  /** Whether the snapshot is find's output alone: no record of it vanished before it was read. */
  exact: boolean;
}
const findStates = new WeakMap<Snapshot, FindState>();

/** `f <size> <inode> <mtime> <ctime> <mode> <path>` (pathAt: where the path starts), as a snapshot compares it. */
function fileRecord(r: string, pathAt: number) {
  const s2 = r.indexOf(' ', 2);
  const s3 = r.indexOf(' ', s2 + 1);
  const s4 = r.indexOf(' ', s3 + 1);
  const s5 = r.indexOf(' ', s4 + 1);
  const size = r.slice(2, s2);
  const ino = r.slice(s2 + 1, s3);
  const mtime = findTimeNs(r.slice(s3 + 1, s4));
  const ctime = findTimeNs(r.slice(s4 + 1, s5));
  const executable = (parseInt(r.slice(s5 + 1, pathAt - 1), 8) & 0o100) !== 0;
  return { size, ino, mtime, ctime, executable, key: `${size} ${mtime} ${ctime} ${ino} ${executable ? 1 : 0}` };
}

/** A file find printed: kept as `previous`'s entry when its stat is, and settled; hashed otherwise. */
async function fileFromRecord(
  walk: Walk,
  rel: string,
  abs: string,
  r: string,
  pathAt: number,
): Promise<boolean | null> {
  const { size, ino, mtime, ctime, executable, key } = fileRecord(r, pathAt);
  const old = walk.previous?.get(rel);
  if (
    old?.kind === 'file' &&
    statKeyOf(old) === key &&
    decimalLess(ctime, walk.settledText) &&
    decimalLess(mtime, walk.settledText)
  ) {
    walk.snapshot.set(rel, old);
    return true;
  }
  let stat: SnapshotEntry['stat'];
  try {
    stat = { mtimeNs: BigInt(mtime), ctimeNs: BigInt(ctime), ino: BigInt(ino) };
  } catch {
    throw new NotFindOutput(); // not what find prints: the JS walk decides
  }
  return walk.hashed(rel, abs, Number(size), executable, stat, key);
}

class NotFindOutput extends Error {}

/** A directory's stat as walkSince compares it, and whether it is older than `since` (see changedAfter). */
interface DirStat {
  key: string;
  settled: boolean;
}

/** The top directory's (find prints only what is under it); null when it cannot be lstat'ed. */
function topDirStat(root: string, sinceNs: bigint | null): DirStat | null {
  const st = fs.lstatSync(root, { bigint: true, throwIfNoEntry: false });
  if (!st?.isDirectory()) return null;
  return {
    key: `top ${st.ino} ${st.mtimeNs} ${st.ctimeNs} ${st.mode}`,
    settled: sinceNs !== null && st.mtimeNs < sinceNs && st.ctimeNs < sinceNs,
  };
}

/**
 * The moment before which nothing a walk after `previous` finds can have changed unseen by it:
 * `previous`'s start less the timestamps' coarseness (SETTLED_NS), and never later than what its
 * options trust; null when `previous` has no start.
 */
function changedAfter(previous: Snapshot, opts: SnapshotOptions): { ns: bigint; text: string; arg: string } | null {
  const taken = previous.takenAtNs;
  if (taken === undefined) return null;
  const trusted = taken - (opts.settledNs ?? SETTLED_NS);
  const ns = trusted < taken - SETTLED_NS ? trusted : taken - SETTLED_NS;
  if (ns <= 0n) return null;
  return { ns, text: String(ns), arg: findTimeArg(ns) };
}

/**
 * The walk from find's output (find-walk.ts): the same decisions as the JS walk, in the same
 * order (find prints a directory, then everything under it), the ignore rules applied here. Null
 * when find could not walk it: the JS walk does it all then. When `previous` was taken by find
 * too, find prints only the directories, links and files changed since (walkSince), and the
 * other entries are `previous`'s.
 */
async function walkWithFind(root: string, opts: SnapshotOptions, takenAtNs: bigint): Promise<Snapshot | null> {
  const exclude = [...new Set(opts.exclude ?? DEFAULT_SNAPSHOT_EXCLUDE)];
  const prune = prunableNames(opts.ignore);
  const args = findArgs({ exclude, prune });
  // What it may print beyond the snapshot's own limit: ignored entries it cannot leave unentered.
  const maxRecords = (opts.maxEntries ?? DEFAULT_MAX_ENTRIES) * 4 + 1000;
  const split = splitDirs(opts, exclude);
  // Split or not, the same records (find-split.ts); one find again when the split walk failed.
  const run = async (a: string[]) =>
    (split && (await splitFindRecords(root, a, split, maxRecords))) ?? (await findRecords(root, a, maxRecords));
  const key = JSON.stringify([root, args, ignoreKey(opts.ignore)]);
  const last = opts.previous ? findStates.get(opts.previous) : undefined;
  const since =
    last?.key === key && last.exact && opts.incremental !== false ? changedAfter(opts.previous!, opts) : null;
  const top = topDirStat(root, since?.ns ?? null);
  if (top === null) return null;
  try {
    if (since) {
      const changed = await run(findArgs({ exclude, prune, changedAfter: since.arg }));
      const snapshot = changed && (await walkSince(root, newWalk(opts, takenAtNs), last!, changed, top, since.text));
      if (snapshot) return snapshot;
    }
    const records = await run(args);
    if (records === null) {
      if (!(await findWorks())) findUnusable = true;
      return null;
    }
    return await walkRecords(root, newWalk(opts, takenAtNs), key, records, top);
  } catch (err) {
    if (err instanceof NotFindOutput) return null;
    throw err;
  }
}

// A walk is split over two finds at once (find-split.ts) only where there are two cores, and only
// for a workspace large enough that the second child's start pays for itself.
const SPLIT_FROM_ENTRIES = 8000;

/** The directories a second find walks (see chooseSplit), from `previous`'s; null for one find. */
function splitDirs(opts: SnapshotOptions, exclude: readonly string[]): string[] | null {
  const previous = opts.previous;
  if (!previous?.dirs || previous.size < SPLIT_FROM_ENTRIES || os.availableParallelism() < 2) return null;
  const pruned = new Set([...prunableNames(opts.ignore), '.git']);
  const excluded = new Set(exclude);
  // Not a directory find leaves unentered by its name (nor one under such).
  const usable = (rel: string) => {
    const slash = rel.lastIndexOf('/');
    const name = rel.slice(slash + 1);
    return splittable(rel) && !pruned.has(name) && !(slash < 0 && excluded.has(name));
  };
  return chooseSplit(previous.dirs, usable);
}

/** Every record of find's output, in order. */
async function walkRecords(
  root: string,
  walk: Walk,
  key: string,
  records: string[],
  topDir: DirStat,
): Promise<Snapshot> {
  const state: FindState = {
    key,
    dirs: new Map([['', topDir.key]]),
    seen: 0,
    rules: new Map(),
    ignoredDirs: new Set(),
    gitignores: [],
    exact: true,
  };
  // Which directories hold a .gitignore (a directory's rules apply to all its entries, and find
  // prints its subdirectories' entries before some of its own).
  const withGitignoreFile = new Set<string>();
  for (const r of records) {
    if (r.charCodeAt(0) !== 102 /* f */ || !r.endsWith('.gitignore')) continue;
    const rel = r.slice(nthSpace(r, 6) + 1);
    const slash = rel.lastIndexOf('/');
    if (rel.slice(slash + 1) === '.gitignore') withGitignoreFile.add(slash < 0 ? '' : rel.slice(0, slash));
  }
  const rulesOf = (rel: string, inherited: Rules[]) => {
    if (!withGitignoreFile.has(rel)) return inherited;
    state.gitignores.push(rel === '' ? '.gitignore' : `${rel}/.gitignore`);
    return withGitignore(inherited, rel, readGitignore(path.join(root, rel, '.gitignore')));
  };

  interface Frame {
    rel: string;
    rules: Rules[];
    fileRules: boolean;
    count: number;
    same: boolean;
  }
  const frame = (rel: string, rules: Rules[]): Frame => {
    state.rules.set(rel, rules);
    return { rel, rules, fileRules: rules.some((r) => r.filesToo), count: 0, same: true };
  };
  const stack: Frame[] = [frame('', rulesOf('', baseRules(walk.ignore)))];
  const pop = () => {
    const done = stack.pop()!;
    walk.finishDir(done.rel, done);
    const parent = stack.at(-1)!;
    parent.count += done.count;
    parent.same &&= done.same;
  };
  let skipUnder: string | null = null;

  for (const r of records) {
    const parts = recordParts(r);
    if (!parts) throw new NotFindOutput();
    const { type, pathAt, rel, parent: parentRel } = parts;
    if (rel === '') continue;
    // Under an ignored directory: nothing there is content (find printed it all together).
    if (skipUnder !== null) {
      if (rel.startsWith(skipUnder)) continue;
      skipUnder = null;
    }
    while (stack.at(-1)!.rel !== parentRel) {
      if (stack.length === 1) throw new NotFindOutput(); // not in find's order after all
      pop();
    }
    const top = stack.at(-1)!;
    const abs = `${root}/${rel}`;
    const isDir = type === 100 /* d */ || type === 80;
    if ((isDir ? top.rules.length > 0 : top.fileRules) && isIgnored(top.rules, rel, isDir)) {
      if (isDir) {
        skipUnder = `${rel}/`;
        state.ignoredDirs.add(rel);
      }
      continue;
    }
    const turn = walk.count();
    if (turn) await turn;
    try {
      if (type === 80) {
        // Left unentered by name, yet not ignored (a .gitignore took it back): walked in JS, so
        // find's output does not say what is under it.
        state.exact = false;
        const sub = await walk.dir(abs, rel, top.rules);
        walk.finishDir(rel, sub);
        top.count += sub.count;
        top.same &&= sub.same;
      } else if (type === 100) {
        state.dirs.set(rel, r.slice(0, pathAt - 1));
        stack.push(frame(rel, rulesOf(rel, top.rules)));
      } else if (type === 108 /* l */) {
        top.same = walk.link(rel, abs) && top.same;
        top.count++;
      } else if (type === 102 /* f */) {
        const kept = await fileFromRecord(walk, rel, abs, r, pathAt);
        if (kept === null) {
          state.exact = false;
          continue;
        }
        top.same &&= kept;
        top.count++;
      }
      // Sockets, FIFOs and devices are not workspace content.
    } catch (err) {
      if (!isGone(err)) throw err;
      state.exact = false;
    }
  }
  while (stack.length > 1) pop();
  walk.finishDir('', stack[0]!);
  state.seen = walk.seen();
  const snapshot = walk.done('find');
  snapshot.recordsParsed = records.length;
  findStates.set(snapshot, state);
  return snapshot;
}

/**
 * The snapshot from the output of a find told to leave out the files unchanged since `since`
 * (changedAfter), when the walk before, `last`, was by find under the same arguments: a file that
 * did not change since then, in a directory that did not either (the same stat as in `last`, older
 * than `since`: no entry came, went or was renamed in it since), is `previous`'s entry, unread.
 * The directories that did change (or came) are listed again here, each entry of theirs decided as
 * the full walk does; those that went take their entries with them. The same snapshot as
 * walkRecords would make; null when the walk must be a full one after all (a .gitignore changed,
 * came or went; find's output and the listings disagree, as when something changed meanwhile).
 */
async function walkSince(
  root: string,
  walk: Walk,
  last: FindState,
  records: string[],
  top: DirStat,
  since: string,
): Promise<Snapshot | null> {
  const previous = walk.previous!;
  const previousDirs = previous.ignoreKey === walk.snapshot.ignoreKey ? previous.dirs : undefined;
  const topRules = last.rules.get('');
  if (!previousDirs || !topRules) return null;
  const settled = walk.settledBefore;
  const unsettled = (e: SnapshotEntry) => e.stat.mtimeNs >= settled || e.stat.ctimeNs >= settled;
  // The rules are those the walk before read: only if their files are as they were then.
  const gitignores = new Set(last.gitignores);
  for (const rel of gitignores) {
    const e = previous.get(rel);
    if (e?.kind !== 'file' || unsettled(e)) return null;
  }

  // What find printed: every directory (its stat tells whether it changed), every link, other
  // kinds, and the files changed since.
  const dirs = new Map<string, string>([['', top.key]]);
  const rules = new Map<string, Rules[]>([['', topRules]]);
  const ignoredDirs = new Set<string>();
  const relisted = new Set<string>();
  if (last.dirs.get('') !== top.key || !top.settled) relisted.add('');
  type Printed = { type: number; r: string; pathAt: number };
  const printed = new Map<string, Printed>();
  let skipUnder: string | null = null;
  for (const r of records) {
    const parts = recordParts(r);
    if (!parts) return null;
    const { type, pathAt, rel, slash, parent } = parts;
    if (rel === '') continue;
    // Under an ignored directory: nothing there is content (find printed it all together).
    if (skipUnder !== null) {
      if (rel.startsWith(skipUnder)) continue;
      skipUnder = null;
    }
    const dirRules = rules.get(parent);
    if (dirRules === undefined) return null; // not in find's order after all
    const isDir = type === 100 /* d */ || type === 80;
    if ((isDir ? dirRules.length > 0 : dirRules.some((x) => x.filesToo)) && isIgnored(dirRules, rel, isDir)) {
      if (isDir) {
        skipUnder = `${rel}/`;
        ignoredDirs.add(rel);
      }
      continue;
    }
    // Left unentered by name, yet not ignored: the full walk walks it in JS.
    if (type === 80) return null;
    if (type === 100) {
      const key = r.slice(0, pathAt - 1);
      const own = last.rules.get(rel);
      // A directory that came inherits its parent's rules (a .gitignore in it is seen by its listing).
      rules.set(rel, own ?? dirRules);
      dirs.set(rel, key);
      if (own === undefined || last.dirs.get(rel) !== key || !dirSettled(r, pathAt, since)) relisted.add(rel);
      continue;
    }
    if (type === 102 /* f */ && rel.slice(slash + 1) === '.gitignore') return null; // its rules changed
    printed.set(rel, { type, r, pathAt });
  }

  // previous's entries in the directories that did not change, unless find printed them.
  const snapshot = walk.snapshot;
  const touched = new Set<string>();
  for (const [rel, e] of previous) {
    const slash = rel.lastIndexOf('/');
    const parent = slash < 0 ? '' : rel.slice(0, slash);
    if (!dirs.has(parent) || relisted.has(parent) || printed.has(rel)) {
      touched.add(rel);
      continue;
    }
    // find prints every link: one it did not print is gone, and its directory changed after all.
    if (e.kind === 'symlink') return null;
    snapshot.set(rel, e);
  }
  const carried = snapshot.size;
  walk.countKept(carried + dirs.size - 1);

  let exact = true;
  /** One entry decided as the full walk decides it (find's record for it, when find printed one). */
  const decide = async (rel: string, abs: string, kind: 'file' | 'symlink' | 'other', item?: Printed) => {
    touched.add(rel);
    const turn = walk.count();
    if (turn) await turn;
    try {
      if (kind === 'symlink') walk.link(rel, abs);
      else if (kind === 'file') {
        const kept =
          item?.type === 102
            ? await fileFromRecord(walk, rel, abs, item.r, item.pathAt)
            : await walk.fileByLstat(rel, abs);
        if (kept === null) exact = false;
      }
      // Sockets, FIFOs and devices: counted, not content.
    } catch (err) {
      if (!isGone(err)) throw err;
      exact = false;
    }
  };
  const kindOf = (type: number) => (type === 102 ? 'file' : type === 108 /* l */ ? 'symlink' : 'other');
  for (const [rel, item] of printed) {
    const slash = rel.lastIndexOf('/');
    if (!relisted.has(slash < 0 ? '' : rel.slice(0, slash)))
      await decide(rel, `${root}/${rel}`, kindOf(item.type), item);
  }

  // The directories that changed or came: their entries as they are now.
  for (const d of relisted) {
    const abs = d === '' ? root : `${root}/${d}`;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(abs, { withFileTypes: true });
    } catch (err) {
      if (!isGone(err)) throw err;
      exact = false;
      continue;
    }
    const dirRules = rules.get(d)!;
    const fileRules = dirRules.some((x) => x.filesToo);
    for (const entry of entries) {
      if (d === '' && walk.exclude.has(entry.name)) continue;
      if (entry.name === '.git') continue;
      const rel = d === '' ? entry.name : `${d}/${entry.name}`;
      if (entry.isDirectory()) {
        // One find did not print came meanwhile.
        if (!dirs.has(rel) && !ignoredDirs.has(rel)) return null;
        continue;
      }
      if (fileRules && isIgnored(dirRules, rel, false)) continue;
      if (entry.name === '.gitignore' && entry.isFile() && !gitignores.has(rel)) return null; // a .gitignore came
      const kind = entry.isSymbolicLink() ? 'symlink' : entry.isFile() ? 'file' : 'other';
      await decide(rel, `${abs}/${entry.name}`, kind, printed.get(rel));
    }
    const own = d === '' ? '.gitignore' : `${d}/.gitignore`;
    if (gitignores.has(own) && !snapshot.has(own)) return null; // a .gitignore went
  }
  // A .gitignore of a directory that went goes with it.
  for (const rel of gitignores) if (!snapshot.has(rel)) return null;

  // The directories above an entry that changed lose their tree; their counts follow.
  const dirInfo = snapshot.dirs!;
  for (const [d, info] of previousDirs) dirInfo.set(d, info.oid !== undefined ? info : { count: info.count });
  const sameEntry = (a: SnapshotEntry | undefined, b: SnapshotEntry | undefined) =>
    a === b ||
    (a !== undefined && b !== undefined && a.kind === b.kind && a.hash === b.hash && a.executable === b.executable);
  for (const rel of touched) {
    const old = previous.get(rel);
    const cur = snapshot.get(rel);
    if (sameEntry(old, cur)) continue;
    const delta = (cur ? 1 : 0) - (old ? 1 : 0);
    for (let d = rel; d !== '';) {
      const slash = d.lastIndexOf('/');
      d = slash < 0 ? '' : d.slice(0, slash);
      const count = (dirInfo.get(d)?.count ?? 0) + delta;
      if (count > 0) dirInfo.set(d, { count });
      else dirInfo.delete(d);
    }
  }
  const done = walk.done('find');
  done.recordsParsed = records.length;
  done.carried = carried;
  findStates.set(done, {
    key: last.key,
    dirs,
    seen: walk.seen(),
    rules,
    ignoredDirs,
    gitignores: last.gitignores,
    exact,
  });
  return done;
}

/** Whether a directory's record says it has not changed since `since` (decimal nanoseconds). */
function dirSettled(r: string, pathAt: number, since: string): boolean {
  const { mtime, ctime } = fileRecord(r, pathAt);
  return decimalLess(mtime, since) && decimalLess(ctime, since);
}

/** A record's type, where its path starts, its path and its directory's ('' the top); null when not find's. */
function recordParts(r: string) {
  const type = r.charCodeAt(0);
  const pathAt = type === 80 /* P */ ? 2 : nthSpace(r, 6) + 1;
  if (pathAt <= 0) return null;
  const rel = r.slice(pathAt);
  const slash = rel.lastIndexOf('/');
  return { type, pathAt, rel, slash, parent: slash < 0 ? '' : rel.slice(0, slash) };
}

/** The index of the n-th space of a record (1-based). */
function nthSpace(r: string, n: number): number {
  let at = -1;
  for (let i = 0; i < n; i++) at = r.indexOf(' ', at + 1);
  return at;
}

/** Whether GNU find is here (a failed walk may be an entry that vanished, or no find with -printf). */
let findProbe: Promise<boolean> | null = null;
function findWorks(): Promise<boolean> {
  findProbe ??= new Promise((resolve) => {
    execFile(
      'find',
      ['/', '-maxdepth', '0', '-printf', 'ok'],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
      (err, out) => resolve(!err && out === 'ok'),
    );
  });
  return findProbe;
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
