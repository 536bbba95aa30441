import { CHECK_OUTPUT_MAX_BYTES } from '@cwo/contracts';

/**
 * The last `maxBytes` bytes of a stream of output, however long it runs: chunks are kept until
 * they exceed the cap, then the oldest are dropped, so memory stays near the cap.
 */
export class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes dropped from the front. */
  private dropped = 0;

  constructor(private readonly maxBytes = CHECK_OUTPUT_MAX_BYTES) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0]!.length >= this.maxBytes) {
      const first = this.chunks.shift()!;
      this.size -= first.length;
      this.dropped += first.length;
    }
  }

  get truncated(): boolean {
    return this.dropped > 0 || this.size > this.maxBytes;
  }

  /**
   * The kept output as storable text: the last maxBytes bytes, starting at a whole character, with
   * NUL (which Postgres cannot store) and undecodable bytes shown as U+FFFD.
   */
  text(): string {
    let bytes = Buffer.concat(this.chunks);
    if (bytes.length > this.maxBytes) bytes = bytes.subarray(bytes.length - this.maxBytes);
    // A cut may fall inside a character: skip its continuation bytes (10xxxxxx).
    let start = 0;
    if (this.truncated) while (start < bytes.length && start < 3 && (bytes[start]! & 0xc0) === 0x80) start++;
    return new TextDecoder('utf-8').decode(bytes.subarray(start)).replaceAll('\u0000', '\uFFFD');
  }
}
