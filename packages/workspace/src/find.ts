import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

// One GNU `find` child walking a directory, its NUL-terminated `-printf` records handed over as
// they arrive: the same syscalls a walk from Node makes, done in C relative to each directory,
// without a Stats object (several microseconds of JavaScript) per entry. The listing (list.ts) and
// the history's snapshots (@cwo/history's find-walk.ts) use it; each decides what its records mean.
//
// Each find is started by a long-lived `sh` (the launcher below) rather than by this process: a
// child is a fork, and forking a large Node process copies its page tables on this thread, many
// times what the small shell's fork costs (docs/benchmarks.md, B4).

/**
 * Called with the records that arrived, in find's order: `buf` holds one or more whole records,
 * each ending with its NUL (a name may hold any byte but NUL, so a record may hold newlines); it
 * is not reused. Returning false stops the walk, and scanFind resolves false.
 */
export type FindRecords = (buf: Buffer) => boolean | void;

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };

/**
 * Runs `find <args>` in `cwd` and passes its NUL-terminated records to `onRecords` as they arrive.
 * Resolves true when find ran to the end without an error and its output ended with a NUL; false
 * when it could not be started, reported any error (an entry that vanished half-way, one it may
 * not read) or was stopped by `onRecords`: the caller walks in JS then.
 */
export function scanFind(cwd: string, args: readonly string[], onRecords: FindRecords): Promise<boolean> {
  const launcher = idleLauncher(cwd, args);
  return launcher ? launcher.run(cwd, args, onRecords) : spawnFind(cwd, args, onRecords);
}

/** Cuts a stream's chunks at their last NUL: whole records only, the rest joined to the next chunk. */
function recordSplitter() {
  let rest: Buffer | null = null;
  return {
    // Records are left as bytes: decoding each path on its own gives flat strings, which sort
    // several times faster than slices of one decoded chunk.
    push(chunk: Buffer): Buffer | null {
      const joined: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
      const end = joined.lastIndexOf(0) + 1;
      rest = end < joined.length ? joined.subarray(end) : null;
      return end > 0 ? joined.subarray(0, end) : null;
    },
    /** Whether everything so far ended with a whole record. */
    whole: () => rest === null,
  };
}

/** find as a child of this process (when the launcher is busy or cannot be used). */
function spawnFind(cwd: string, args: readonly string[], onRecords: FindRecords): Promise<boolean> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      // LC_ALL=C: numbers (the times' decimal point) printed the same whatever the locale.
      child = spawn('find', args, { cwd, env: ENV, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      resolve(false);
      return;
    }
    const split = recordSplitter();
    let stopped = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (stopped) return;
      const records = split.push(chunk);
      if (records && onRecords(records) === false) {
        stopped = true;
        child.kill('SIGKILL');
      }
    });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0 && !stopped && split.whole()));
  });
}

/** A word the shell reads back as exactly `s` (which holds no newline: see idleLauncher). */
const shellWord = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

// The launcher's loop: one request per line (`cd <dir> && find <args>`, every word quoted), and
// after each find a record `<nonce> <status>` that ends its output (the nonce: no file's name).
const LOOP = 'while IFS= read -r request; do eval "$request"; printf \'%s %d\\0\' "$1" "$?"; done';

interface Launcher {
  busy: boolean;
  run(cwd: string, args: readonly string[], onRecords: FindRecords): Promise<boolean>;
}

// A small pool: a walk split over two finds at once (find-walk.ts) keeps both shells busy.
const MAX_LAUNCHERS = 2;
const launchers: Launcher[] = [];
let launcherUnusable = false;

/** A launcher free for this walk (started if the pool has room); null for a direct child instead. */
function idleLauncher(cwd: string, args: readonly string[]): Launcher | null {
  // A request is one line; a newline in a name would end it early.
  if (launcherUnusable || [cwd, ...args].some((a) => a.includes('\n'))) return null;
  const idle = launchers.find((l) => !l.busy);
  if (idle || launchers.length >= MAX_LAUNCHERS) return idle ?? null;
  const started = startLauncher();
  if (started) launchers.push(started);
  return started;
}

