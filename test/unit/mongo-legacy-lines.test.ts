import { describe, expect, it } from 'vitest';
import { boundedLines, LegacyDumpError } from '../../activities/db/mongo-legacy-dump';

async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield Buffer.from(p);
}

async function lines(input: AsyncIterable<Buffer>, max: number): Promise<string[]> {
  const out: string[] = [];
  for await (const line of boundedLines(input, max)) out.push(line);
  return out;
}

describe('the lines of a sciops-mongo/1 dump, each of bounded length', () => {
  it('splits at LF across chunks, keeps empty lines and a last line without LF', async () => {
    expect(await lines(chunks('ab', 'c\nd', 'e\n\nf\n', 'gh'), 10)).toEqual(['abc', 'de', '', 'f', 'gh']);
    expect(await lines(chunks('x\n'), 10)).toEqual(['x']);
    expect(await lines(chunks(), 10)).toEqual([]);
  });

  it('keeps a UTF-8 character split between chunks whole', async () => {
    const bytes = Buffer.from('é\n');
    async function* split() {
      yield bytes.subarray(0, 1);
      yield bytes.subarray(1);
    }
    expect(await lines(split(), 10)).toEqual(['é']);
  });

  it('takes a line of exactly the limit, and refuses a longer one as soon as it is too long (L9)', async () => {
    expect(await lines(chunks('12345\n'), 5)).toEqual(['12345']);
    let pulled = 0;
    async function* endless() {
      for (;;) {
        pulled++;
        yield Buffer.alloc(1024, 'x');
      }
    }
    const read = lines(endless(), 4096);
    await expect(read).rejects.toThrow(LegacyDumpError);
    await expect(read).rejects.toThrow('line 1 is longer than 4096 bytes');
    expect(pulled).toBe(5);
    await expect(lines(chunks('ok\n', '123456'), 5)).rejects.toThrow('line 2 is longer than 5 bytes');
    await expect(lines(chunks('ok\n1234', '56\n'), 5)).rejects.toThrow('line 2 is longer than 5 bytes');
  });
});
