/**
 * Counts the files of a tar stream as it passes: the entries that `find -type f` would list once extracted
 * (regular files, hard links, contiguous and GNU sparse files), read from the 512-byte headers (ustar, GNU and pax), so a
 * backup's manifest holds the count of what it wrote, not of a volume that may have changed since. Pure:
 * feed it the bytes in any chunks.
 */
const BLOCK = 512;
/** Type flags of entries that are regular files once extracted ('\0' is the pre-POSIX regular file). */
const FILE_TYPES = new Set(['0', '\0', '1', '7', 'S']);
/** Entries whose data describe the next entry (GNU long names and links, pax headers) rather than being one. */
const META_TYPES = new Set(['L', 'K', 'x', 'g']);

export class TarFileCounter {
  files = 0;
  /** Bytes of entry data (padded to whole blocks) still to skip before the next header. */
  private skip = 0;
  /** A header block being assembled across chunks. */
  private header = Buffer.alloc(0);
  /** The pax data of an `x` header being read: it may give the next entry's size. */
  private pax: Buffer[] | undefined;
  private paxLeft = 0;
  private nextSize: number | undefined;
  /** Two zero blocks end the archive. */
  private ended = false;

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.ended) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        if (this.pax !== undefined && this.paxLeft > 0) {
          const take = Math.min(this.paxLeft, n);
          this.pax.push(chunk.subarray(at, at + take));
          this.paxLeft -= take;
          if (this.paxLeft === 0) this.nextSize = paxSize(Buffer.concat(this.pax)) ?? this.nextSize;
        }
        this.skip -= n;
        at += n;
        if (this.skip === 0) this.pax = undefined;
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

  private readHeader(block: Buffer): void {
    if (block.every((b) => b === 0)) {
      this.ended = true;
      return;
    }
    const type = String.fromCharCode(block[156] ?? 0);
    const size = this.nextSize ?? headerSize(block);
    if (META_TYPES.has(type)) {
      // Its own size, never an override: a pax header's data may set the size of the entry after it.
      const own = headerSize(block);
      this.skip = Math.ceil(own / BLOCK) * BLOCK;
      if (type === 'x') {
        this.pax = [];
        this.paxLeft = own;
      }
      return;
    }
    this.nextSize = undefined;
    if (FILE_TYPES.has(type)) this.files += 1;
    // A hard link carries no data, whatever its size field says.
    this.skip = type === '1' ? 0 : Math.ceil(size / BLOCK) * BLOCK;
  }
}

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

/** The `size` record of pax extended header data (`<len> size=<n>\n` records), if there is one. */
function paxSize(data: Buffer): number | undefined {
  const m = /(?:^|\n)\d+ size=(\d+)\n/.exec(data.toString('utf8'));
  return m === null ? undefined : Number(m[1]);
}
