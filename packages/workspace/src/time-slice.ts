import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

// Long walks over a workspace are done with synchronous filesystem calls (each costs a few
// microseconds, where a promise-based one costs tens for the thread pool's hand-off), cut into
// short slices so that the event loop still gets a turn every few milliseconds.

/** Longest stretch of synchronous work before the event loop gets a turn, in ms. */
export const DEFAULT_SLICE_MS = 8;
/** Entries between two looks at the clock (reading it is not free either). */
const CLOCK_EVERY = 64;

export interface TimeSlicer {
  /**
   * Called once per unit of work: usually returns null at once; when the slice has run out,
   * returns a promise to await, resolved after the event loop has had its turn.
   */
  tick(): Promise<void> | null;
}

export function timeSlicer(sliceMs = DEFAULT_SLICE_MS): TimeSlicer {
  let sliceStart = performance.now();
  let sinceClock = 0;
  return {
    tick() {
      if (++sinceClock < CLOCK_EVERY) return null;
      sinceClock = 0;
      if (performance.now() - sliceStart <= sliceMs) return null;
      return yieldToEventLoop().then(() => {
        sliceStart = performance.now();
      });
    },
  };
}
