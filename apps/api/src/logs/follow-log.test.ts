import type { Status } from '@cwo/contracts';
import { followLog, type FollowSource } from './follow-log';

/** A log and a status that the test changes over time, as a runner would. */
function fakeRunner() {
  const state = { log: Buffer.alloc(0), status: 'in_progress' as Status | null, statusReads: 0 };
  const source: FollowSource = {
    readChunk: async (offset, max) => state.log.subarray(offset, offset + max),
    jobStatus: async () => {
      state.statusReads++;
      return state.status;
    },
  };
  return { state, source };
}

async function collect(events: AsyncGenerator<string>, until: (all: string) => boolean): Promise<string> {
  let all = '';
  for await (const e of events) {
    all += e;
    if (until(all)) break;
  }
  return all;
}

describe('followLog', () => {
  const fast = { pollMs: 5, statusEveryMs: 0 };

  it('streams lines as they are written, then ends with the status once everything was sent', async () => {
    const { state, source } = fakeRunner();
    const events = followLog(source, 0, { signal: new AbortController().signal, ...fast });
    state.log = Buffer.from('starting\n');
    setTimeout(() => (state.log = Buffer.from('starting\nworking\nlast line without newline')), 30);
    setTimeout(() => (state.status = 'completed'), 60);
    const all = await collect(events, (s) => s.includes('event: end'));
    expect(all).toBe(
      'retry: 1000\n\n' +
        'id: 9\nevent: log\ndata: starting\n\n' +
        'id: 17\nevent: log\ndata: working\n\n' +
        'id: 42\nevent: log\ndata: last line without newline\n\n' +
        'event: end\ndata: {"status":"completed"}\n\n',
    );
  });

  it('stops promptly when the client goes away, and reads nothing afterwards', async () => {
    const { state, source } = fakeRunner();
    const controller = new AbortController();
    const events = followLog(source, 0, { signal: controller.signal, pollMs: 60_000, statusEveryMs: 0 });
    await events.next(); // retry hint
    const pending = events.next(); // now waiting in its poll sleep
    setTimeout(() => controller.abort(), 10);
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    const reads = state.statusReads;
    await new Promise((r) => setTimeout(r, 50));
    expect(state.statusReads).toBe(reads);
  });

  it('keeps streaming the log while the status cannot be read (Postgres away), and ends once it can', async () => {
    const { state, source } = fakeRunner();
    let postgresDown = true;
    source.jobStatus = async () => {
      if (postgresDown) throw new Error('Connection terminated unexpectedly');
      return state.status;
    };
    const events = followLog(source, 0, { signal: new AbortController().signal, ...fast });
    state.log = Buffer.from('written during the outage\n');
    setTimeout(() => {
      postgresDown = false;
      state.status = 'completed';
    }, 50);
    const all = await collect(events, (s) => s.includes('event: end'));
    expect(all).toBe(
      'retry: 1000\n\n' +
        'id: 26\nevent: log\ndata: written during the outage\n\n' +
        'event: end\ndata: {"status":"completed"}\n\n',
    );
  });

  it('ends quietly when the job disappears (project deleted)', async () => {
    const { state, source } = fakeRunner();
    state.status = null;
    const all = await collect(followLog(source, 0, { signal: new AbortController().signal, ...fast }), () => false);
    expect(all).toBe('retry: 1000\n\n');
  });
});
