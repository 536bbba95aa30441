import { globEscape, scanFind } from '@cwo/workspace';

export { chooseSplit, splittable } from '@cwo/workspace';

// One walk by find split over two children at once (their arguments and the choice of directories:
// @cwo/workspace's find-split.ts): the first walks the workspace as usual but
// prints `S <path>` for each directory of `dirs` instead of entering it; the second walks those
// directories as its start points, each printing its own record then its contents. Each marker
// is replaced by its directory's records, which gives the order one find prints (a directory
// before its contents, readdir's order within one), so the records do not depend on the split.

/**
 * The two finds' arguments for `args` (findArgs's, find-walk.ts: `. -mindepth 1 <expression>
 * -printf <record>`) with `dirs` (workspace-relative,
 * disjoint, none a start of find's expression, none left out by name) walked by the second.
 */
export function splitArgs(args: readonly string[], dirs: readonly string[]): [string[], string[]] {
  const expression = args.slice(3, -2);
  const record = args.at(-1)!;
  const paths = dirs.flatMap((d, i) => [...(i > 0 ? ['-o'] : []), '-path', `./${globEscape(d)}`]);
  // The empty -printf keeps the paths behind -type d: find moves tests on names before others in
  // a conjunction, and does not move them past an action.
  const marker = ['(', '-type', 'd', '-printf', '', '(', ...paths, ')', '-printf', 'S %P\\0', '-prune', ')', '-o'];
  const first = [...args.slice(0, -2), ...marker, '-printf', record];
  // Start points relative to the workspace, printed whole (%p): the same paths %P gives from `.`.
  const toWhole = (a: string) => a.replaceAll('%P', '%p');
  const second = [...dirs, ...expression.map(toWhole), '-printf', toWhole(record)];
  return [first, second];
}

type Collect = (records: string[]) => boolean;

/** Each child's records decoded (see findRecords); `more` false stops both. */
async function scan(workspace: string, args: string[], into: string[], more: Collect): Promise<boolean> {
  return scanFind(workspace, args, (buf) => {
    const got = buf.toString('utf8').split('\0');
    got.pop();
    for (const r of got) into.push(r);
    return more(into);
  });
}

/**
 * The records one find would print, from two at once; null when either failed (an entry that
 * vanished, a directory of `dirs` gone or no longer one) or stopped: the caller walks with one then.
 */
export async function splitFindRecords(
  workspace: string,
  args: string[],
  dirs: readonly string[],
  maxRecords: number,
): Promise<string[] | null> {
  const [firstArgs, secondArgs] = splitArgs(args, dirs);
  const first: string[] = [];
  const second: string[] = [];
  const more = () => first.length + second.length <= maxRecords;
  const [ok1, ok2] = await Promise.all([
    scan(workspace, firstArgs, first, more),
    scan(workspace, secondArgs, second, more),
  ]);
  if (!ok1 || !ok2) return null;
  // The second's records cut at each start point's own record (the first it printed for it).
  const chunks = new Map<string, string[]>();
  let k = -1;
  let chunk: string[] = [];
  for (const r of second) {
    const next = dirs[k + 1];
    if (next !== undefined && r.endsWith(next) && recordPath(r) === next) {
      chunk = [];
      chunks.set(next, chunk);
      k++;
    } else if (k < 0) return null;
    chunk.push(r);
  }
  if (chunks.size !== dirs.length) return null;
  const records: string[] = [];
  let placed = 0;
  for (const r of first) {
    if (r.charCodeAt(0) !== 83 /* S */ || r.charCodeAt(1) !== 32) {
      records.push(r);
      continue;
    }
    const c = chunks.get(r.slice(2));
    if (c === undefined) return null;
    for (const x of c) records.push(x);
    placed++;
  }
  // A directory the first did not find as one (gone, or replaced by a file): not one find's output.
  return placed === dirs.length ? records : null;
}

/** The path of a record (`<type> <size> <inode> <mtime> <ctime> <mode> <path>` or `P <path>`). */
function recordPath(r: string): string {
  if (r.charCodeAt(0) === 80 /* P */) return r.slice(2);
  let at = -1;
  for (let i = 0; i < 6; i++) at = r.indexOf(' ', at + 1);
  return r.slice(at + 1);
}
