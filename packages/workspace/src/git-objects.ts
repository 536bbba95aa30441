import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

// Git's object store written and read in-process (loose objects, SHA-1 repositories), so that a
// job's commit costs no child process: spawning `git` from the runner forks a large process and
// blocks its event loop. The format is git's documented one (gitformat-*, "Git Objects"); the
// repository stays an ordinary one that the `git` CLI reads (the diff endpoint uses it).
//
// Written the way git writes them: to a temporary file in the object's directory, then renamed,
// so that an interrupted write never leaves a truncated object under its final name (an existing
// object is never rewritten, so a truncated one would stay corrupt for good).

const deflate = promisify(zlib.deflate);
const inflate = promisify(zlib.inflate);

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
  const present = await fs.access(file).then(
    () => true,
    () => false,
  );
  if (present) return oid;
  const tmp = `${file}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  const data = await deflate(wrapped, { level: 1 });
  // Objects are read-only in git's own stores (0444). The fan-out directory is made only when missing.
  await fs.writeFile(tmp, data, { mode: 0o444 }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(tmp, data, { mode: 0o444 });
  });
  await fs.rename(tmp, file);
  return oid;
}

/** Git's tree order: byte order of the names, a tree's name compared as if it ended in '/'. */
function treeOrder(a: TreeEntry, b: TreeEntry): number {
  const ka = Buffer.from(a.mode === '40000' ? `${a.name}/` : a.name);
  const kb = Buffer.from(b.mode === '40000' ? `${b.name}/` : b.name);
  return Buffer.compare(ka, kb);
}

export function treeBody(entries: TreeEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of [...entries].sort(treeOrder)) {
    parts.push(Buffer.from(`${e.mode} ${e.name}\0`), Buffer.from(e.oid, 'hex'));
  }
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

export function commitBody(args: { tree: string; parents: string[]; author: Signature; committer: Signature; message: string }): Buffer {
  const sig = (s: Signature) => `${clean(s.name)} <${clean(s.email)}> ${s.when} +0000`;
  const lines = [`tree ${args.tree}`, ...args.parents.map((p) => `parent ${p}`), `author ${sig(args.author)}`, `committer ${sig(args.committer)}`];
  return Buffer.from(`${lines.join('\n')}\n\n${args.message}`);
}

/**
 * The parents of a loose commit object; null when the commit is not stored loose (the history is
 * never packed by the runner, so only a repository packed by hand gets there).
 */
export async function readCommitParents(gitDir: string, oid: string): Promise<string[] | null> {
  let raw: Buffer;
  try {
    raw = await inflate(await fs.readFile(objectPath(gitDir, oid)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const text = raw.toString('utf8');
  const nul = text.indexOf('\0');
  if (!text.startsWith('commit ') || nul < 0) throw new Error(`object ${oid} is not a commit`);
  const header = text.slice(nul + 1, text.indexOf('\n\n', nul));
  return header
    .split('\n')
    .filter((l) => l.startsWith('parent '))
    .map((l) => l.slice('parent '.length).trim());
}
