/**
 * Exact reads over a stream of chunks, counting the offset: what the archive parser needs from its input.
 * It pulls the next chunk only when the bytes asked for are not there yet, so memory stays at one chunk
 * plus the largest block being read, and the producer's backpressure reaches the source. Bytes within one
 * chunk are handed out as views of it, not copies.
 */
export class ByteSource {
  private chunk: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Bytes consumed so far: the offset of the next byte. */
  offset = 0;
  private readonly chunks: AsyncIterator<Uint8Array>;

  constructor(input: AsyncIterable<Uint8Array>) {
    this.chunks = input[Symbol.asyncIterator]();
  }

  /** Makes the next `n` bytes available without consuming them; returns how many are (fewer only at the end). */
  async fill(n: number): Promise<number> {
    let have = this.chunk.length - this.pos;
    if (have >= n) return have;
    const parts: Buffer[] = have > 0 ? [this.chunk.subarray(this.pos)] : [];
    while (have < n) {
      const next = await this.chunks.next();
      if (next.done) break;
      const value = next.value;
      if (value.length === 0) continue;
      parts.push(Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.length));
      have += value.length;
    }
    this.chunk = parts.length === 1 ? parts[0] : Buffer.concat(parts, have);
    this.pos = 0;
    return have;
  }

  /** The next `n` bytes, which `fill(n)` made available. */
  take(n: number): Buffer {
    const out = this.chunk.subarray(this.pos, this.pos + n);
    this.pos += out.length;
    this.offset += out.length;
    return out;
  }

  /** The little-endian int32 at the next byte, which `fill(4)` made available. */
  peekInt32(): number {
    return this.chunk.readInt32LE(this.pos);
  }

  /** The next `n` bytes (or fewer at the end), not consumed. */
  async peek(n: number): Promise<Buffer> {
    const have = await this.fill(n);
    return this.chunk.subarray(this.pos, this.pos + Math.min(n, have));
  }

  /** What is left of the input, the bytes already pulled first: for a reader that takes the input over. */
  async *remaining(): AsyncGenerator<Buffer> {
    const rest = this.chunk.subarray(this.pos);
    this.chunk = Buffer.alloc(0);
    this.pos = 0;
    try {
      if (rest.length > 0) yield rest;
      for (;;) {
        const next = await this.chunks.next();
        if (next.done) return;
        yield Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.length);
      }
    } finally {
      await this.chunks.return?.();
    }
  }

  /** Stops the input (a reader that gave up early must not leave the source open). */
  async close(): Promise<void> {
    await this.chunks.return?.();
  }
}
