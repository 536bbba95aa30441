import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { Status } from '@cwo/contracts';
import { InvalidPathError, jobLogFile } from '@cwo/workspace';
import { createLogFollowers, type FollowSource, type LogFollowers, type TailOptions } from './follow-log';
import { openLogReader, watchJobLog } from './log-file';
import { fakeRunner } from './__tests__/fake-runner';

/** A client's response as its follower writes it, read from the other side as the client would. */
function follow(followers: LogFollowers, source: FollowSource, offset: number, signal: AbortSignal): PassThrough {
  const response = new PassThrough();
  followers.follow('job', source, offset, response, signal);
  return response;
}

async function collect(events: Readable, until: (all: string) => boolean = () => false): Promise<string> {
  let all = '';
  for await (const chunk of events) {
    all += String(chunk);
    if (until(all)) break;
  }
  return all;
}

/** The log bytes a client rebuilds from the events it got (what `data:` lines carry). */
function logOf(events: string): string {
  return [...events.matchAll(/^id: \d+\nevent: log\n((?:data: .*\n)+)\n/gm)]
    .map((m) => m[1]!.replace(/^data: /gm, ''))
    .join('');
}

const ids = (events: string): number[] => [...events.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lines = (from: number, n: number, pad = 0) =>
  Array.from({ length: n }, (_, i) => `line ${from + i}${' .'.repeat(pad)}\n`).join('');

describe('following a job log', () => {
  const fast: Partial<TailOptions> = { pollMs: 5, statusEveryMs: 5, minReadIntervalMs: 0 };
  const open = () => new AbortController().signal;

  it('streams lines as they are written, then ends with the status once everything was sent', async () => {
    const { state, source } = fakeRunner();
    const events = follow(createLogFollowers(fast), source, 0, open());
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
    const followers = createLogFollowers({ pollMs: 60_000, statusEveryMs: 5, minReadIntervalMs: 0 });
    const events = follow(followers, source, 0, controller.signal);
    const all = collect(events);
    setTimeout(() => controller.abort(), 20);
    await expect(all).resolves.toBe('retry: 1000\n\n');
    expect(followers.tails).toBe(0);
    const reads = state.statusReads;
    await sleep(50);
    expect(state.statusReads).toBe(reads);
  });

  it('ends quietly when the job disappears (project deleted)', async () => {
    const { state, source } = fakeRunner();
    state.status = null;
    const all = await collect(follow(createLogFollowers(fast), source, 0, open()));
    expect(all).toBe('retry: 1000\n\n');
  });

  it('keeps streaming the log while the status cannot be read (Postgres away), and ends once it can', async () => {
    const { state, source } = fakeRunner();
    state.statusFails = true;
    const events = follow(createLogFollowers(fast), source, 0, open());
    state.log = Buffer.from('written during the outage\n');
    setTimeout(() => {
      state.statusFails = false;
      state.status = 'completed';
    }, 50);
    const all = await collect(events, (s) => s.includes('event: end'));
    expect(all).toBe(
      'retry: 1000\n\n' +
        'id: 26\nevent: log\ndata: written during the outage\n\n' +
        'event: end\ndata: {"status":"completed"}\n\n',
    );
  });

  it('serves every client of a job from one tail: one status read per check, one open log, for all of them', async () => {
    const { state, source, write } = fakeRunner();
    const statusEveryMs = 20;
    const followers = createLogFollowers({ pollMs: 60_000, statusEveryMs, minReadIntervalMs: 0 });
    const started = Date.now();
    const clients = Array.from({ length: 50 }, () => collect(follow(followers, source, 0, open())));
    expect(followers.tails).toBe(1);
    for (let i = 0; i < 10; i++) {
      write(lines(i * 10, 10));
      await sleep(10);
    }
    state.status = 'completed';
    const all = await Promise.all(clients);
    const elapsedChecks = (Date.now() - started) / statusEveryMs;
    for (const events of all) {
      expect(logOf(events)).toBe(lines(0, 100));
      expect(events.endsWith('event: end\ndata: {"status":"completed"}\n\n')).toBe(true);
    }
    // Fifty clients polling on their own would have read the status fifty times per check.
    expect(state.statusReads).toBeLessThanOrEqual(elapsedChecks + 2);
    expect(state.opens).toBe(1); // the tail's log, opened once (pollMs is long)
    expect(followers.tails).toBe(0);
  });

  it('a client starting behind the tail catches up from the file, then follows live, missing nothing', async () => {
    const { state, source, write } = fakeRunner();
    const followers = createLogFollowers({ pollMs: 60_000, statusEveryMs: 5, minReadIntervalMs: 0, maxChunkBytes: 64 });
    const first = collect(follow(followers, source, 0, open()));
    write(lines(0, 50));
    await sleep(20);
    // Joins from the start while the tail is far ahead, and the log goes on growing meanwhile.
    const late = collect(follow(followers, source, 0, open()));
    write(lines(50, 50));
    await sleep(20);
    write(lines(100, 50));
    state.status = 'completed';
    const [a, b] = await Promise.all([first, late]);
    expect(logOf(a)).toBe(lines(0, 150));
    expect(logOf(b)).toBe(lines(0, 150));
    // Whole lines in every event, ids strictly increasing: no event repeated or skipped.
    for (const events of [a, b]) {
      const offsets = ids(events);
      expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
      expect(new Set(offsets).size).toBe(offsets.length);
      for (const id of offsets) expect(state.log[id - 1]).toBe(0x0a);
    }
  });

  it('resumes from an event id (Last-Event-ID) while others follow: exactly the bytes after it', async () => {
    const { state, source, write } = fakeRunner();
    const followers = createLogFollowers({ pollMs: 60_000, statusEveryMs: 5, minReadIntervalMs: 0 });
    const first = collect(follow(followers, source, 0, open()));
    write(lines(0, 10));
    await sleep(20);
    write(lines(10, 10));
    await sleep(20);
    const resumeAt = Buffer.byteLength(lines(0, 10)); // the id of the first event the client got
    const resumed = collect(follow(followers, source, resumeAt, open()));
    write(lines(20, 10));
    state.status = 'completed';
    const [a, b] = await Promise.all([first, resumed]);
    expect(logOf(a)).toBe(lines(0, 30));
    expect(logOf(b)).toBe(lines(10, 20));
    expect(b.endsWith('event: end\ndata: {"status":"completed"}\n\n')).toBe(true);
  });

  it('a client that does not keep up reads from the file instead of holding events: it misses nothing, nor does anyone else', async () => {
    const { state, source, write } = fakeRunner();
    const followers = createLogFollowers({
      pollMs: 60_000,
      statusEveryMs: 5,
      minReadIntervalMs: 0,
      maxQueuedBytes: 200,
    });
    const fastClient = collect(follow(followers, source, 0, open()));
    const slowStream = follow(followers, source, 0, open());
    slowStream.pause(); // its client stopped reading (a stalled connection)
    // 40 KB: more than the stream itself holds for a stalled client (16 KiB) and the 200 bytes.
    for (let i = 0; i < 20; i++) {
      write(lines(i * 5, 5, 200));
      await sleep(5);
    }
    const opensWhileStalled = state.opens;
    state.status = 'completed';
    expect(logOf(await fastClient)).toBe(lines(0, 100, 200));
    slowStream.resume();
    const slow = await collect(slowStream);
    expect(logOf(slow)).toBe(lines(0, 100, 200));
    expect(slow.endsWith('event: end\ndata: {"status":"completed"}\n\n')).toBe(true);
    // What it missed came from the file (its events beyond 200 bytes were never kept for it).
    expect(state.opens).toBeGreaterThan(opensWhileStalled);
  });

  it('every client of a job gets the same events, byte for byte, in order', async () => {
    const { state, source, write } = fakeRunner();
    const followers = createLogFollowers({ pollMs: 60_000, statusEveryMs: 5, minReadIntervalMs: 0 });
    const clients = Array.from({ length: 100 }, () => collect(follow(followers, source, 0, open())));
    for (let i = 0; i < 20; i++) {
      write(lines(i * 7, 7));
      await sleep(2);
    }
    state.status = 'completed';
    const all = await Promise.all(clients);
    expect(logOf(all[0]!)).toBe(lines(0, 140));
    const offsets = ids(all[0]!);
    expect(offsets.length).toBeGreaterThan(1);
    expect(offsets).toEqual([...new Set(offsets)].sort((x, y) => x - y));
    for (const events of all) expect(events).toBe(all[0]);
  });

  it('a client that stops reading holds at most maxQueuedBytes, and the others get every line meanwhile', async () => {
    const { state, source, write } = fakeRunner();
    const maxQueuedBytes = 4096;
    const followers = createLogFollowers({
      pollMs: 60_000,
      statusEveryMs: 5,
      minReadIntervalMs: 0,
      maxChunkBytes: 1024,
      maxQueuedBytes,
    });
    const others = Array.from({ length: 3 }, () => collect(follow(followers, source, 0, open())));
    const stalled = new PassThrough({ highWaterMark: 1024 });
    let mostHeld = 0;
    const write_ = stalled.write.bind(stalled);
    stalled.write = ((chunk: Buffer) => {
      const taken = write_(chunk);
      mostHeld = Math.max(mostHeld, stalled.writableLength);
      return taken;
    }) as typeof stalled.write;
    followers.follow('job', source, 0, stalled, open());
    stalled.pause(); // its client stopped reading (a stalled connection)
    for (let i = 0; i < 50; i++) {
      write(lines(i * 5, 5, 20)); // ~250 KB in all
      await sleep(1);
    }
    state.status = 'completed';
    // The others finish while the stalled client still holds its backlog.
    for (const events of await Promise.all(others)) expect(logOf(events)).toBe(lines(0, 250, 20));
    expect(mostHeld).toBeGreaterThan(0);
    expect(mostHeld).toBeLessThanOrEqual(maxQueuedBytes);
    stalled.resume();
    const late = await collect(stalled);
    expect(logOf(late)).toBe(lines(0, 250, 20));
    expect(late.endsWith('event: end\ndata: {"status":"completed"}\n\n')).toBe(true);
  });

  it('sends a keep-alive comment when the log is silent', async () => {
    const { source } = fakeRunner();
    const events = follow(createLogFollowers({ ...fast, keepAliveMs: 20 }), source, 0, open());
    expect(await collect(events, (s) => s.includes(': keep-alive'))).toBe('retry: 1000\n\n: keep-alive\n\n');
    events.destroy();
  });

  it("fails every client's stream when the log cannot be read (replaced by a link out of the workspace)", async () => {
    const { state, source } = fakeRunner();
    state.openFails = new InvalidPathError('symlink escapes workspace');
    const followers = createLogFollowers(fast);
    const clients = [0, 1].map(() => collect(follow(followers, source, 0, open())));
    for (const client of clients) await expect(client).rejects.toThrow('symlink escapes workspace');
    expect(followers.tails).toBe(0);
  });

  describe('on a real log file', () => {
    let workspace: string;
    beforeEach(() => {
      workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'follow-log-'));
      fs.mkdirSync(path.dirname(jobLogFile(workspace, 'job')), { recursive: true });
      fs.writeFileSync(jobLogFile(workspace, 'job'), 'first\n');
    });
    afterEach(() => fs.rmSync(workspace, { recursive: true, force: true }));

    let status: Status = 'in_progress';
    const source = (): FollowSource => ({
      openLog: () => openLogReader(workspace, 'job'),
      jobStatus: async () => status,
      watch: (onChange, onLost) => watchJobLog(workspace, 'job', onChange, onLost),
    });
    const file = () => jobLogFile(workspace, 'job');
    beforeEach(() => (status = 'in_progress'));

    it('a file watch brings new lines without waiting for the poll', async () => {
      // The poll would not come for an hour: only the watch can bring the second line.
      const followers = createLogFollowers({ pollMs: 3_600_000, statusEveryMs: 3_600_000, minReadIntervalMs: 0 });
      const events = follow(followers, source(), 0, open());
      const got = collect(events, (s) => s.includes('data: second'));
      await sleep(100); // the tail has read the first line and watches the file
      fs.appendFileSync(jobLogFile(workspace, 'job'), 'second\n');
      expect(await got).toBe('retry: 1000\n\nid: 6\nevent: log\ndata: first\n\nid: 13\nevent: log\ndata: second\n\n');
      events.destroy(); // the client goes away ('close' comes on the next tick)
      await sleep(10);
      expect(followers.tails).toBe(0);
    });

    it('a client resuming mid-file (Last-Event-ID) while the job writes gets exactly the bytes after it, then the live ones', async () => {
      const followers = createLogFollowers({ pollMs: 50, statusEveryMs: 20, minReadIntervalMs: 0, maxChunkBytes: 256 });
      let firstSoFar = '';
      const firstAll = collect(follow(followers, source(), 0, open()), (all) => {
        firstSoFar = all;
        return false;
      });
      let resumed: Promise<string> | undefined;
      let resumedAt = 0;
      for (let i = 0; i < 60; i++) {
        fs.appendFileSync(file(), lines(i * 10, 10));
        await sleep(3);
        if (i === 30) {
          // The id of an event the first client got: the offset a reconnecting client sends.
          const sent = ids(firstSoFar);
          expect(sent.length).toBeGreaterThan(2);
          resumedAt = sent[Math.floor(sent.length / 2)]!;
          resumed = collect(follow(followers, source(), resumedAt, open()));
        }
      }
      status = 'completed';
      const whole = fs.readFileSync(file());
      const [a, b] = await Promise.all([firstAll, resumed!]);
      expect(logOf(a)).toBe(whole.toString());
      expect(logOf(b)).toBe(whole.subarray(resumedAt).toString());
      const offsets = ids(b);
      expect(offsets).toEqual([...new Set(offsets)].sort((x, y) => x - y));
      expect(b.endsWith('event: end\ndata: {"status":"completed"}\n\n')).toBe(true);
    });

    it('a log cut short while the job runs ends the streams, sending nothing of what replaced it', async () => {
      const followers = createLogFollowers({ pollMs: 20, statusEveryMs: 20, minReadIntervalMs: 0 });
      const clients = [0, 1].map(() => collect(follow(followers, source(), 0, open())));
      await sleep(50);
      fs.truncateSync(file(), 0); // the agent emptied the log
      fs.appendFileSync(file(), 'new\n');
      for (const events of await Promise.all(clients)) {
        expect(events).toBe('retry: 1000\n\nid: 6\nevent: log\ndata: first\n\n');
      }
      expect(followers.tails).toBe(0);
    });

    it('a log replaced by a shorter one after the job finished ends the streams with the final status', async () => {
      fs.appendFileSync(file(), 'second line\n');
      const followers = createLogFollowers({ pollMs: 20, statusEveryMs: 3_600_000, minReadIntervalMs: 0 });
      const events = collect(follow(followers, source(), 0, open()));
      await sleep(50);
      status = 'error';
      fs.renameSync(file(), `${file()}.1`); // rotated
      fs.writeFileSync(file(), 'x\n');
      expect(await events).toBe(
        'retry: 1000\n\nid: 18\nevent: log\ndata: first\ndata: second line\n\n' +
          'event: end\ndata: {"status":"error"}\n\n',
      );
    });
  });
});
