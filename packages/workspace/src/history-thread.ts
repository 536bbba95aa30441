import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { commitJob, HistoryError } from './history';

// Job commits run on worker threads. A commit is synchronous file work (small objects are written
// inline, see git-objects.ts): a project's first commit of a large workspace writes every file as
// a blob, which on the runner's own thread would hold its event loop (lock renewals, cancels, the
// other jobs' logs) for as long. On a thread of its own it also runs beside the other jobs' work:
// on these machines file creation is mostly kernel time, spread this way over both cores.
// Commits of one project never overlap (the runner holds the project's lock), so any thread may
// take any commit.

type CommitArgs = Parameters<typeof commitJob>[0];
type Pending = { resolve: (sha: string) => void; reject: (err: Error) => void };

const THREADS = 2;

// From the sources (tests, `pnpm dev`) the worker is TypeScript, loaded through tsx; built, it is
// the compiled file beside this one.
const fromSources = __filename.endsWith('.ts');
const WORKER_FILE = path.join(__dirname, `history-worker${fromSources ? '.ts' : '.js'}`);

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
}

const threads: Array<Thread | null> = Array.from({ length: THREADS }, () => null);
let nextId = 0;

function startThread(slot: number): Thread {
  const worker = new Worker(WORKER_FILE, { execArgv: fromSources ? ['--require', require.resolve('tsx/cjs')] : [] });
  const thread: Thread = { worker, pending: new Map() };
  const fail = (err: Error) => {
    if (threads[slot] === thread) threads[slot] = null;
    for (const p of thread.pending.values())
      p.reject(new HistoryError(`the history thread stopped: ${err.message}`, { cause: err }));
    thread.pending.clear();
  };
  worker.on('message', (msg: { id: number; sha?: string; error?: { name: string; message: string } }) => {
    const p = thread.pending.get(msg.id);
    if (!p) return;
    thread.pending.delete(msg.id);
    if (thread.pending.size === 0) worker.unref();
    if (msg.sha) p.resolve(msg.sha);
    else
      p.reject(
        msg.error?.name === 'HistoryError'
          ? new HistoryError(msg.error.message)
          : new Error(msg.error?.message ?? 'commit failed'),
      );
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
  worker.unref(); // after the listeners, which ref it again; ref'd only while a commit is awaited
  threads[slot] = thread;
  return thread;
}

/** commitJob (history.ts) on a worker thread: the least busy one. */
export function commitJobOffThread(args: CommitArgs): Promise<string> {
  return new Promise((resolve, reject) => {
    let slot = 0;
    for (let i = 1; i < THREADS; i++)
      if ((threads[i]?.pending.size ?? 0) < (threads[slot]?.pending.size ?? 0)) slot = i;
    try {
      const thread = threads[slot] ?? startThread(slot);
      const id = nextId++;
      if (thread.pending.size === 0) thread.worker.ref();
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage({ id, args });
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

let users = 0;

/**
 * Marks a user of the threads (a runner, from start to stop): the returned function releases it,
 * and the last release ends the threads, so that a stopped runner leaves none behind. Calls made
 * without this start them too; idle, they never hold the process open.
 */
export function useHistoryThreads(): () => Promise<void> {
  users++;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    if (--users === 0) await stopHistoryThreads();
  };
}

/** Ends the threads; a commit still on one fails with HistoryError. The next call starts anew. */
export async function stopHistoryThreads(): Promise<void> {
  const running = threads.splice(0, THREADS, ...Array.from({ length: THREADS }, () => null));
  await Promise.all(running.flatMap((t) => (t ? [t.worker.terminate()] : [])));
}
