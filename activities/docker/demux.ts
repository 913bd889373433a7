import type { Writable } from 'node:stream';
import type Dockerode from 'dockerode';

/** Splits a stream the engine multiplexes (logs, exec output) into stdout and stderr; resolves at its end. */
export function demuxToEnd(modem: Dockerode['modem'], stream: NodeJS.ReadableStream, stdout: Writable, stderr: Writable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    modem.demuxStream(stream, stdout, stderr);
    stream.on('end', resolve);
    stream.on('error', reject);
  });
}
