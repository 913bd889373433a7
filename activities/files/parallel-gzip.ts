import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';

const gzip = promisify(gzipCallback);

export interface ParallelGzipOptions {
  /** zlib's level, 1-9; default 6, what `gzip` uses. */
  readonly level?: number;
  /** Bytes of input per gzip member; default 1 MiB. */
  readonly chunkBytes?: number;
  /** Members compressed at once; default the cores there are, at most 4 (libuv's thread pool). */
  readonly parallel?: number;
}

/**
 * gzip on every core, as `pigz` does: the input is cut into chunks, each compressed on libuv's thread pool as
 * an independent gzip member, and the members are written in order. A file of concatenated members is one
 * valid `.gz` (RFC 1952 §2.2): `gunzip`, `zcat`, psql's pipe and Node's gunzip read it as the whole stream.
 * Memory is bounded: at most `parallel` chunks are in flight; a writer waits (backpressure) beyond that.
 * Each member costs about 20 bytes and its first 32 KiB compress without the previous chunk's dictionary,
 * so the output is a little larger than one `gzip` stream of the same input (well under 1 % at 1 MiB chunks).
 */
export function parallelGzip(options: ParallelGzipOptions = {}): Transform {
  const level = options.level ?? 6;
  const chunkBytes = options.chunkBytes ?? 1 << 20;
  const parallel = Math.max(1, options.parallel ?? Math.min(4, availableParallelism()));
  const inFlight: Array<Promise<Buffer>> = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let members = 0;

  const compress = (chunk: Buffer) => {
    const member = gzip(chunk, { level });
    // Awaited in order below; until then a failure must not count as unhandled.
    member.catch(() => undefined);
    inFlight.push(member);
    members++;
  };

  /** Pushes finished members, oldest first, until fewer than `keep` are in flight. */
  async function drain(stream: Transform, keep: number): Promise<void> {
    while (inFlight.length > keep) stream.push(await (inFlight.shift() as Promise<Buffer>));
  }

  function cut(): void {
    while (pendingBytes >= chunkBytes) {
      const all = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
      compress(all.subarray(0, chunkBytes));
      const rest = all.subarray(chunkBytes);
      pending = rest.length > 0 ? [rest] : [];
      pendingBytes = rest.length;
    }
  }

  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      cut();
      drain(this, parallel - 1).then(() => done(), done);
    },
    flush(done: TransformCallback) {
      // The rest, and for an empty input one empty member: zero bytes are not a valid .gz.
      if (pendingBytes > 0 || members === 0) compress(Buffer.concat(pending, pendingBytes));
      pending = [];
      pendingBytes = 0;
      drain(this, 0).then(() => done(), done);
    },
  });
}
