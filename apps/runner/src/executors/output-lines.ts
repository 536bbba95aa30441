import { Writable } from 'node:stream';

/** Longest line passed on in one piece; a longer one (no newline in sight) is cut into pieces. */
export const MAX_LINE_CHARS = 16 * 1024;

/**
 * A writable stream that calls `onLine` for every complete line written to it (without the
 * newline; a trailing CR is dropped too), as the bytes come. What is left without a newline at the
 * end is passed on when the stream ends. Multi-byte characters split across chunks are kept whole.
 */
export function lineWriter(onLine: (line: string) => void): Writable {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  const emit = (line: string) => {
    const clean = line.endsWith('\r') ? line.slice(0, -1) : line;
    for (let i = 0; i < clean.length || i === 0; i += MAX_LINE_CHARS) onLine(clean.slice(i, i + MAX_LINE_CHARS));
  };
  const take = (text: string) => {
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf('\n')) !== -1) {
      emit(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
    while (pending.length > MAX_LINE_CHARS) {
      onLine(pending.slice(0, MAX_LINE_CHARS));
      pending = pending.slice(MAX_LINE_CHARS);
    }
  };
  const writer = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      take(decoder.decode(chunk, { stream: true }));
      callback();
    },
    final(callback) {
      take(decoder.decode());
      if (pending) emit(pending);
      pending = '';
      callback();
    },
  });
  // Output that arrives after the end (a stream torn down late) is dropped, not a crash.
  writer.on('error', () => undefined);
  return writer;
}

/** Longest part of a worker's last error line quoted in a job's error. */
const LAST_LINE_CHARS = 300;

/**
 * Remembers the last non-empty line of a stream (the worker's stderr), so that a worker that exits
 * without a result is reported with what it said: "cannot write the result …: ENOSPC" is how a full
 * disk is known when it has been freed again by the time the runner looks (disk-full.ts).
 */
export function lastLineKeeper(onLine: (line: string) => void): { onLine: (line: string) => void; last(): string } {
  let last = '';
  return {
    onLine(line) {
      onLine(line);
      if (line.trim()) last = line.trim().slice(0, LAST_LINE_CHARS);
    },
    last: () => last,
  };
}
