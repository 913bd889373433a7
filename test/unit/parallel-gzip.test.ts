import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parallelGzip } from '../../activities/files/parallel-gzip';

/** Rows like a dump's: ids, numbers, text; and some incompressible bytes, about 3:1 overall. */
function dumpLike(bytes: number): Buffer {
  const rows: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const row = `${i}\tsample-${(i * 7919) % 100_003}\t${(Math.sin(i) * 1000).toFixed(6)}\t${randomBytes(12).toString('base64')}\tgene expression of sample ${i % 97}\n`;
    rows.push(row);
    size += row.length;
  }
  return Buffer.from(rows.join('')).subarray(0, bytes);
}

async function compressed(input: Buffer, options: Parameters<typeof parallelGzip>[0], pieces = 64 * 1024): Promise<Buffer> {
  const out: Buffer[] = [];
  const chunks = function* () {
    for (let at = 0; at < input.length; at += pieces) yield input.subarray(at, at + pieces);
  };
  await pipeline(Readable.from(chunks()), parallelGzip(options), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) out.push(chunk);
  });
  return Buffer.concat(out);
}

describe('parallelGzip', () => {
  it('writes one .gz of independent members, in order, that gunzip and Node read back whole', async () => {
    const input = dumpLike(5 * 1024 * 1024 + 12_345);
    const gz = await compressed(input, { chunkBytes: 256 * 1024, parallel: 3 });
    expect(gunzipSync(gz).equals(input)).toBe(true);
    // Node's streaming gunzip (the restore's) and the gunzip command (the operator's) read every member.
    const streamed: Buffer[] = [];
    await pipeline(Readable.from([gz]), createGunzip(), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) streamed.push(chunk);
    });
    expect(Buffer.concat(streamed).equals(input)).toBe(true);
    expect(execFileSync('gunzip', ['-c'], { input: gz, maxBuffer: 64 << 20 }).equals(input)).toBe(true);
    // 21 members of 256 KiB (the last one short): each starts with the gzip magic.
    const header = gzipSync(Buffer.alloc(0)).subarray(0, 10);
    let members = 0;
    for (let at = gz.indexOf(header); at >= 0; at = gz.indexOf(header, at + 1)) members++;
    expect(members).toBe(21);
    // Costs little against one stream: well under 1 % more bytes here.
    expect(gz.length / gzipSync(input).length).toBeLessThan(1.01);
  });

  it('an empty input is one empty member (zero bytes are not a valid .gz); a short one is one member', async () => {
    const empty = await compressed(Buffer.alloc(0), {});
    expect(gunzipSync(empty).length).toBe(0);
    const short = await compressed(Buffer.from('1\tomics\n'), { chunkBytes: 1024 });
    expect(gunzipSync(short).toString()).toBe('1\tomics\n');
  });

  it('input that is an exact multiple of the chunk size ends with no empty member', async () => {
    const input = dumpLike(4 * 1024);
    const gz = await compressed(input, { chunkBytes: 1024, parallel: 2 }, 1000);
    expect(gunzipSync(gz).equals(input)).toBe(true);
    expect(gz.indexOf(gzipSync(Buffer.alloc(0)))).toBe(-1);
  });

  it('a compression that fails errors the stream', async () => {
    await expect(compressed(dumpLike(10_000), { level: 42, chunkBytes: 1024 })).rejects.toThrow(/level/);
  });
});
