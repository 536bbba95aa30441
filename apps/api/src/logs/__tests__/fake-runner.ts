import type { Status } from '@cwo/contracts';
import type { FollowSource } from '../follow-log';

/** A log and a status that the test changes over time, as a runner would. */
export function fakeRunner() {
  const state = {
    log: Buffer.alloc(0),
    status: 'in_progress' as Status | null,
    statusReads: 0,
    statusFails: false,
    opens: 0,
    openFails: undefined as Error | undefined,
  };
  const watchers = new Set<() => void>();
  const source: FollowSource = {
    openLog: async () => {
      if (state.openFails) throw state.openFails;
      state.opens++;
      return {
        size: state.log.length,
        read: async (offset, max) => Buffer.from(state.log.subarray(offset, offset + max)),
        close: async () => undefined,
      };
    },
    jobStatus: async () => {
      state.statusReads++;
      if (state.statusFails) throw new Error('Connection terminated unexpectedly');
      return state.status;
    },
    watch: (onChange) => {
      watchers.add(onChange);
      return () => watchers.delete(onChange);
    },
  };
  /** Appends to the log and tells the watchers, as the file system would. */
  const write = (text: string) => {
    state.log = Buffer.concat([state.log, Buffer.from(text)]);
    for (const w of watchers) w();
  };
  return { state, source, write };
}
