import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

// One GNU `find` child walking a directory, its NUL-terminated `-printf` records handed over as
// they arrive: the same syscalls a walk from Node makes, done in C relative to each directory,
// without a Stats object (several microseconds of JavaScript) per entry. The listing (list.ts) and
// the history's snapshots (@cwo/history's find-walk.ts) use it; each decides what its records mean.

/**
 * Called with the records that arrived, in find's order (a name may hold any byte but NUL, so a
 * record may hold newlines); returning false stops the walk, and scanFind resolves false.
 */
export type FindRecords = (records: string[]) => boolean | void;

/**
 * Runs `find <args>` in `cwd` and passes its NUL-terminated records to `onRecords` as they arrive.
 * Resolves true when find ran to the end without an error and its output ended with a NUL; false
 * when it could not be started, reported any error (an entry that vanished half-way, one it may
 * not read) or was stopped by `onRecords`: the caller walks in JS then.
 */
export function scanFind(cwd: string, args: readonly string[], onRecords: FindRecords): Promise<boolean> {
  return new Promise((resolve) => {
    let child;
    try {
      // LC_ALL=C: numbers (the times' decimal point) printed the same whatever the locale.
      child = spawn('find', args, {
        cwd,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    } catch {
      resolve(false);
      return;
    }
    // Decoded a chunk at a time (one string and a split: far cheaper than a decode per record); a
    // character or record cut by the end of a chunk is completed by the next.
    const decoder = new StringDecoder('utf8');
    let rest = '';
    let stopped = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (stopped) return;
      const records = (rest + decoder.write(chunk)).split('\0');
      rest = records.pop()!;
      if (records.length > 0 && onRecords(records) === false) {
        stopped = true;
        child.kill('SIGKILL');
      }
    });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0 && !stopped && rest === '' && decoder.end() === ''));
  });
}
