import fs from 'node:fs';
import path from 'node:path';
import { findTimeArg, findTimeNs } from './find';
import { chooseSplit, globEscape, splittable } from './find-split';
import { filesystemNow, hostNowNs } from './fs-clock';
import type { WorkspaceFile } from './list';

// The last listing by find of each large workspace, kept in memory: the next listing of it has
// find print only the directories, the links and the files whose ctime or mtime is after that
// listing's start less 2 s (every entry is still lstat'ed by find, as git's refresh does, but a
// few hundred records come back instead of 20,000). When no directory changed (each has the
// stat it had, older than that moment: no entry came, went or was renamed in it), the listing
// is the last one with the sizes of the files printed; otherwise it is a full walk again. The
// history's snapshots do the same (@cwo/history's walkSince).

/** find's record of a directory: `d <inode> <mtime> <ctime> <path>`. */
const dirRecordArgs = (p: string) => ['(', '-type', 'd', '-printf', `d %i %T@ %C@ ${p}\\0`, ')', '-o'];
/** Of any other entry: `<type> <size> <path>`. */
const entryRecord = (p: string) => ['-printf', `%y %s ${p}\\0`];

/**
 * find's arguments for a listing; with `changedAfter` (`@<s>.<ns>`), files unchanged since are
 * left out. With `split` (listingSplit), two finds that walk it together, in parallel: the first
 * prunes those directories, the second starts at them (their paths printed whole, %p, are the
 * same as %P from the top); the records of both, in any order, are one find's.
 */
export function listingArgs(changedAfter?: string, split?: readonly string[]): string[][] {
  const unchanged =
    changedAfter === undefined
      ? []
      : ['(', '-type', 'f', '!', '-newerct', changedAfter, '!', '-newermt', changedAfter, ')', '-o'];
  const whole = ['.', '-mindepth', '1', ...dirRecordArgs('%P'), ...unchanged, ...entryRecord('%P')];
  if (!split?.length) return [whole];
  const paths = split.flatMap((d, i) => [...(i > 0 ? ['-o'] : []), '-path', `./${globEscape(d)}`]);
  // The prune comes before the directory's own record: the second find prints that one. The empty
  // -printf keeps the paths behind -type d: find moves tests on names before others in a
  // conjunction (every file would be matched against every path), not past an action.
  const pruned = ['(', '-type', 'd', '-printf', '', '(', ...paths, ')', '-prune', ')', '-o'];
  return [
    ['.', '-mindepth', '1', ...pruned, ...dirRecordArgs('%P'), ...unchanged, ...entryRecord('%P')],
    [...split, ...dirRecordArgs('%p'), ...unchanged, ...entryRecord('%p')],
  ];
}

/** A coarse clock can give two changes one timestamp: only a stat this much older than a listing is trusted. */
const SETTLED_NS = 2_000_000_000n;

interface Listing {
  /** When its walk began, by the workspace filesystem's clock (listingStart). */
  takenAtNs: bigint;
  /** The top directory's stat (topKey), and each directory's record without its path. */
  top: string;
  dirs: Map<string, string>;
  /** The latest change of any directory then (nanoseconds): before it is settled, find prints them all anyway. */
  newestDirNs: bigint;
  /** The regular files, sorted by path (links are judged again on every listing). */
  regular: WorkspaceFile[];
  /** Path -> index in `regular`, made when first needed. */
  index?: Map<string, number>;
  /** The directories a second find walks (listingSplit), chosen when first needed. */
  split?: string[] | null;
}

// Kept for the workspaces listed last, up to a total of files (about 150 bytes each).
const MAX_LISTINGS = 16;
const MAX_FILES = 400_000;
const listings = new Map<string, Listing>();
let keptFiles = 0;

function forget(realRoot: string): void {
  const known = listings.get(realRoot);
  if (!known) return;
  keptFiles -= known.regular.length;
  listings.delete(realRoot);
}

/**
 * When a listing starts, by the clock of the filesystem that holds the workspace (its parent's
 * ctime, touched: the workspace's own entries are what is listed).
 */
export function listingStart(realRoot: string): bigint {
  return filesystemNow(path.dirname(realRoot), hostNowNs);
}

