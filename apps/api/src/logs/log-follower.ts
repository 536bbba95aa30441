import type { Status } from '@cwo/contracts';
import { SharedEvent, eventWriterFor, type EventSink, type EventWriter } from './event-writer';
import { KEEP_ALIVE, endEvent, logEvent, retryHint, sendableLength } from './sse';

export type { EventSink } from './event-writer';

/** What a follower needs from the tail it follows. */
export interface FollowedTail {
  /** Bytes of the log read and published so far: live followers are at (or past) this offset. */
  readonly published: number;
  /** Up to `maxBytes` of the log from `offset` (empty at the end or while there is no log). */
  readChunk(offset: number, maxBytes: number): Promise<Buffer>;
  readonly maxChunkBytes: number;
  remove(follower: LogFollower): void;
}

const KEEP_ALIVE_EVENT = SharedEvent.of(KEEP_ALIVE);
const RETRY_EVENT = SharedEvent.of(retryHint(1000));

/**
 * One SSE client of a shared tail, writing straight to its response. While it keeps up it is
 * "live": the tail hands it each event it publishes (one buffer shared by every live follower),
 * written as is. A follower that starts behind the tail (a client resuming from an earlier
 * offset), or whose response holds `maxQueuedBytes` not yet taken by its socket (a client that
 * cannot keep up), is "catching up": it reads the log from the file itself, one chunk each time
 * its socket drains, until it reaches the tail again. So what waits for a client is bounded,
 * a slow client slows nobody else, and it misses nothing without having to reconnect.
 */
export class LogFollower {
  /** The next byte this follower's client needs: everything before it is written to the sink. */
  private offset: number;
  private catchingUp: boolean;
  private reading = false;
  private outcome: { status: Status | undefined } | undefined;
  private over = false;
  private readonly onClose = () => this.close();
  private readonly out: EventWriter;

  constructor(
    private readonly tail: FollowedTail,
    private readonly sink: EventSink,
    offset: number,
    private readonly maxQueuedBytes: number,
  ) {
    this.offset = offset;
    this.catchingUp = offset < tail.published;
    sink.on('close', this.onClose);
    this.out = eventWriterFor(sink);
    this.out.write(RETRY_EVENT);
    if (this.catchingUp) void this.catchUp();
  }

  /** From the tail: the chunk [from, to) of the log was read; `shared` is its event from `from`. */
  offer(from: number, to: number, chunk: Buffer, shared: SharedEvent): void {
    if (this.catchingUp || this.over || this.offset >= to) return;
    if (this.offset < from) return this.startCatchUp(); // cannot happen while live; the file is always right
    const event = this.offset === from ? shared : SharedEvent.of(logEvent(to, chunk.subarray(this.offset - from)));
    // needsDrain first: it is a flag, and most clients never have a backlog to measure.
    if (this.out.needsDrain && this.out.queuedBytes + event.bytes.length > this.maxQueuedBytes) {
      return this.startCatchUp();
    }
    this.offset = to;
    this.out.write(event);
  }

  /** From the tail: nothing was sent for a while (keeps proxies from closing the stream). */
  keepAlive(): void {
    if (!this.catchingUp && !this.over && this.out.queuedBytes === 0) this.out.write(KEEP_ALIVE_EVENT);
  }

  /** From the tail: the log is complete; `status` undefined when the job no longer exists. */
  finish(status: Status | undefined): void {
    this.outcome = { status };
    // The job is gone: nothing more to send. Otherwise a live follower has everything now, and
    // one catching up ends when its reads reach the end.
    if (status === undefined || !this.catchingUp) this.endStream(status);
  }

  /** From the tail: reading the log failed; the client's response fails with it. */
  fail(err: Error): void {
    if (this.over) return;
    this.close();
    this.sink.destroy(err);
  }

  /** Ends the stream where it is (server shutdown: the client resumes with Last-Event-ID). */
  stop(): void {
    this.endStream(undefined);
  }

  /** The client went away (or the response ended): no more writes, no more reads for it. */
  private close(): void {
    if (this.over) return;
    this.over = true;
    this.sink.off('close', this.onClose);
    this.tail.remove(this);
  }

  /** `end` with the status (none when the job is gone, or on shutdown), then the end of the response. */
  private endStream(status: Status | undefined): void {
    if (this.over) return;
    this.close();
    if (status !== undefined) this.out.write(SharedEvent.of(endEvent(status)));
    this.sink.end();
  }

  private startCatchUp(): void {
    this.catchingUp = true;
    void this.catchUp();
  }

  /**
   * Reads the log from the file, from this follower's offset towards what the tail has published,
   * a chunk at a time as the client takes them; live again once it is there. The tail's offsets
   * are boundaries it chose (after a newline, or inside an endless line at a character
   * boundary), so a read that ends there sends everything it got.
   */
  private async catchUp(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      for (;;) {
        if (this.over) return;
        if (this.out.needsDrain) {
          await this.out.drained();
          continue;
        }
        const target = this.tail.published;
        if (this.offset >= target) break;
        const want = Math.min(this.tail.maxChunkBytes, target - this.offset);
        const chunk = await this.tail.readChunk(this.offset, want);
        if (this.over) return;
        const length =
          chunk.length === target - this.offset
            ? chunk.length
            : chunk.length === want
              ? sendableLength(chunk, { final: false, full: true })
              : 0;
        // The log was cut or replaced (its tail ends every stream): this one ends where it is.
        if (length === 0) return this.endStream(undefined);
        this.offset += length;
        this.out.write(SharedEvent.of(logEvent(this.offset, chunk.subarray(0, length))));
      }
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    } finally {
      this.reading = false;
    }
    // At the tail: live from its next event on (checked and switched in the same turn, so no
    // event falls between).
    this.catchingUp = false;
    if (this.outcome) this.endStream(this.outcome.status);
  }
}
