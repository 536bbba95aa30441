import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { hasObject, writeBlobFromFile, writeObject, treeBody, type TreeEntry } from './git-objects';
import { baseRules, isIgnored, readGitignore, withGitignore, type Rules } from './ignore-rules';
import { ignoreKey, type Snapshot, type SnapshotDir } from './snapshot';

// The workspace as a git tree, written into the history's object store without `git add`: what
// `git add --all` would stage into an empty index. Symlinks are stored as links (never
// followed), a file with its owner's execute bit as 100755, empty directories not at all, and
// paths ignored by the project's .gitignore files left out (a deeper .gitignore wins, the last
// matching line of a file wins, nothing under an ignored directory comes back), as git does, and
// so are those of the runner's list (HISTORY_IGNORE, ignore-rules.ts).
// Directories named `.git` are never content (git refuses such paths too); top-level names in
// `exclude` (the runner's `.codex/`) are left out.

const isGone = (err: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '');

/** Writes the workspace's blobs and trees; returns the top tree's id. */
export async function writeWorkspaceTree(
  gitDir: string,
  workspace: string,
  exclude: readonly string[],
  ignorePatterns?: readonly string[],
): Promise<string> {
  const excluded = new Set(exclude);

  async function walk(dir: string, rel: string, inherited: Rules[]): Promise<TreeEntry[]> {
    let names;
    try {
      names = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if (isGone(err)) return [];
      throw err;
    }
    const rules = names.some((d) => d.name === '.gitignore' && d.isFile())
      ? withGitignore(inherited, rel, readGitignore(path.join(dir, '.gitignore')))
      : inherited;
    // One entry at a time: started all at once, every file of the workspace was open together
    // (each closes only when its write settles), past the descriptor limit on a large one.
    const entries: Array<TreeEntry | null> = [];
    for (const d of names)
      entries.push(
        await (async (): Promise<TreeEntry | null> => {
          if (d.name === '.git' || (rel === '' && excluded.has(d.name))) return null;
          const childRel = rel === '' ? d.name : `${rel}/${d.name}`;
          const abs = path.join(dir, d.name);
          try {
            if (d.isDirectory()) {
              if (isIgnored(rules, childRel, true)) return null;
              const children = await walk(abs, childRel, rules);
              if (children.length === 0) return null;
              return { mode: '40000', name: d.name, oid: await writeObject(gitDir, 'tree', treeBody(children)) };
            }
            if (!d.isFile() && !d.isSymbolicLink()) return null; // sockets, FIFOs, devices
            if (isIgnored(rules, childRel, false)) return null;
            if (d.isSymbolicLink()) {
              return {
                mode: '120000',
                name: d.name,
                oid: await writeObject(gitDir, 'blob', fs.readlinkSync(abs, { encoding: 'buffer' })),
              };
            }
            const { oid, executable } = await writeBlobFromFile(gitDir, abs);
            return { mode: executable ? '100755' : '100644', name: d.name, oid };
          } catch (err) {
            // Vanished (or replaced) during the walk: the commit is of what could be read.
            if (isGone(err) || (err as NodeJS.ErrnoException).code === 'ELOOP') return null;
            throw err;
          }
        })(),
      );
    return entries.filter((e): e is TreeEntry => e !== null);
  }

  return writeObject(gitDir, 'tree', treeBody(await walk(workspace, '', baseRules(ignorePatterns))));
}

type Entry = NonNullable<ReturnType<Snapshot['get']>>;

/** How a tree built from a snapshot gets its object ids: written to the store, or only hashed. */
interface TreeStore {
  tree(body: Buffer): Promise<string>;
  /** The blob id of a snapshot entry; null when it is gone from the workspace. */
  blob(entry: Entry, abs: string): Promise<{ oid: string; executable: boolean } | null>;
  /** Whether a directory's recorded tree id can stand for it (a written tree must be in the store). */
  reuse(dir: SnapshotDir & { oid: string }): boolean;
  /** A tree was built for a directory. */
  built?(dir: SnapshotDir): void;
}

/** Whether the store holds a recorded tree: one stat, once (trees are never removed from it). */
function storedTree(gitDir: string, dir: SnapshotDir & { oid: string }): boolean {
  if (!dir.stored && hasObject(gitDir, dir.oid)) dir.stored = true;
  return dir.stored === true;
}

/**
 * The same tree, from a snapshot the runner took of the workspace just before (its "after"
 * snapshot, whose hashes are git blob ids): no second walk, a file whose blob the history
 * already holds is not read again, and the tree of a directory whose entries are all unchanged
 * since the snapshot before it (SnapshotDir) is not built again. New contents are read from the
 * file; if it changed since the snapshot, what is read now is stored. The snapshot must exclude
 * the same top-level names.
 */