/** The top directory's stat as a listing compares it; null when it is not a directory. */
export function topKey(realRoot: string): { key: string; mtimeNs: bigint; ctimeNs: bigint } | null {
  const st = fs.lstatSync(realRoot, { bigint: true, throwIfNoEntry: false });
  if (!st?.isDirectory()) return null;
  return { key: `${st.ino} ${st.mtimeNs} ${st.ctimeNs}`, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
}

/** Keeps a full listing by find (its regular files, sorted) for the next one. */
export function rememberListing(
  realRoot: string,
  takenAtNs: bigint,
  top: { key: string; mtimeNs: bigint; ctimeNs: bigint },
  dirRecords: string[],
  regular: WorkspaceFile[],
): void {
  const dirs = new Map<string, string>();
  let newestDirNs = top.mtimeNs > top.ctimeNs ? top.mtimeNs : top.ctimeNs;
  for (const r of dirRecords) {
    const d = dirRecord(r);
    if (!d) return;
    dirs.set(d.rel, d.key);
    for (const t of [d.mtime, d.ctime]) {
      const ns = timeNs(t);
      if (ns === null) return;
      if (ns > newestDirNs) newestDirNs = ns;
    }
  }
  forget(realRoot);
  listings.set(realRoot, { takenAtNs, top: top.key, dirs, newestDirNs, regular });
  keptFiles += regular.length;
  // Chosen once this answer has gone, for the next listing.
  setImmediate(() => listingSplit(realRoot));
  while (listings.size > 1 && (listings.size > MAX_LISTINGS || keptFiles > MAX_FILES)) {
    forget(listings.keys().next().value!);
  }
}

/**
 * The moment after which a change may not be in the last listing of `realRoot`; null without one,
 * or when a directory of it changed after that moment (a freshly written tree: the walk would
 * come back with everything and be done again in full).
 */
export function changedAfter(realRoot: string): { ns: bigint; arg: string } | null {
  const known = listings.get(realRoot);
  if (!known) return null;
  const ns = known.takenAtNs - SETTLED_NS;
  if (ns <= 0n || known.newestDirNs >= ns) return null;
  return { ns, arg: findTimeArg(ns) };
}

/** find's time as nanoseconds; null when it is not one. */
function timeNs(findTime: string): bigint | null {
  try {
    return BigInt(findTimeNs(findTime));
  } catch {
    return null;
  }
}

/** Whether find's time is earlier than `ns`. */
function earlier(findTime: string, ns: bigint): boolean {
  const t = timeNs(findTime);
  return t !== null && t < ns;
}

/** The parts of a directory record (see dirRecordArgs): its key (without the path) and its times. */
export function dirRecord(r: string): { key: string; rel: string; mtime: string; ctime: string } | null {
  const s1 = r.indexOf(' ', 2);
  const s2 = r.indexOf(' ', s1 + 1);
  const s3 = r.indexOf(' ', s2 + 1);
  if (s1 < 0 || s2 < 0 || s3 < 0) return null;
  return { key: r.slice(2, s3), rel: r.slice(s3 + 1), mtime: r.slice(s1 + 1, s2), ctime: r.slice(s2 + 1, s3) };
}

/**
 * The regular files of `realRoot` from a walk told to leave out files unchanged since
 * changedAfter(realRoot): the last listing's, with the sizes of the files find printed, when no
 * directory changed; null when one did (or came, or went), or there is no last listing: a full
 * walk then. `dirs` are the directory records find printed, `changed` the files (path, size).
 * The kept listing then describes the workspace as of `takenAtNs`.
 */
export function regularSince(
  realRoot: string,
  takenAtNs: bigint,
  top: { key: string; mtimeNs: bigint; ctimeNs: bigint },
  dirs: string[],
  changed: WorkspaceFile[],
): WorkspaceFile[] | null {
  const known = listings.get(realRoot);
  const since = changedAfter(realRoot);
  if (!known || !since) return null;
  if (top.key !== known.top || top.mtimeNs >= since.ns || top.ctimeNs >= since.ns) return null;
  if (dirs.length !== known.dirs.size) return null;
  for (const r of dirs) {
    const d = dirRecord(r);
    if (!d || known.dirs.get(d.rel) !== d.key || !earlier(d.mtime, since.ns) || !earlier(d.ctime, since.ns)) {
      return null;
    }
  }
  let index = known.index;
  if (!index) {
    index = new Map();
    for (let i = 0; i < known.regular.length; i++) index.set(known.regular[i]!.path, i);
    known.index = index;
  }
  const regular = changed.length > 0 ? known.regular.slice() : known.regular;
  for (const f of changed) {
    const at = index.get(f.path);
    // A file that came where no directory changed: not what find printed before.
    if (at === undefined) return null;
    regular[at] = f;
  }
  known.regular = regular;
  known.takenAtNs = takenAtNs;
  // Used last: forgotten last.
  listings.delete(realRoot);
  listings.set(realRoot, known);
  return regular;
}

/** Below this many entries a second find costs more than it saves (a process start, ~1-2 ms). */
const SPLIT_FROM_ENTRIES = 4000;

/**
 * Disjoint directories holding about half of the entries of the last listing of `realRoot`, for
 * a second find to walk at once (chooseSplit); null for one find (a small workspace, no listing
 * kept, no such set). A directory gone or replaced since makes that walk fail, and the listing
 * walks in JS then (list.ts).
 */
export function listingSplit(realRoot: string): string[] | null {
  const known = listings.get(realRoot);
  if (!known) return null;
  if (known.split !== undefined) return known.split;
  const total = known.regular.length + known.dirs.size;
  if (total < SPLIT_FROM_ENTRIES) return (known.split = null);
  // Entries under each directory: each file and directory counted in its parent, then each
  // directory's count added to its parent's, deepest first.
  const counts = new Map<string, { count: number }>([['', { count: 0 }]]);
  for (const d of known.dirs.keys()) counts.set(d, { count: 0 });
  const parentOf = (p: string) => {
    const slash = p.lastIndexOf('/');
    return slash < 0 ? '' : p.slice(0, slash);
  };
  for (const f of known.regular) {
    const c = counts.get(parentOf(f.path));
    if (c) c.count++;
  }
  const byDepth = [...known.dirs.keys()].sort((a, b) => b.split('/').length - a.split('/').length);
  for (const d of byDepth) {
    const parent = counts.get(parentOf(d));
    if (parent) parent.count += counts.get(d)!.count + 1;
  }
  known.split = chooseSplit(counts, splittable);
  return known.split;
}

/** How the listings by find went (tests, diagnostics): in full, or from the last one; split over two finds. */
export const listingWalks = { full: 0, since: 0, split: 0 };

/** Tests: forgets every kept listing. */
export function forgetListings(): void {
  listings.clear();
  keptFiles = 0;
}
