import fs from 'node:fs';
import { Piscina } from 'piscina';

// The thread side of stat-worker.ts (a task module of thread-pool.ts).

/** What a path's lstat said: its size when it is a regular file; GONE when it is not (any more). */
export const GONE = -1;

export function statSizes(paths: string[]): unknown {
  const sizes = new Float64Array(paths.length);
  for (let i = 0; i < paths.length; i++) {
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(paths[i]!, { throwIfNoEntry: false });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTDIR' && code !== 'ELOOP') throw err;
    }
    sizes[i] = st?.isFile() ? st.size : GONE;
  }
  // Moved, not copied, back to the caller.
  return Piscina.move(sizes);
}
