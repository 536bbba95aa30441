import { Readable } from 'node:stream';
import type { Status } from '@cwo/contracts';
import { KEEP_ALIVE, endEvent, logEvent, retryHint, sendableLength } from './sse';

/** What a follower needs from the tail it follows. */
export interface FollowedTail {
  /** Bytes of the log read and published so far: live followers are at (or past) this offset. */
  readonly published: number;
  /** Up to `maxBytes` of the log from `offset` (empty at the end or while there is no log). */
  readChunk(offset: number, maxBytes: number): Promise<Buffer>;
  readonly maxChunkBytes: number;
  remove(follower: LogFollower): void;
}

interface Queued {
  event: Buffer;
  /** The log offset just after this event (keep-alives: the offset they were sent at). */
  offsetAfter: number;
}

const KEEP_ALIVE_EVENT = Buffer.from(KEEP_ALIVE);
const RETRY_EVENT = Buffer.from(retryHint(1000));
const encode = (event: string): Buffer => Buffer.from(event, 'utf8');

/**
 * One SSE client of a shared tail, as the readable stream of its response body. While it keeps
 * up it is "live": the tail hands it each event it publishes (one buffer shared by every live
 * follower), pushed on as the client's socket takes it. A follower that starts behind the tail
 * (a client resuming from an earlier offset), or whose events waiting for its socket pass
 * `maxQueuedBytes` (a client that cannot keep up), is "catching up": it reads the log from the
 * file itself, as fast as its client takes it, until it reaches the tail again. So memory stays
 * bounded, a slow client slows nobody else, and it never has to reconnect.
 */
export class LogFollower extends Readable {
  /** The next byte this follower's client needs. */
  private offset: number;
  /** The offset after the last event pushed to the stream (where a catch-up resumes). */
  private delivered: number;
  private catchingUp: boolean;
  private reading = false;
  private queue: Queued[] = [];
  private queuedBytes = 0;
  /** The stream wants more (its last push was accepted, or it asked since). */
  private demand = false;
  private outcome: { status: Status | undefined } | undefined;
  private over = false;

  constructor(
    private readonly tail: FollowedTail,
    offset: number,
    private readonly maxQueuedBytes: number,
  ) {
    super();
    this.offset = offset;
    this.delivered = offset;
    this.catchingUp = offset < tail.published;
    this.push(RETRY_EVENT);
  }

  /** From the tail: the chunk [from, to) of the log was read; `shared` is its event from `from`. */
  offer(from: number, to: number, chunk: Buffer, shared: Buffer): void {
    if (this.catchingUp || this.over || this.offset >= to) return;
    if (this.offset < from) {
      this.startCatchUp(); // cannot happen while live; reading from the file is always right
      return;
    }
    const event = this.offset === from ? shared : encode(logEvent(to, chunk.subarray(this.offset - from)));
    this.offset = to;
    this.enqueue({ event, offsetAfter: to });
  }

  /** From the tail: nothing was sent for a while (keeps proxies from closing the stream). */
  keepAlive(): void {
    if (!this.catchingUp && !this.over && this.queue.length === 0) {
      this.enqueue({ event: KEEP_ALIVE_EVENT, offsetAfter: this.offset });
    }
  }

  /** From the tail: the log is complete; `status` undefined when the job no longer exists. */
  finish(status: Status | undefined): void {
    this.outcome = { status };
    this.flush();
  }

  /** From the tail: reading the log failed; the client's stream fails with it. */
  fail(err: Error): void {
    this.destroy(err);
  }

  /** Ends the stream where it is (server shutdown: the client resumes with Last-Event-ID). */
  stop(): void {
    this.endStream(undefined);
  }

  override _read(): void {
    this.demand = true;
    this.flush();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.over = true;
    this.queue = [];
    this.tail.remove(this);
    callback(err);
  }

  private enqueue(item: Queued): void {
    if (this.queuedBytes + item.event.length > this.maxQueuedBytes) {
      this.startCatchUp();
      return;
    }
    this.queue.push(item);
    this.queuedBytes += item.event.length;
    this.flush();
  }

  /** Drops what was not pushed yet and reads from the file from there instead. */
  private startCatchUp(): void {
    this.queue = [];
    this.queuedBytes = 0;
    this.offset = this.delivered;
    this.catchingUp = true;
    this.flush();
  }

  /** Pushes what is ready while the stream takes it; starts a file read when catching up. */
  private flush(): void {
    while (this.demand && !this.over) {
      const queued = this.queue.shift();
      if (queued) {
        this.queuedBytes -= queued.event.length;
        this.delivered = queued.offsetAfter;
        this.demand = this.push(queued.event);
        continue;
      }
      if (this.outcome && this.outcome.status === undefined) return this.endStream(undefined); // the job is gone
      if (this.catchingUp) {
        if (!this.reading) void this.catchUp();
        return;
      }
      if (this.outcome) return this.endStream(this.outcome.status);
      return;
    }
  }

  /** `end` with the status (none when the job is gone), then the end of the stream. */
  private endStream(status: Status | undefined): void {
    if (this.over) return;
    this.over = true;
    this.queue = [];
    this.tail.remove(this);
    if (status !== undefined) this.push(encode(endEvent(status)));
    this.push(null);
  }

  /**
   * Reads the next piece of the log from the file, from this follower's offset towards what the
   * tail has published; live again once it is there. The tail's offsets are boundaries it chose
   * (after a newline, or inside an endless line at a character boundary), so a read that ends
   * there sends everything it got.
   */
  private async catchUp(): Promise<void> {
    const target = this.tail.published;
    if (this.offset >= target) {
      this.catchingUp = false;
      return this.flush();
    }
    this.reading = true;
    try {
      const want = Math.min(this.tail.maxChunkBytes, target - this.offset);
      const chunk = await this.tail.readChunk(this.offset, want);
      if (this.over) return;
      const length =
        chunk.length === target - this.offset
          ? chunk.length
          : chunk.length === want
            ? sendableLength(chunk, { final: false, full: true })
            : 0;
      if (length === 0) throw new Error('the job log became shorter while it was being followed');
      this.offset += length;
      this.delivered = this.offset;
      this.demand = this.push(encode(logEvent(this.offset, chunk.subarray(0, length))));
    } catch (err) {
      this.destroy(err instanceof Error ? err : new Error(String(err)));
      return;
    } finally {
      this.reading = false;
    }
    this.flush();
  }
}
