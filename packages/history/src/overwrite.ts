import fs from 'node:fs';

// The branch's ref and the stat index change with every commit. Written to a new file renamed
// over the old one, each commit made two inodes and freed two: on an ext4 without a journal (these
// machines) every inode freed makes the next ones slower to find for a minute or more, and the
// rename makes the kernel write the data out at once (auto_da_alloc). Both are written in place
// instead: the ref is always 41 bytes, so one write replaces it whole (a killed process cannot
// leave half of it, and a ref that were wrong is put back from Postgres's record by the restore
// step); the index has a checksum, so a torn one reads as no index (one full read).

/** Writes `data` over `file` from its start and cuts what is left of the old bytes; false on failure. */
export function overwriteInPlace(file: string, data: string | Uint8Array): boolean {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o644);
  } catch {
    return false;
  }
  try {
    for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done, bytes.length - done, done);
    fs.ftruncateSync(fd, bytes.length);
    return true;
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}
