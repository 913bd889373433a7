import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TarListing } from '../../common/tar-files';
import { tempDir } from '../support/experiments';

/** A volume's worth of entries: files, empty files, a hard link, symlinks, directories, a long name, a sparse file. */
function volume(): { dir: string; files: number } {
  const dir = tempDir('tar-files');
  mkdirSync(path.join(dir, 'media/2026/samples'), { recursive: true });
  for (let i = 0; i < 40; i++) writeFileSync(path.join(dir, 'media/2026/samples', `s${i}.csv`), 'gene,value\n'.repeat(i * 37));
  writeFileSync(path.join(dir, 'empty.txt'), '');
  linkSync(path.join(dir, 'media/2026/samples/s3.csv'), path.join(dir, 'hard-link.csv'));
  symlinkSync('media/2026', path.join(dir, 'latest'));
  symlinkSync('/nowhere', path.join(dir, 'dangling'));
  const long = path.join(dir, `${'a-very-long-directory-name-'.repeat(5)}x`);
  mkdirSync(long);
  writeFileSync(path.join(long, `${'long-file-name-'.repeat(8)}.bin`), Buffer.alloc(70_000, 7));
  writeFileSync(path.join(dir, 'sparse.img'), '');
  truncateSync(path.join(dir, 'sparse.img'), 5_000_000);
  const files = Number(
    execFileSync('sh', ['-c', `find ${dir} -type f | wc -l`])
      .toString()
      .trim(),
  );
  return { dir, files };
}

/** Feeds the archive in uneven chunks, as a stream delivers it. */
function count(archive: Buffer, seed: number): number {
  const counter = new TarListing();
  let at = 0;
  let n = seed;
  while (at < archive.length) {
    n = (n * 1103515245 + 12345) % 2 ** 31;
    const size = 1 + (n % 3000);
    counter.push(archive.subarray(at, at + size));
    at += size;
  }
  return counter.files;
}

describe('TarListing counts files', () => {
  const { dir, files } = volume();

  it.each(['gnu', 'posix', 'oldgnu'])('counts what find -type f finds once extracted (%s format)', (format) => {
    const args = ['-C', dir, '-cf', '-', `--format=${format}`, '--sparse', '.'];
    const archive = execFileSync('tar', args, { maxBuffer: 64 * 1024 * 1024 });
    expect(files).toBe(44);
    for (const seed of [1, 2, 3]) expect(count(archive, seed)).toBe(files);
  });

  it('takes the size a pax header gives the entry after it over the header field (files over 8 GiB)', () => {
    const big = tempDir('tar-pax');
    for (const f of ['x', 'y', 'z']) writeFileSync(path.join(big, `${f}.txt`), f);
    // The file is itself an archive: skipped by the wrong size, its own headers would be counted.
    const inner = execFileSync('tar', ['-C', big, '-cf', '-', 'x.txt', 'y.txt', 'z.txt']);
    writeFileSync(path.join(big, 'inner.tar'), inner);
    const archive = execFileSync('tar', ['-C', big, '-cf', '-', '--format=posix', `--pax-option=size:=${inner.length}`, 'inner.tar']);
    // What tar writes for a file too big for the field: the size only in the pax record. Zero the field, and
    // write the header's checksum again (as tar would have it).
    let header = -1;
    for (let at = 0; at < archive.length; at += 512) {
      if (archive.subarray(at, at + 9).toString() === 'inner.tar' && archive[at + 156] === 0x30) header = at;
    }
    expect(header).toBeGreaterThan(0);
    archive.fill(0x30, header + 124, header + 135);
    archive.fill(0x20, header + 148, header + 156);
    let sum = 0;
    for (let i = header; i < header + 512; i++) sum += archive[i] as number;
    archive.write(`${sum.toString(8).padStart(6, '0')}\0 `, header + 148, 'latin1');
    expect(count(archive, 7)).toBe(1);
  });

  it('stops at the end-of-archive blocks: what follows them is not counted', () => {
    const archive = execFileSync('tar', ['-C', dir, '-cf', '-', 'empty.txt']);
    const counter = new TarListing();
    counter.push(archive);
    counter.push(execFileSync('tar', ['-C', dir, '-cf', '-', 'hard-link.csv']));
    expect(counter.files).toBe(1);
  });
});
