import fs from 'node:fs';

/**
 * Now by the clock of the filesystem that holds `dir`: the ctime `dir` gets when its times are
 * set to what they were (a file server stamps it with its own clock, which may not be this
 * host's). File times compared with a moment of their own clock: git likewise compares with its
 * index file's mtime. `fallback()` (this host's clock) when `dir` is not a directory this process
 * may touch. Never through a link, whatever an agent put there.
 */
export function filesystemNow(dir: string, fallback: () => bigint): bigint {
  let fd: number | undefined;
  try {
    const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = fs.constants;
    fd = fs.openSync(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    const st = fs.fstatSync(fd);
    fs.futimesSync(fd, st.atime, st.mtime);
    return fs.fstatSync(fd, { bigint: true }).ctimeNs;
  } catch {
    return fallback();
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** This host's clock in nanoseconds. */
export const hostNowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
