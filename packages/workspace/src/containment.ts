import path from 'node:path';

/** True when `candidate` is `root` or lies beneath it (both absolute, already resolved). */
export function isInsideDirectory(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
