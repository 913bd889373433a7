import { Transform, type Writable } from 'node:stream';
import type Dockerode from 'dockerode';

/** Splits a stream the engine multiplexes (logs, exec output) into stdout and stderr; resolves at its end. */
export function demuxToEnd(modem: Dockerode['modem'], stream: NodeJS.ReadableStream, stdout: Writable, stderr: Writable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    modem.demuxStream(stream, stdout, stderr);
    stream.on('end', resolve);
    stream.on('error', reject);
  });
}

/**
 * The engine's multiplexed stream (frames with an 8-byte header: stream, then size) as a Transform that
 * passes on stdout's frames, with backpressure (modem.demuxStream writes regardless: a fast pg_dump into a slow
 * store would pile up in memory), and hands stderr's to `onStderr`.
 */
export function stdoutFrames(onStderr: (chunk: Buffer) => void): Transform {
  let pending: Buffer = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      let buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (buf.length >= 8) {
        const size = buf.readUInt32BE(4);
        if (buf.length < 8 + size) break;
        const payload = buf.subarray(8, 8 + size);
        if (buf[0] === 2) onStderr(payload);
        else this.push(payload);
        buf = buf.subarray(8 + size);
      }
      pending = buf;
      done();
    },
    flush(done) {
      done(pending.length === 0 ? null : new Error(`the engine's stream ended inside a frame (${pending.length} bytes left)`));
    },
  });
}
