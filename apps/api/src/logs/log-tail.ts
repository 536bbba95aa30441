import { isFinished, type Status } from '@cwo/contracts';
import { SharedEvent, type EventSink } from './event-writer';
import { LogFollower, type FollowedTail } from './log-follower';
import { logEvent, sendableLength } from './sse';

/** A job's log opened for reading as it grows. */
export interface LogReader {
  /** The file's size when it was opened. */
  readonly size: number;
  /** Up to `maxBytes` of the log from `offset`: as much as the file holds now (empty at its end). */
  read(offset: number, maxBytes: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** Where a tail reads a job's log and its status. */
export interface FollowSource {
  /**
   * Opens the log (null while it does not exist). Offsets read are never past the log's size
   * when a client asked for them (the handler clamps them), so they only grow into it.
   */
  openLog(): Promise<LogReader | null>;
  /** The job's status from Postgres; null once the job no longer exists. */
  jobStatus(): Promise<Status | null>;
  /**
   * Starts watching the log file: `onChange` when it may have grown, `onLost` once the watch has
   * ended by itself (the file was replaced). Returns how to stop it, or null when the file cannot
   * be watched (not there yet, or no file watching here): the poll then does the work alone.
   */
  watch?(onChange: () => void, onLost: () => void): (() => void) | null;
}

export interface TailOptions {
  /**
   * How often the file is read without a watch event (a watch sees no writes of other machines
   * on a network volume), and opened again (in case it was replaced).
   */
  pollMs: number;
  /** How often the job's status is read from Postgres (once per tail, not per client). */
  statusEveryMs: number;
  /** Silence after which a keep-alive comment is sent. */
  keepAliveMs: number;
  maxChunkBytes: number;
  /** Least time between two reads: a log written in many small writes is read in fewer, larger pieces. */
  minReadIntervalMs: number;
  /**
   * Bytes a client's response may hold, not yet taken by its socket, before its follower stops
   * writing live events to it and reads the file itself at the client's pace instead.
   */
  maxQueuedBytes: number;
}

/**
 * One job's log as it grows, read once for every client of this process that follows it: a file
 * watch wakes it (a poll backs the watch up), one read and one SSE formatting per piece of log,
 * handed to every live follower; one status read per `statusEveryMs` for all of them. A finished
 * status is seen before the read that completes the log, so that read finds all of it; then every
 * follower gets `end`. Nothing here is needed to resume: event ids are byte offsets.
 */
export class LogTail implements FollowedTail {
  published: number;
  private readonly followers = new Set<LogFollower>();
  /** Set once a status read found the job finished: the next read is the last. */
  private finalStatus: Status | undefined;
  private checkingStatus = false;
  private readonly statusTimer: NodeJS.Timeout;
  private lastActivity = Date.now();
  private lastPump = -Infinity;
  private pumping = false;
  private dirty = false;
  private delayed: NodeJS.Timeout | undefined;
  private readonly poll: NodeJS.Timeout;
  private unwatch: (() => void) | null = null;
  private reader: LogReader | null = null;
  private openedAt = -Infinity;
  /** No more reads: every follower left, or the log is complete (followers may still catch up). */
  private done = false;
  /** The log was found shorter than what was published, or gone: cut or replaced, not appended to. */
  private cut = false;

  constructor(
    private readonly source: FollowSource,
    offset: number,
    private readonly opts: TailOptions,
    private readonly onDone: () => void,
  ) {
    this.published = offset;
    this.poll = setInterval(() => this.kick(), opts.pollMs);
    this.statusTimer = setInterval(() => void this.checkStatus(), opts.statusEveryMs);
    void this.checkStatus();
    this.kick();
  }

  get maxChunkBytes(): number {
    return this.opts.maxChunkBytes;
  }

  get isDone(): boolean {
    return this.done;
  }

  /** A follower's own read (catching up): opened and closed for it, the tail's reads go on meanwhile. */
  async readChunk(offset: number, maxBytes: number): Promise<Buffer> {
    const reader = await this.source.openLog();
    if (!reader) return Buffer.alloc(0);
    try {
      return await reader.read(offset, maxBytes);
    } finally {
      await reader.close().catch(() => undefined);
    }
  }

  /** A new client from `offset`, written to `sink`: behind the tail it catches up from the file first. */
  follow(offset: number, sink: EventSink): LogFollower {
    const follower = new LogFollower(this, sink, offset, this.opts.maxQueuedBytes);
    this.followers.add(follower);
    return follower;
  }

  remove(follower: LogFollower): void {
    this.followers.delete(follower);
    if (this.followers.size === 0) this.stop();
  }

  /** The log may have grown: read it now, or as soon as the least interval between reads allows. */
  private kick(): void {
    if (this.done) return;
    if (this.pumping || this.delayed) {
      this.dirty = true;
      return;
    }
    const wait = this.lastPump + this.opts.minReadIntervalMs - Date.now();
    if (wait > 0) {
      this.delayed = setTimeout(() => {
        this.delayed = undefined;
        void this.pump();
      }, wait);
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    this.dirty = false;
    this.lastPump = Date.now();
    try {
      const final = this.finalStatus;
      await this.readAvailable(final !== undefined);
      if (this.done) return;
      if (this.cut) return await this.endCut();
      if (final !== undefined) return this.finish(final);
      if (!this.unwatch && this.source.watch) {
        this.unwatch = this.source.watch(
          () => this.kick(),
          () => {
            this.unwatch = null;
            this.openedAt = -Infinity; // the file was replaced: open the new one
          },
        );
      }
      if (Date.now() - this.lastActivity >= this.opts.keepAliveMs) {
        for (const follower of this.followers) follower.keepAlive();
        this.lastActivity = Date.now();
      }
    } catch (err) {
      const failure = err instanceof Error ? err : new Error(String(err));
      const followers = [...this.followers];
      this.stop();
      for (const follower of followers) follower.fail(failure);
    } finally {
      this.pumping = false;
      if (this.dirty) this.kick();
    }
  }

  /**
   * Reads the job's status (apart from the reads, so that a slow Postgres delays no line). A
   * finished status comes before the read that completes the log: the file is complete by then.
   */
  private async checkStatus(): Promise<void> {
    if (this.checkingStatus || this.done || this.finalStatus !== undefined) return;
    this.checkingStatus = true;
    try {
      const status = await this.source.jobStatus();
      if (this.done) return;
      if (status === null) return this.finish(undefined); // the job (its project) was deleted
      if (isFinished(status)) {
        this.finalStatus = status;
        this.kick();
      }
    } catch {
      // Postgres is away: the log file needs no database, so the stream goes on, and the status
      // is asked again at the next check (the stream ends only on a status read).
    } finally {
      this.checkingStatus = false;
    }
  }

  /**
   * Reads and publishes what the log holds past `published`: whole lines, or all once final. A
   * read that fills the chunk is followed by another at once; otherwise the next read waits for
   * the next change (a log written line by line is then read in pieces, not line by line).
   */
  private async readAvailable(final: boolean): Promise<void> {
    const max = this.opts.maxChunkBytes;
    for (let full = true; full;) {
      const reader = await this.currentReader();
      if (!reader) return;
      const chunk = await reader.read(this.published, max);
      if (this.done) return;
      full = chunk.length === max;
      const length = sendableLength(chunk, { final, full });
      if (length === 0) return;
      const from = this.published;
      const to = from + length;
      const body = chunk.subarray(0, length);
      const shared = SharedEvent.of(logEvent(to, body));
      this.published = to;
      for (const follower of this.followers) follower.offer(from, to, body, shared);
      this.lastActivity = Date.now();
    }
  }

  /** The open log, opened again once it is `pollMs` old; null while there is none. */
  private async currentReader(): Promise<LogReader | null> {
    if (this.reader && Date.now() - this.openedAt < this.opts.pollMs) return this.reader;
    const old = this.reader;
    this.reader = null;
    await old?.close().catch(() => undefined);
    const reader = await this.source.openLog();
    if (this.done || (reader?.size ?? 0) < this.published) {
      // Shorter than what was sent: its offsets (the event ids) no longer mean what they did.
      if (!this.done) this.cut = true;
      await reader?.close().catch(() => undefined);
      return null;
    }
    this.reader = reader;
    this.openedAt = Date.now();
    return reader;
  }

  /**
   * The runner only appends to a log, so a shorter one was truncated or replaced (by the agent):
   * no more reads from it. Followers get `end` if the job has finished, else their streams end
   * plainly and clients reconnect with Last-Event-ID, which the handler clamps to the log's size.
   */
  private async endCut(): Promise<void> {
    const followers = [...this.followers];
    this.stop();
    const status = await this.source.jobStatus().catch(() => undefined);
    for (const follower of followers) {
      if (status === null) follower.finish(undefined);
      else if (status !== undefined && isFinished(status)) follower.finish(status);
      else follower.stop();
    }
  }

  /** The log is complete (or the job gone): followers end once they have everything. */
  private finish(status: Status | undefined): void {
    const followers = [...this.followers];
    this.stop();
    for (const follower of followers) follower.finish(status);
  }

  private stop(): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.poll);
    clearInterval(this.statusTimer);
    clearTimeout(this.delayed);
    this.unwatch?.();
    this.unwatch = null;
    void this.reader?.close().catch(() => undefined);
    this.reader = null;
    this.onDone();
  }
}