export function writeSnapshotTree(
  gitDir: string,
  workspace: string,
  snapshot: Snapshot,
  exclude: readonly string[],
  ignorePatterns?: readonly string[],
): Promise<string> {
  return buildSnapshotTree(workspace, snapshot, exclude, ignorePatterns, {
    tree: (body) => writeObject(gitDir, 'tree', body),
    async blob(entry, abs) {
      if (entry.kind === 'symlink') {
        const oid = hasObject(gitDir, entry.hash)
          ? entry.hash
          : await writeObject(gitDir, 'blob', fs.readlinkSync(abs, { encoding: 'buffer' }));
        return { oid, executable: false };
      }
      // `stored` (from the stat index, which only a commit writes) saves a stat per file.
      if (entry.stored || hasObject(gitDir, entry.hash)) {
        entry.stored = true;
        return { oid: entry.hash, executable: entry.executable };
      }
      const written = await writeBlobFromFile(gitDir, abs);
      // Changed since the snapshot: the index must not pair the snapshot's stat with this blob.
      if (written.oid === entry.hash) entry.stored = true;
      return written;
    },
    reuse: (dir) => storedTree(gitDir, dir),
    built: (dir) => (dir.stored = true),
  });
}

/** What planSnapshotTree found to write: the blobs not in the store yet, and the new trees. */
export interface TreePlan {
  tree: string;
  /** Files to store, by the id the snapshot gives them (a file changed since then fails the plan). */
  blobs: Array<{ rel: string; entry: Entry }>;
  /** Bodies of the trees to write (children first). */
  trees: Buffer[];
  /** The directories whose trees those are (marked stored once they are written). */
  dirs: SnapshotDir[];
}

/**
 * The tree writeSnapshotTree would write, hashed in memory, with what it would have to write:
 * the commit's CPU work without its writes, so that a thread can do those from a few buffers
 * instead of being handed the whole snapshot.
 */
export async function planSnapshotTree(
  gitDir: string,
  workspace: string,
  snapshot: Snapshot,
  exclude: readonly string[],
  ignorePatterns?: readonly string[],
): Promise<TreePlan> {
  const plan: TreePlan = { tree: '', blobs: [], trees: [], dirs: [] };
  plan.tree = await buildSnapshotTree(workspace, snapshot, exclude, ignorePatterns, {
    tree(body) {
      plan.trees.push(body);
      return Promise.resolve(hashObject('tree', body));
    },
    blob(entry, abs) {
      if (!entry.stored && !hasObject(gitDir, entry.hash)) {
        plan.blobs.push({ rel: path.relative(workspace, abs), entry });
      }
      return Promise.resolve({ oid: entry.hash, executable: entry.kind === 'file' && entry.executable });
    },
    reuse: (dir) => storedTree(gitDir, dir),
    built: (dir) => plan.dirs.push(dir),
  });
  return plan;
}

const hashObject = (type: string, body: Buffer) =>
  crypto.createHash('sha1').update(`${type} ${body.length}\0`).update(body).digest('hex');

/**
 * The id of the tree writeSnapshotTree would write, computed without writing anything: whether
 * the workspace still holds what a commit recorded is one comparison of tree ids.
 */
export function snapshotTreeId(
  workspace: string,
  snapshot: Snapshot,
  exclude: readonly string[],
  ignorePatterns?: readonly string[],
): Promise<string> {
  return buildSnapshotTree(workspace, snapshot, exclude, ignorePatterns, {
    tree: (body) => Promise.resolve(hashObject('tree', body)),
    blob: (entry) => Promise.resolve({ oid: entry.hash, executable: entry.kind === 'file' && entry.executable }),
    reuse: () => true,
  });
}

/** The directories of a snapshot that has none recorded (not from takeSnapshot): every one to build. */
function dirsOf(snapshot: Snapshot): Map<string, SnapshotDir> {
  const dirs = new Map<string, SnapshotDir>();
  for (const rel of snapshot.keys()) {
    let dir = rel;
    for (let slash = dir.lastIndexOf('/'); ; slash = dir.lastIndexOf('/')) {
      dir = slash < 0 ? '' : dir.slice(0, slash);
      const d = dirs.get(dir);
      if (d) d.count++;
      else dirs.set(dir, { count: 1 });
      if (dir === '') break;
    }
  }
  return dirs;
}

