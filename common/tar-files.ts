/**
 * Tar streams read as they pass, from their 512-byte headers (ustar, GNU and pax): what an archive holds and
 * whether it may be extracted. Pure: feed the bytes in any chunks.
 */
const BLOCK = 512;
/** Type flags of entries that are regular files once extracted ('\0' is the pre-POSIX regular file). */
const FILE_TYPES = new Set(['0', '\0', '1', '7', 'S']);
/** Entries whose data describe the next entry (GNU long names and links, pax headers) rather than being one. */
const META_TYPES = new Set(['L', 'K', 'x', 'g']);

/** The size field (offset 124, 12 bytes): octal text, or GNU's base-256 binary for large files. */
function headerSize(block: Buffer): number {
  const field = block.subarray(124, 136);
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let n = (field[0] ?? 0) & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + (field[i] ?? 0);
    return n;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

/** The 8-byte checksum field (offset 148): the sum of the header's bytes, the field itself read as spaces. */
function checksumOk(block: Buffer): boolean {
  const stored = Number.parseInt(block.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
  return stored === sum;
}

const text = (block: Buffer, from: number, length: number) =>
  block
    .subarray(from, from + length)
    .toString('utf8')
    .replace(/\0.*$/s, '');

/** A pax record (`<len> key=value\n`) of extended header data, if there is one. */
function paxRecord(data: Buffer, key: string): string | undefined {
  for (const record of data.toString('utf8').split('\n')) {
    const m = /^\d+ ([^=]+)=(.*)$/s.exec(record);
    if (m?.[1] === key) return m[2];
  }
  return undefined;
}

/** Why an entry's path could write outside the folder it is extracted into, or undefined. */
const escapes = (name: string) =>
  name.startsWith('/') ? 'an absolute path' : name.split('/').includes('..') ? 'a path with ..' : undefined;

/**
 * Lists a tar stream as it passes, to check it before it is extracted anywhere: every header's checksum (a
 * file that is not tar fails at its first block), every entry's path and hard-link target (none absolute,
 * none with `..`: extracted, it would write outside the folder), and that it does not end inside an entry
 * (truncated). `problems` holds what is wrong (the first few), `files` what `find -type f` would count. Pure:
 * feed it the bytes in any chunks, then call end().
 */
export class TarListing {
  readonly problems: string[] = [];
  entries = 0;
  files = 0;
  private skip = 0;
  private header = Buffer.alloc(0);
  /** The data of a meta entry (GNU long name or link, pax header) being read, with its type. */
  private meta: { type: string; left: number; data: Buffer[] } | undefined;
  private next: { path?: string; link?: string; size?: number } = {};
  private ended = false;
  private broken = false;

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.ended && !this.broken) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        if (this.meta !== undefined && this.meta.left > 0) {
          const take = Math.min(this.meta.left, n);
          this.meta.data.push(chunk.subarray(at, at + take));
          this.meta.left -= take;
        }
        this.skip -= n;
        at += n;
        if (this.skip === 0 && this.meta !== undefined) this.metaRead(this.meta);
        continue;
      }
      const need = BLOCK - this.header.length;
      this.header = Buffer.concat([this.header, chunk.subarray(at, at + need)]);
      at += Math.min(need, chunk.length - at);
      if (this.header.length < BLOCK) return;
      const block = this.header;
      this.header = Buffer.alloc(0);
      this.readHeader(block);
    }
  }

  end(): void {
    if (this.broken || this.ended) return;
    if (this.skip > 0 || this.header.length > 0) this.problem('the archive ends inside an entry: truncated');
    else if (this.entries === 0) this.problem('not a tar archive: it holds no entry');
  }

  private problem(why: string): void {
    if (this.problems.length < 5) this.problems.push(why);
  }

  private metaRead(meta: { type: string; data: Buffer[] }): void {
    const data = Buffer.concat(meta.data);
    const name = data.toString('utf8').replace(/\0.*$/s, '');
    if (meta.type === 'L') this.next.path = name;
    else if (meta.type === 'K') this.next.link = name;
    else if (meta.type === 'x') {
      const path = paxRecord(data, 'path');
      const link = paxRecord(data, 'linkpath');
      const size = paxRecord(data, 'size');
      if (path !== undefined) this.next.path = path;
      if (link !== undefined) this.next.link = link;
      if (size !== undefined) this.next.size = Number(size);
    }
    this.meta = undefined;
  }

  private readHeader(block: Buffer): void {
    if (block.every((b) => b === 0)) {
      this.ended = true;
      return;
    }
    if (!checksumOk(block)) {
      this.problem(`not a tar archive (or a damaged one): the header at entry ${this.entries + 1} does not check out`);
      this.broken = true;
      return;
    }
    const type = String.fromCharCode(block[156] ?? 0);
    const own = headerSize(block);
    if (META_TYPES.has(type)) {
      this.skip = Math.ceil(own / BLOCK) * BLOCK;
      // A global pax header ('g') applies to every entry; its path, if any, is checked like theirs.
      this.meta = { type, left: own, data: [] };
      if (this.skip === 0) this.metaRead(this.meta);
      return;
    }
    const ustar = block.subarray(257, 262).toString('latin1') === 'ustar';
    const prefix = ustar ? text(block, 345, 155) : '';
    const path = this.next.path ?? (prefix === '' ? text(block, 0, 100) : `${prefix}/${text(block, 0, 100)}`);
    const link = this.next.link ?? text(block, 157, 100);
    const size = this.next.size ?? own;
    this.next = {};
    this.entries += 1;
    const bad = escapes(path);
    if (bad !== undefined) this.problem(`entry ${JSON.stringify(path)}: ${bad} (extracted, it would write outside the volume)`);
    const badLink = type === '1' ? escapes(link) : undefined;
    if (badLink !== undefined) this.problem(`hard link ${JSON.stringify(path)} to ${JSON.stringify(link)}: ${badLink}`);
    if (FILE_TYPES.has(type)) this.files += 1;
    // A hard link carries no data, whatever its size field says.
    this.skip = type === '1' ? 0 : Math.ceil(size / BLOCK) * BLOCK;
  }
}
