import fs, { type Dirent, type Stats } from 'node:fs';
import { isInsideDirectory } from './containment';
import { scanFind } from './find';
import {
  changedAfter,
  dirRecord,
  listingArgs,
  listingSplit,
  listingStart,
  listingWalks,
  regularSince,
  rememberListing,
  topKey,
} from './listing-cache';
import { GONE, statSizesElsewhere } from './stat-worker';
import { DEFAULT_SLICE_MS, timeSlicer, type TimeSlicer } from './time-slice';

// Lists a workspace for the files endpoint (as os.walk with followlinks=False): every
// regular file, hidden ones and .codex included; symlinked directories are never entered; a
// symlinked file is listed only when its real path stays inside the workspace.
//
// A workspace that last listed large is walked by one `find` child (find.ts): an lstat from Node
// costs a Stats object of four Dates each, most of a JS listing's time (docs/benchmarks.md, B4),
// where find makes the same calls in C while this thread parses what it printed. Small ones, and
// any walk find could not finish, are walked here with synchronous calls in short time slices:
// about twice as fast as callbacks through libuv's thread pool, while the event loop still gets a
// turn every few milliseconds. The trade-off: one filesystem call that hangs (a dead network
// volume) blocks the process, as it would block the thread pool.

export interface WorkspaceFile {
  /** Workspace-relative, forward-slash path. */
  path: string;
  /** Size in bytes (of the target, for a symlinked file). */
  size: number;
}

export interface ListOptions {
  /** Longest stretch of synchronous work before the event loop gets a turn, in ms. */
  sliceMs?: number;
  /** Files above which half of the stat calls go to a worker thread (Infinity: never). */
  parallelAbove?: number;
  /** Which walk: by default JS for a small workspace, find for one of FIND_FROM_ENTRIES entries. */
  walker?: 'find' | 'js';
}

/** Below this, handing work to the thread costs more than it saves (~5 ms of stat calls). */
const DEFAULT_PARALLEL_ABOVE = 2000;

/** Entries the JS walk reads before it leaves the rest to find (starting find costs more below). */
const FIND_FROM_ENTRIES = 1000;

const isGone = (err: unknown): boolean =>
  ['ENOENT', 'ENOTDIR', 'ELOOP'].includes((err as NodeJS.ErrnoException)?.code ?? '');