const isTree = (dir: SnapshotDir | undefined): dir is SnapshotDir & { oid: string } => dir?.oid !== undefined;

async function buildSnapshotTree(
  workspace: string,
  snapshot: Snapshot,
  exclude: readonly string[],
  ignorePatterns: readonly string[] | undefined,
  store: TreeStore,
): Promise<string> {
  const excluded = new Set(exclude);
  const key = ignoreKey(ignorePatterns);
  // Tree ids recorded under other ignore patterns are not this tree's: everything is built then.
  if (!snapshot.dirs || snapshot.ignoreKey !== key) {
    snapshot.dirs = dirsOf(snapshot);
    snapshot.ignoreKey = key;
  }
  const dirs = snapshot.dirs;
  // Each directory's subdirectories, from the recorded ones (only those with entries under them).
  const subdirs = new Map<string, string[]>();
  for (const dir of dirs.keys()) {
    if (dir === '') continue;
    const slash = dir.lastIndexOf('/');
    const parent = slash < 0 ? '' : dir.slice(0, slash);
    const list = subdirs.get(parent);
    if (list) list.push(dir);
    else subdirs.set(parent, [dir]);
  }
  // Which trees are built: from the top down, every directory whose recorded tree cannot stand for it.
  const toBuild = new Set<string>();
  const reusable = (dir: string): boolean => {
    const d = dirs.get(dir);
    return isTree(d) && store.reuse(d);
  };
  const mark = (dir: string) => {
    toBuild.add(dir);
    for (const sub of subdirs.get(dir) ?? []) if (!reusable(sub)) mark(sub);
  };
  if (!reusable('')) mark('');
  const top = dirs.get('');
  // Nothing changed under the top: its tree is the one recorded (no pass over the entries).
  if (top && !toBuild.has('')) return top.oid!;
  // The files directly in those directories (one pass: most of a large snapshot is skipped).
  const files = new Map<string, Array<[string, string, Entry]>>();
  for (const [rel, entry] of snapshot) {
    const slash = rel.lastIndexOf('/');
    const dir = slash < 0 ? '' : rel.slice(0, slash);
    if (!toBuild.has(dir)) continue;
    const list = files.get(dir);
    const item: [string, string, Entry] = [rel.slice(slash + 1), rel, entry];
    if (list) list.push(item);
    else files.set(dir, [item]);
  }

  // One entry at a time: a snapshot whose files are not in the store yet would otherwise open
  // every one of them together, past the descriptor limit on a large one.
  async function build(rel: string, inherited: Rules[]): Promise<TreeEntry[]> {
    const own = files.get(rel) ?? [];
    const gitignore = own.find(([name]) => name === '.gitignore');
    const rules =
      gitignore?.[2].kind === 'file'
        ? withGitignore(inherited, rel, readGitignore(path.join(workspace, rel, '.gitignore')))
        : inherited;
    const entries: TreeEntry[] = [];
    for (const childRel of subdirs.get(rel) ?? []) {
      const name = rel === '' ? childRel : childRel.slice(rel.length + 1);
      if (name === '.git' || (rel === '' && excluded.has(name))) continue;
      if (isIgnored(rules, childRel, true)) continue;
      const child = dirs.get(childRel)!;
      if (!toBuild.has(childRel)) {
        entries.push({ mode: '40000', name, oid: child.oid! });
        continue;
      }
      const children = await build(childRel, rules);
      if (children.length === 0) {
        delete child.oid; // all ignored: no tree
        continue;
      }
      child.oid = await store.tree(treeBody(children));
      store.built?.(child);
      entries.push({ mode: '40000', name, oid: child.oid });
    }
    for (const [name, fileRel, entry] of own) {
      if (name === '.git' || (rel === '' && excluded.has(name))) continue;
      if (isIgnored(rules, fileRel, false)) continue;
      try {
        const blob = await store.blob(entry, path.join(workspace, fileRel));
        if (!blob) continue;
        entries.push({
          mode: entry.kind === 'symlink' ? '120000' : blob.executable ? '100755' : '100644',
          name,
          oid: blob.oid,
        });
      } catch (err) {
        if (
          isGone(err) ||
          (err as NodeJS.ErrnoException).code === 'ELOOP' ||
          (err as NodeJS.ErrnoException).code === 'EINVAL'
        )
          continue;
        throw err;
      }
    }
    return entries;
  }

  const oid = await store.tree(treeBody(await build('', baseRules(ignorePatterns))));
  if (top) {
    top.oid = oid;
    store.built?.(top);
  }
  return oid;
}
