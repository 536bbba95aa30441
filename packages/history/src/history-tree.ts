import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { hasObject, writeBlobFromFile, writeObject, treeBody, type TreeEntry } from './git-objects';
import { withRegularFile } from '@cwo/workspace';
import type { Snapshot } from './snapshot';

// The workspace as a git tree, written into the history's object store without `git add`: what
// `git add --all` would stage into an empty index. Symlinks are stored as links (never
// followed), a file with its owner's execute bit as 100755, empty directories not at all, and
// paths ignored by the project's .gitignore files left out (a deeper .gitignore wins, the last
// matching line of a file wins, nothing under an ignored directory comes back), as git does.
// Directories named `.git` are never content (git refuses such paths too); top-level names in
// `exclude` (the runner's `.codex/`) are left out.

export interface Rules {
  /** Workspace-relative directory the .gitignore is in ('' for the top). */
  base: string;
  ig: Ignore;
}

const isGone = (err: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '');

/**
 * A .gitignore's rules; null when there is none. Not through a link (git does not follow a
 * symlinked .gitignore either); read inline, like the object writes (see git-objects.ts).
 */
export function readGitignore(file: string): string | null {
  try {
    return withRegularFile(file, (fd) => fs.readFileSync(fd, 'utf8'));
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

export function isIgnored(rules: Rules[], rel: string, isDir: boolean): boolean {
  // Deepest rules first: the first file with a say decides.
  for (let i = rules.length - 1; i >= 0; i--) {
    const { base, ig } = rules[i]!;
    const sub = base === '' ? rel : rel.slice(base.length + 1);
    const verdict = ig.test(isDir ? `${sub}/` : sub);
    if (verdict.ignored) return true;
    if (verdict.unignored) return false;
  }
  return false;
}

/** Writes the workspace's blobs and trees; returns the top tree's id. */
export async function writeWorkspaceTree(
  gitDir: string,
  workspace: string,
  exclude: readonly string[],
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
    let rules = inherited;
    if (names.some((d) => d.name === '.gitignore' && d.isFile())) {
      const text = readGitignore(path.join(dir, '.gitignore'));
      if (text !== null) rules = [...inherited, { base: rel, ig: ignore().add(text) }];
    }
    const entries = await Promise.all(
      names.map(async (d): Promise<TreeEntry | null> => {
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
      }),
    );
    return entries.filter((e): e is TreeEntry => e !== null);
  }

  return writeObject(gitDir, 'tree', treeBody(await walk(workspace, '', [])));
}

interface DirNode {
  files: Map<string, { rel: string; entry: NonNullable<ReturnType<Snapshot['get']>> }>;
  dirs: Map<string, DirNode>;
}

/** How a tree built from a snapshot gets its object ids: written to the store, or only hashed. */
interface TreeStore {
  tree(body: Buffer): Promise<string>;
  /** The blob id of a snapshot entry; null when it is gone from the workspace. */
  blob(
    entry: NonNullable<ReturnType<Snapshot['get']>>,
    abs: string,
  ): Promise<{ oid: string; executable: boolean } | null>;
}

/**
 * The same tree, from a snapshot the runner took of the workspace just before (its "after"
 * snapshot, whose hashes are git blob ids): no second walk, and a file whose blob the history
 * already holds is not read again. New contents are read from the file; if it changed since the
 * snapshot, what is read now is stored. The snapshot must exclude the same top-level names.
 */
export function writeSnapshotTree(
  gitDir: string,
  workspace: string,
  snapshot: Snapshot,
  exclude: readonly string[],
): Promise<string> {
  return buildSnapshotTree(workspace, snapshot, exclude, {
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
  });
}

/**
 * The id of the tree writeSnapshotTree would write, computed without writing anything: whether
 * the workspace still holds what a commit recorded is one comparison of tree ids.
 */
export function snapshotTreeId(workspace: string, snapshot: Snapshot, exclude: readonly string[]): Promise<string> {
  return buildSnapshotTree(workspace, snapshot, exclude, {
    tree: (body) =>
      Promise.resolve(crypto.createHash('sha1').update(`tree ${body.length}\0`).update(body).digest('hex')),
    blob: (entry) => Promise.resolve({ oid: entry.hash, executable: entry.kind === 'file' && entry.executable }),
  });
}

async function buildSnapshotTree(
  workspace: string,
  snapshot: Snapshot,
  exclude: readonly string[],
  store: TreeStore,
): Promise<string> {
  const excluded = new Set(exclude);
  const root: DirNode = { files: new Map(), dirs: new Map() };
  for (const [rel, entry] of snapshot) {
    const parts = rel.split('/');
    if (parts.includes('.git') || excluded.has(parts[0]!)) continue;
    let node = root;
    for (const part of parts.slice(0, -1)) {
      let next = node.dirs.get(part);
      if (!next) node.dirs.set(part, (next = { files: new Map(), dirs: new Map() }));
      node = next;
    }
    node.files.set(parts.at(-1)!, { rel, entry });
  }

  async function build(node: DirNode, rel: string, inherited: Rules[]): Promise<TreeEntry[]> {
    let rules = inherited;
    if (node.files.get('.gitignore')?.entry.kind === 'file') {
      const text = readGitignore(path.join(workspace, rel, '.gitignore'));
      if (text !== null) rules = [...inherited, { base: rel, ig: ignore().add(text) }];
    }
    const dirs = await Promise.all(
      [...node.dirs].map(async ([name, child]): Promise<TreeEntry | null> => {
        const childRel = rel === '' ? name : `${rel}/${name}`;
        if (isIgnored(rules, childRel, true)) return null;
        const children = await build(child, childRel, rules);
        if (children.length === 0) return null;
        return { mode: '40000', name, oid: await store.tree(treeBody(children)) };
      }),
    );
    const files = await Promise.all(
      [...node.files].map(async ([name, { rel: fileRel, entry }]): Promise<TreeEntry | null> => {
        if (isIgnored(rules, fileRel, false)) return null;
        try {
          const blob = await store.blob(entry, path.join(workspace, fileRel));
          if (!blob) return null;
          return {
            mode: entry.kind === 'symlink' ? '120000' : blob.executable ? '100755' : '100644',
            name,
            oid: blob.oid,
          };
        } catch (err) {
          if (
            isGone(err) ||
            (err as NodeJS.ErrnoException).code === 'ELOOP' ||
            (err as NodeJS.ErrnoException).code === 'EINVAL'
          )
            return null;
          throw err;
        }
      }),
    );
    return [...dirs, ...files].filter((e): e is TreeEntry => e !== null);
  }

  return store.tree(treeBody(await build(root, '', [])));
}
