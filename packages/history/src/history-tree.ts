import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { hasObject, writeBlobFromFile, writeObject, treeBody, type TreeEntry } from './git-objects';
import { baseRules, isIgnored, readGitignore, withGitignore, type Rules } from './ignore-rules';
import type { Snapshot } from './snapshot';

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
  });
}

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
    tree: (body) =>
      Promise.resolve(crypto.createHash('sha1').update(`tree ${body.length}\0`).update(body).digest('hex')),
    blob: (entry) => Promise.resolve({ oid: entry.hash, executable: entry.kind === 'file' && entry.executable }),
  });
}

async function buildSnapshotTree(
  workspace: string,
  snapshot: Snapshot,
  exclude: readonly string[],
  ignorePatterns: readonly string[] | undefined,
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
    const rules =
      node.files.get('.gitignore')?.entry.kind === 'file'
        ? withGitignore(inherited, rel, readGitignore(path.join(workspace, rel, '.gitignore')))
        : inherited;
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

  return store.tree(treeBody(await build(root, '', baseRules(ignorePatterns))));
}
