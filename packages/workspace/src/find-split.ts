// A find's walk split over two children at once (the walk waits on find's syscalls, and a machine
// with two cores does them twice as fast): which directories the second walks as its start
// points, while the first prunes them. The listing (listing-cache.ts) and the history's snapshots
// (@cwo/history's find-split.ts) each build their two finds' arguments from the choice.

/** A name as a literal pattern of find's -path and -name. */
export const globEscape = (name: string) => name.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/** A path find's command line would not take as a start point, or the launcher as one line. */
export const splittable = (rel: string) => !/^[-(!),]/.test(rel) && !rel.includes('\n');

// At most this many start points (each also a test on the first's command line).
const MAX_SPLIT_DIRS = 256;

/**
 * Disjoint directories holding about half of a workspace's entries, from an earlier snapshot's
 * directory counts ('' the top); null when no such set is near half. `usable` says which may be
 * walked as start points (not left out by name, see splittable): those under one are not either.
 */
export function chooseSplit(
  dirs: ReadonlyMap<string, { count: number }>,
  usable: (rel: string) => boolean,
): string[] | null {
  const total = dirs.get('')?.count ?? 0;
  const children = new Map<string, string[]>();
  for (const d of dirs.keys()) {
    if (d === '') continue;
    const slash = d.lastIndexOf('/');
    const parent = slash < 0 ? '' : d.slice(0, slash);
    let list = children.get(parent);
    if (!list) children.set(parent, (list = []));
    list.push(d);
  }
  const chosen: string[] = [];
  let want = total / 2;
  const close = total / 32;
  const visit = (dir: string) => {
    for (const d of children.get(dir) ?? []) {
      if (want <= close || chosen.length >= MAX_SPLIT_DIRS) return;
      if (!usable(d)) continue;
      const n = dirs.get(d)!.count;
      if (n <= want) {
        chosen.push(d);
        want -= n;
      } else visit(d);
    }
  };
  visit('');
  return chosen.length > 0 && want <= total / 4 ? chosen : null;
}
