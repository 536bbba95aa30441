import type { FileHandle } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';

// What a handler answers, independent of Express; http/express-adapter.ts sends it.

export type Headers = Record<string, string>;

export type Reply =
  | { kind: 'json'; status: number; body: unknown; headers?: Headers }
  | { kind: 'empty'; status: number; headers?: Headers }
  /** A body produced over time: a file stream, or server-sent events from an async generator. */
  | { kind: 'stream'; status: number; headers: Headers; body: Readable | AsyncIterable<string | Buffer> }
  /** The first `length` bytes of an open file (the adapter closes the handle). */
  | { kind: 'file'; status: number; headers: Headers; handle: FileHandle; length: number }
  /**
   * A body written straight to the response by `attach` (server-sent events shared by many
   * clients: no stream per client in between), which ends or destroys it when done.
   */
  | { kind: 'events'; status: number; headers: Headers; attach: (response: Writable) => void };

export const json = (status: number, body: unknown, headers?: Headers): Reply => ({
  kind: 'json',
  status,
  body,
  headers,
});
export const empty = (status: number, headers?: Headers): Reply => ({ kind: 'empty', status, headers });
export const stream = (status: number, headers: Headers, body: Readable | AsyncIterable<string | Buffer>): Reply => ({
  kind: 'stream',
  status,
  headers,
  body,
});
export const file = (status: number, headers: Headers, handle: FileHandle, length: number): Reply => ({
  kind: 'file',
  status,
  headers,
  handle,
  length,
});
export const events = (status: number, headers: Headers, attach: (response: Writable) => void): Reply => ({
  kind: 'events',
  status,
  headers,
  attach,
});