function startLauncher(): Launcher | null {
  const nonce = randomBytes(16).toString('hex');
  let sh: ChildProcess;
  try {
    // Its own process group, so that a stopped walk ends the shell and its find together.
    sh = spawn('sh', ['-c', LOOP, 'find-launcher', nonce], {
      env: ENV,
      stdio: ['pipe', 'pipe', 'ignore'],
      detached: true,
    });
  } catch {
    launcherUnusable = true;
    return null;
  }
  const stdin = sh.stdin!;
  const stdout = sh.stdout!;
  const endPrefix = `${nonce} `;
  // The walk in progress: where its records go, and how it ends.
  let current: {
    onRecords: FindRecords;
    split: ReturnType<typeof recordSplitter>;
    done: (ok: boolean) => void;
  } | null = null;
  // Idle, the shell never keeps this process alive.
  const hold = (on: boolean) => {
    for (const handle of [sh, stdin, stdout] as Array<{ ref(): void; unref(): void }>) {
      if (on) handle.ref();
      else handle.unref();
    }
  };
  const self: Launcher = {
    busy: false,
    run(cwd, args, onRecords) {
      self.busy = true;
      hold(true);
      return new Promise((resolve) => {
        current = {
          onRecords,
          split: recordSplitter(),
          done: (ok) => {
            current = null;
            self.busy = false;
            hold(false);
            resolve(ok);
          },
        };
        // Absolute: the shell's own directory is wherever the last walk was.
        stdin.write(`cd ${shellWord(path.resolve(cwd))} && find ${args.map(shellWord).join(' ')}\n`);
      });
    },
  };
  const end = (spawnFailed: boolean) => {
    const at = launchers.indexOf(self);
    if (at >= 0) launchers.splice(at, 1);
    // No shell to start here: every walk is a direct child from now on.
    if (spawnFailed) launcherUnusable = true;
    current?.done(false);
  };
  const stop = () => {
    end(false);
    try {
      process.kill(-sh.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  stdout.on('data', (chunk: Buffer) => {
    const walk = current;
    if (!walk) return stop(); // output nobody asked for: not a shell to trust
    const records = walk.split.push(chunk);
    if (!records) return;
    // The status comes last; after output that did not end with a NUL, it ends a cut record.
    const lastStart = records.length > 1 ? records.lastIndexOf(0, records.length - 2) + 1 : 0;
    const at = records.indexOf(endPrefix, lastStart, 'latin1');
    const found = records.subarray(0, at >= 0 ? lastStart : records.length);
    if (found.length > 0 && walk.onRecords(found) === false) return stop();
    if (at >= 0)
      walk.done(at === lastStart && records.toString('latin1', at + endPrefix.length) === '0\0' && walk.split.whole());
  });
  sh.once('error', () => end(true));
  sh.once('exit', () => end(false));
  stdin.on('error', () => undefined); // the shell gone: its exit ends the walk
  hold(false);
  return self;
}

/** find's time (`%T@`, `%C@`: `1796135953.6730605220`, seconds then the nanoseconds and more) as decimal nanoseconds. */
export function findTimeNs(t: string): string {
  const dot = t.indexOf('.');
  if (dot < 0) return t === '0' ? '0' : `${t}000000000`;
  const frac = t.slice(dot + 1, dot + 10);
  const ns = t.slice(0, dot) + (frac.length === 9 ? frac : frac.padEnd(9, '0'));
  return ns.charCodeAt(0) === 48 /* 0 */ ? ns.replace(/^0+(?=\d)/, '') : ns;
}

/** A moment (nanoseconds) as find's `-newerXt` reference: `@<seconds>.<nanoseconds>`. */
export const findTimeArg = (ns: bigint): string =>
  `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
