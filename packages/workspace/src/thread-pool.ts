import path from 'node:path';
import { Piscina } from 'piscina';

// The process's one pool of worker threads (piscina), for synchronous file work that would
// otherwise hold the event loop: half of a large listing's lstat calls (list.ts) and the
// runner's job commits (@cwo/history). Tasks name the module they run, so any package can hand
// one over. Idle threads end after a while and never hold the process open.

const THREADS = 2;
const IDLE_MS = 30_000;

// From the sources (tests, `pnpm dev`) task modules are TypeScript, loaded through tsx; built,
// they are the compiled files.
const fromSources = __filename.endsWith('.ts');

let pool: Piscina | null = null;

function threads(): Piscina {
  pool ??= new Piscina({
    maxThreads: THREADS,
    minThreads: 0,
    idleTimeout: IDLE_MS,
    execArgv: fromSources ? ['--require', require.resolve('tsx/cjs')] : [],
  });
  return pool;
}

/** The task module `name` in `dir` (pass __dirname): the .ts from the sources, the .js built. */
export const taskModule = (dir: string, name: string): string =>
  path.join(dir, `${name}${fromSources ? '.ts' : '.js'}`);

/** Runs the exported function `fn` of the task module `file` with `arg` on a thread of the pool. */
export function runOnThread<T>(file: string, fn: string, arg: unknown): Promise<T> {
  return threads().run(arg, { filename: file, name: fn }) as Promise<T>;
}

/** Ends the pool's threads (a task still running fails); the next task starts the pool anew. */
export async function stopThreads(): Promise<void> {
  const stopping = pool;
  pool = null;
  await stopping?.destroy();
}
