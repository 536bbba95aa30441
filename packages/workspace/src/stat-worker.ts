import { GONE } from './stat-task';
import { runOnThread, taskModule } from './thread-pool';

// The sizes of many files at once, on a thread of the pool. Listing a large workspace is one
// lstat per file, mostly Node's own per-call work and most of the listing's time (README, B4); a
// second thread does half of them meanwhile (list.ts). Any failure of it
// falls back to the calling thread doing all the work.

export { GONE };

const STAT_TASK = taskModule(__dirname, 'stat-task');

/** The lstat sizes of `paths` (GONE for anything but a regular file), done on a worker thread. */
export function statSizesElsewhere(paths: string[]): Promise<Float64Array> {
  return runOnThread<Float64Array>(STAT_TASK, 'statSizes', paths);
}
