import { Worker } from 'node:worker_threads';

// The sizes of many files at once, half of them stat-ed on a second thread. Listing a large
// workspace is one lstat per file, ~2.4 µs each in Node (mostly its own per-call work), which on
// a 20,000-file tree is most of the listing; a second thread does half of them meanwhile. The
// worker is one small script, started on first use and kept; it holds the process open only while
// it has work. Any failure of it falls back to the calling thread doing all the work.

/** What a path's lstat said: its size when it is a regular file; GONE when it is not (any more). */
export const GONE = -1;

// Plain JavaScript, so that it runs the same from the sources (tests) and from the build.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
parentPort.on('message', ({ id, paths }) => {
  const sizes = new Float64Array(paths.length);
  try {
    for (let i = 0; i < paths.length; i++) {
      let st;
      try {
        st = fs.lstatSync(paths[i], { throwIfNoEntry: false });
      } catch (err) {
        if (err.code !== 'ENOTDIR' && err.code !== 'ELOOP') throw err;
      }
      sizes[i] = st && st.isFile() ? st.size : ${GONE};
    }
    parentPort.postMessage({ id, sizes }, [sizes.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: { message: err.message, code: err.code } });
  }
});
`;

type Pending = { resolve: (sizes: Float64Array) => void; reject: (err: Error) => void };

let worker: Worker | null = null;
let nextId = 0;
const pending = new Map<number, Pending>();

function failAll(err: Error): void {
  worker = null;
  for (const p of pending.values()) p.reject(err);
  pending.clear();
}

function getWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(WORKER_SOURCE, { eval: true });
  w.on('message', (msg: { id: number; sizes?: Float64Array; error?: { message: string; code?: string } }) => {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (pending.size === 0) w.unref();
    if (msg.sizes) p.resolve(msg.sizes);
    else p.reject(Object.assign(new Error(msg.error?.message ?? 'stat worker failed'), { code: msg.error?.code }));
  });
  w.on('error', failAll);
  w.on('exit', (code) => failAll(new Error(`stat worker exited (${code})`)));
  // After the listeners, which ref it again.
  w.unref();
  worker = w;
  return w;
}

/** The lstat sizes of `paths` (GONE for anything but a regular file), done on the worker thread. */
export function statSizesElsewhere(paths: string[]): Promise<Float64Array> {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    try {
      const w = getWorker();
      if (pending.size === 0) w.ref(); // an answer is awaited
      pending.set(id, { resolve, reject });
      w.postMessage({ id, paths });
    } catch (err) {
      pending.delete(id);
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