const byPath = (a: WorkspaceFile, b: WorkspaceFile): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** Stats without throwing for entries that vanished meanwhile (the runner may be writing). */
function statOrNull(p: string, follow: boolean): Stats | null {
  try {
    return (follow ? fs.statSync(p, { throwIfNoEntry: false }) : fs.lstatSync(p, { throwIfNoEntry: false })) ?? null;
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

function readDirOrNull(p: string): Dirent[] | null {
  try {
    return fs.readdirSync(p, { withFileTypes: true });
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

/**
 * Every file of a workspace with its size, sorted by path. A missing workspace lists as empty;
 * entries that vanish during the walk are skipped.
 */
export async function listWorkspaceFiles(workspace: string, opts: ListOptions = {}): Promise<WorkspaceFile[]> {
  let realRoot: string;
  try {
    realRoot = await fs.promises.realpath(workspace);
  } catch (err) {
    if (isGone(err)) return [];
    throw err;
  }
  // By default the JS walk starts, and leaves a large workspace to find after its first entries.
  const files =
    opts.walker === 'js'
      ? null
      : ((opts.walker === 'find' ? null : await listWithJs(realRoot, opts, FIND_FROM_ENTRIES)) ??
        (await listWithFind(realRoot)));
  return (files ?? (await listWithJs(realRoot, opts)))!.sort(byPath);
}

/** The size of the file a symlink points to when that file is inside the workspace, else null. */
function linkedFileSize(realRoot: string, abs: string): number | null {
  const target = statOrNull(abs, true);
  // A link to a directory is never entered; a dangling link is nothing to list.
  if (!target?.isFile()) return null;
  let real: string;
  try {
    real = fs.realpathSync(abs);
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
  return isInsideDirectory(realRoot, real) ? target.size : null;
}

/**
 * The listing from what find printed: `<type> <size> <path>` per entry (its own lstat: right where
 * readdir reports no types), symlinks judged here as in the JS walk; unsorted. After a listing by
 * find of the same workspace, find prints only what changed since, and when no directory changed
 * the listing is that one's with the new sizes (listing-cache.ts). Null when find could not walk
 * it to the end. (Exported for its tests.)
 */
export async function listWithFind(realRoot: string): Promise<WorkspaceFile[] | null> {
  const takenAtNs = listingStart(realRoot);
  const top = topKey(realRoot);
  if (!top) return null;
  const since = changedAfter(realRoot);
  const split = listingSplit(realRoot) ?? undefined;
  if (since) {
    const walked = await walkByFind(realRoot, listingArgs(since.arg, split), split);
    const regular = walked && regularSince(realRoot, takenAtNs, top, walked.dirs, walked.files);
    if (regular) {
      listingWalks.since++;
      return withLinks(realRoot, regular.slice(), walked.links);
    }
  }
  listingWalks.full++;
  const walked = await walkByFind(realRoot, listingArgs(undefined, split), split);
  if (!walked) return null;
  const regular = walked.files.sort(byPath);
  rememberListing(realRoot, takenAtNs, top, walked.dirs, regular);
  return withLinks(realRoot, regular.slice(), walked.links);
}

/**
 * What the find children printed (see listingArgs: one, or two at once over a split): the
 * directories' records, the files, the links. Null when a find could not walk to the end, or a
 * directory of `split` was not walked as one (gone or replaced meanwhile: the second find would
 * have printed it as a file or link that the first printed too).
 */
async function walkByFind(
  realRoot: string,
  argLists: string[][],
  split?: readonly string[],
): Promise<{ dirs: string[]; files: WorkspaceFile[]; links: string[] } | null> {
  const dirs: string[] = [];
  const files: WorkspaceFile[] = [];
  const links: string[] = [];
  const startedAsDirs = new Set<string>();
  const parse = (buf: Buffer) => {
    for (let start = 0, end = buf.indexOf(0); end >= 0; start = end + 1, end = buf.indexOf(0, start)) {
      const type = buf[start];
      if (type === DIR) {
        const record = buf.toString('utf8', start, end);
        dirs.push(record);
        if (split) startedAsDirs.add(dirRecord(record)?.rel ?? '');
        continue;
      }
      if (type !== FILE && type !== LINK) continue; // FIFOs, sockets, devices are not content
      let size = 0;
      let at = start + 2;
      for (; buf[at] !== SPACE; at++) size = size * 10 + buf[at]! - ZERO;
      // Each path decoded on its own: flat strings, which sort several times faster than slices.
      const rel = buf.toString('utf8', at + 1, end);
      // A name that is not UTF-8 is no path a client could ask for (the JS walk cannot stat it either).
      if (rel.includes('\ufffd') && !buf.subarray(at + 1, end).equals(Buffer.from(rel))) continue;
      if (type === FILE) files.push({ path: rel, size });
      else links.push(rel);
    }
  };
  const walked = await Promise.all(argLists.map((args) => scanFind(realRoot, args, parse)));
  if (walked.includes(false)) return null;
  if (split?.some((d) => !startedAsDirs.has(d))) return null;
  if (split) listingWalks.split++;
  return { dirs, files, links };
}

/** `files` with the symlinked files of `links` whose targets are files inside the workspace. */
async function withLinks(realRoot: string, files: WorkspaceFile[], links: string[]): Promise<WorkspaceFile[]> {
  const slicer = timeSlicer();
  for (const rel of links) {
    const turn = slicer.tick();
    if (turn) await turn;
    const size = linkedFileSize(realRoot, `${realRoot}/${rel}`);
    if (size !== null) files.push({ path: rel, size });
  }
  return files;
}

const DIR = 0x64; // d
const FILE = 0x66; // f
const LINK = 0x6c; // l
const SPACE = 0x20;
const ZERO = 0x30;

/**
 * The walk in JS, with the types readdir reports, so a file costs one lstat, a symlink a stat and
 * a realpath; unsorted. Null once readdir has given more than `giveUpAfter` entries.
 */
async function listWithJs(
  realRoot: string,
  opts: ListOptions,
  giveUpAfter = Infinity,
): Promise<WorkspaceFile[] | null> {
  const sliceMs = opts.sliceMs ?? DEFAULT_SLICE_MS;
  const files: WorkspaceFile[] = [];
  const pending: Array<[abs: string, rel: string]> = [[realRoot, '']];
  const slicer = timeSlicer(sliceMs);

  const addSymlink = (abs: string, rel: string) => {
    const size = linkedFileSize(realRoot, abs);
    if (size !== null) files.push({ path: rel, size });
  };

  // Regular files as readdir reported them, stat-ed at the end (see statRegularFiles).
  const regularAbs: string[] = [];
  const regularRel: string[] = [];

  let seen = 0;
  while (pending.length > 0) {
    const [dirAbs, dirRel] = pending.pop()!;
    for (const entry of readDirOrNull(dirAbs) ?? []) {
      if (++seen > giveUpAfter) return null;
      const turn = slicer.tick();
      if (turn) await turn;
      const abs = `${dirAbs}/${entry.name}`;
      const rel = dirRel === '' ? entry.name : `${dirRel}/${entry.name}`;
      if (entry.isDirectory()) pending.push([abs, rel]);
      else if (entry.isFile()) {
        regularAbs.push(abs);
        regularRel.push(rel);
      } else if (entry.isSymbolicLink()) addSymlink(abs, rel);
      else if (!entry.isFIFO() && !entry.isSocket() && !entry.isBlockDevice() && !entry.isCharacterDevice()) {
        // DT_UNKNOWN: some network filesystems do not report types in readdir.
        const stat = statOrNull(abs, false);
        if (stat?.isDirectory()) pending.push([abs, rel]);
        else if (stat?.isFile()) files.push({ path: rel, size: stat.size });
        else if (stat?.isSymbolicLink()) addSymlink(abs, rel);
      }
      // FIFOs, sockets and devices are not workspace content.
    }
  }
  const sizes = await statRegularFiles(regularAbs, slicer, opts.parallelAbove ?? DEFAULT_PARALLEL_ABOVE);
  for (let i = 0; i < sizes.length; i++) if (sizes[i] !== GONE) files.push({ path: regularRel[i]!, size: sizes[i]! });
  return files;
}

/**
 * The size of each file (GONE for one that vanished or changed kind since readdir). Above
 * `parallelAbove` files, the second half is stat-ed on a worker thread while this thread does the
 * first (stat-worker.ts); if the worker fails, this thread does its half too.
 */
async function statRegularFiles(paths: string[], slicer: TimeSlicer, parallelAbove: number): Promise<Float64Array> {
  const here = paths.length > parallelAbove ? Math.ceil(paths.length / 2) : paths.length;
  const elsewhere = here < paths.length ? statSizesElsewhere(paths.slice(here)).catch(() => null) : null;
  const sizes = new Float64Array(paths.length);
  const statRange = async (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const turn = slicer.tick();
      if (turn) await turn;
      const stat = statOrNull(paths[i]!, false);
      sizes[i] = stat?.isFile() ? stat.size : GONE;
    }
  };
  await statRange(0, here);
  if (elsewhere) {
    const theirs = await elsewhere;
    if (theirs) sizes.set(theirs, here);
    else await statRange(here, paths.length);
  }
  return sizes;
}
