import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';

/**
 * Where a follower writes: the client's response. Anything with a Writable's `write`, `end`,
 * `destroy`, `writableLength`, `writableNeedDrain` and its `drain`/`close` events.
 */
export type EventSink = Pick<
  Writable,
  'write' | 'end' | 'destroy' | 'destroyed' | 'writableLength' | 'writableNeedDrain' | 'on' | 'off'
>;

/**
 * One SSE event, encoded once however many clients get it. Its HTTP/1.1 chunk (size line, bytes,
 * CRLF) is built once too, on first use, for the responses written straight to their socket.
 */
export class SharedEvent {
  private framed: Buffer | undefined;

  constructor(readonly bytes: Buffer) {}

  static of(text: string): SharedEvent {
    return new SharedEvent(Buffer.from(text, 'utf8'));
  }

  get chunk(): Buffer {
    if (!this.framed) {
      const head = `${this.bytes.length.toString(16)}\r\n`;
      const out = Buffer.allocUnsafe(head.length + this.bytes.length + 2);
      out.write(head, 0, 'latin1');
      this.bytes.copy(out, head.length);
      out.write('\r\n', head.length + this.bytes.length, 'latin1');
      this.framed = out;
    }
    return this.framed;
  }
}

/** How a follower writes events to its sink and sees the sink's backlog. */
export interface EventWriter {
  write(event: SharedEvent): void;
  /** The last write filled the sink's buffer: wait for `drained` before writing more. */
  readonly needsDrain: boolean;
  /** Bytes written and not yet taken by the client's socket. */
  readonly queuedBytes: number;
  /** Resolves once the sink has room again, or is closed. */
  drained(): Promise<void>;
}

function onceEither(drains: Pick<Writable, 'on' | 'off'>, closes: Pick<Writable, 'on' | 'off'>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      drains.off('drain', done);
      closes.off('close', done);
      resolve();
    };
    drains.on('drain', done);
    closes.on('close', done);
  });
}

/**
 * A chunked HTTP/1.1 response whose headers are on the socket, with nothing of its own held back:
 * its socket, to write pre-framed chunks to. `res.socket` is only set on the response the
 * connection is answering now (a pipelined one waits without it), so the bytes land in order.
 */
function directSocket(sink: EventSink): Writable | null {
  const res = sink as Partial<ServerResponse>;
  const socket = res.socket;
  if (!socket || !res.headersSent || res.chunkedEncoding !== true || res.writableEnded) return null;
  // Its length counts its socket's: anything more is held by the response itself.
  if (sink.writableLength !== socket.writableLength) return null;
  return socket;
}

/**
 * The writer for `sink`. For a chunked Node HTTP response, each event's shared chunk goes to the
 * socket in one write: ServerResponse.write would frame it again for every client, in four
 * writes under a cork released on the next tick (one writev per client per event, and its tick).
 * The response still ends itself (its last chunk), after these bytes. Any other sink gets the
 * event's bytes through its own `write`.
 */
export function eventWriterFor(sink: EventSink): EventWriter {
  const socket = directSocket(sink);
  if (socket) {
    return {
      write: (event) => void socket.write(event.chunk),
      get needsDrain() {
        return socket.writableNeedDrain;
      },
      // The response's length counts its socket's.
      get queuedBytes() {
        return sink.writableLength;
      },
      drained: () => onceEither(socket, sink),
    };
  }
  return {
    write: (event) => void sink.write(event.bytes),
    get needsDrain() {
      return sink.writableNeedDrain;
    },
    get queuedBytes() {
      return sink.writableLength;
    },
    drained: () => onceEither(sink, sink),
  };
}
