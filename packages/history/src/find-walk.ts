import { globEscape, scanFind } from '@cwo/workspace';

// The stats of a workspace's entries from one `find` child (GNU findutils' -printf, run by
// @cwo/workspace's scanFind), instead of an lstat call per file from JavaScript: Node's lstatSync
// costs several microseconds of the runner's own CPU per file (a stat object with BigInts and
// Dates), where find does the same syscalls in C and prints only the fields a snapshot compares.
// Nothing here decides what is content: snapshot.ts applies the ignore rules to what find printed.
//
// One record per entry, NUL-terminated (a name may hold any byte but NUL):
//   `<type> <size> <inode> <mtime> <ctime> <mode> <path>` (type f, d, l, ...; times as seconds with
//   the nanoseconds after the point; mode in octal), or `P <path>` for a directory find did not
//   enter because its name is one of `prune` (snapshot.ts decides whether it is really ignored).
//
// With `changedAfter` (`@<seconds>.<nanoseconds>`), a regular file whose ctime and mtime are both
// no later than that moment is not printed (it is lstat'ed all the same): a walk that knows the
// workspace as it was after that moment prints only the directories, the links and the files
// changed since, a few records where a workspace has tens of thousands (snapshot.ts, walkSince).

/** find's arguments for a walk (two walks' records compare only under the same ones). */
export function findArgs(opts: {
  exclude: readonly string[];
  prune: readonly string[];
  changedAfter?: string;
}): string[] {
  const excluded = opts.exclude.flatMap((name, i) => [...(i > 0 ? ['-o'] : []), '-path', `./${globEscape(name)}`]);
  const pruned = opts.prune.flatMap((name, i) => [...(i > 0 ? ['-o'] : []), '-name', globEscape(name)]);
  return [
    '.',
    '-mindepth',
    '1',
    // Never content (a `.git` anywhere, the runner's own top-level names): not even entered.
    '(',
    '-name',
    '.git',
    ...(excluded.length > 0 ? ['-o', ...excluded] : []),
    ')',
    '-prune',
    '-o',
    ...(pruned.length > 0 ? ['(', '-type', 'd', '(', ...pruned, ')', '-printf', 'P %P\\0', '-prune', ')', '-o'] : []),
    // True (nothing printed) for a file unchanged since then; the rest of the expression is find-split.ts's to extend.
    ...(opts.changedAfter !== undefined
      ? ['(', '-type', 'f', '!', '-newerct', opts.changedAfter, '!', '-newermt', opts.changedAfter, ')', '-o']
      : []),
    '-printf',
    '%y %s %i %T@ %C@ %m %P\\0',
  ];
}

/** What a walk by find printed; null when find could not do it (then the walk is done in JS). */
export async function findRecords(workspace: string, args: string[], maxRecords: number): Promise<string[] | null> {
  const records: string[] = [];
  const ok = await scanFind(workspace, args, (buf) => {
    // One decode and split per chunk (cheaper than a decode per record); the last is after the final NUL.
    const more = buf.toString('utf8').split('\0');
    more.pop();
    for (const r of more) records.push(r);
    // More than the snapshot may hold, ignored ones included: the JS walk counts them exactly.
    return records.length <= maxRecords;
  });
  return ok ? records : null;
}
