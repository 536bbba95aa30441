import fs, { constants } from 'node:fs';

// Reading a file that an agent may have replaced: never through a symlink (O_NOFOLLOW fails with
// ELOOP), and never waiting on a FIFO (O_NONBLOCK: opening one would wait for a writer, and these
// calls are synchronous, so the whole process with it; fstat then refuses it).

/**
 * Opens `file` for reading when it is a regular file and passes its descriptor and stat to
 * `use`, closing it once `use` is done (once its promise settles, for an async `use`). Returns
 * null when it is anything else (a symlink, FIFO, directory); a missing file throws ENOENT.
 */
export function withRegularFile<T>(file: string, use: (fd: number, stat: fs.Stats) => T): T | null {
  let fd: number;
  try {
    fd = fs.openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') return null;
    throw err;
  }
  let result: T | null = null;
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isFile()) result = use(fd, stat);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  if (result instanceof Promise) return result.finally(() => fs.closeSync(fd)) as T;
  fs.closeSync(fd);
  return result;
}
