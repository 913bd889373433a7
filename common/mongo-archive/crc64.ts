/**
 * CRC-64 with the ECMA-182 polynomial in its reflected form (0xC96C5795D7870F42), pre- and post-inverted:
 * the checksum the archive's EOF blocks carry (Go's `crc64.New(crc64.MakeTable(crc64.ECMA))`). The 64-bit
 * state is kept as two uint32 halves so that no BigInt arithmetic runs per byte; slicing by 8 keeps it
 * fast enough to sit on the path of every document.
 */

const POLY_HI = 0xc96c5795;
const POLY_LO = 0xd7870f42;

/** TABLES_*[k * 256 + b]: the CRC of byte b followed by k zero bytes, as hi and lo halves. */
const TABLES_HI = new Uint32Array(8 * 256);
const TABLES_LO = new Uint32Array(8 * 256);

for (let b = 0; b < 256; b++) {
  let hi = 0;
  let lo = b;
  for (let bit = 0; bit < 8; bit++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi >>>= 1;
    if (carry) {
      hi = (hi ^ POLY_HI) >>> 0;
      lo = (lo ^ POLY_LO) >>> 0;
    }
  }
  TABLES_HI[b] = hi;
  TABLES_LO[b] = lo;
}
for (let k = 1; k < 8; k++) {
  for (let b = 0; b < 256; b++) {
    const prevHi = TABLES_HI[(k - 1) * 256 + b];
    const prevLo = TABLES_LO[(k - 1) * 256 + b];
    // One more zero byte: shift the previous CRC right by 8 and fold its low byte back in.
    const low = prevLo & 0xff;
    TABLES_HI[k * 256 + b] = (TABLES_HI[low] ^ (prevHi >>> 8)) >>> 0;
    TABLES_LO[k * 256 + b] = (TABLES_LO[low] ^ ((prevLo >>> 8) | ((prevHi & 0xff) << 24))) >>> 0;
  }
}

/** A running CRC-64-ECMA: `update` with each chunk, `digest` at any time. */
export class Crc64 {
  // The inverted state, so that the empty input digests to 0.
  private hi = 0xffffffff;
  private lo = 0xffffffff;

  update(bytes: Uint8Array): this {
    let hi = this.hi;
    let lo = this.lo;
    let i = 0;
    const end8 = bytes.length - (bytes.length % 8);
    const T_HI = TABLES_HI;
    const T_LO = TABLES_LO;
    for (; i < end8; i += 8) {
      const l = lo ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
      const h = hi ^ (bytes[i + 4] | (bytes[i + 5] << 8) | (bytes[i + 6] << 16) | (bytes[i + 7] << 24));
      const i7 = 7 * 256 + (l & 0xff);
      const i6 = 6 * 256 + ((l >>> 8) & 0xff);
      const i5 = 5 * 256 + ((l >>> 16) & 0xff);
      const i4 = 4 * 256 + (l >>> 24);
      const i3 = 3 * 256 + (h & 0xff);
      const i2 = 2 * 256 + ((h >>> 8) & 0xff);
      const i1 = 256 + ((h >>> 16) & 0xff);
      const i0 = h >>> 24;
      hi = T_HI[i7] ^ T_HI[i6] ^ T_HI[i5] ^ T_HI[i4] ^ T_HI[i3] ^ T_HI[i2] ^ T_HI[i1] ^ T_HI[i0];
      lo = T_LO[i7] ^ T_LO[i6] ^ T_LO[i5] ^ T_LO[i4] ^ T_LO[i3] ^ T_LO[i2] ^ T_LO[i1] ^ T_LO[i0];
    }
    for (; i < bytes.length; i++) {
      const idx = (lo ^ bytes[i]) & 0xff;
      lo = T_LO[idx] ^ ((lo >>> 8) | ((hi & 0xff) << 24));
      hi = T_HI[idx] ^ (hi >>> 8);
    }
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
    return this;
  }

  /** The checksum as the unsigned 64-bit value. */
  digest(): bigint {
    return (BigInt(~this.hi >>> 0) << 32n) | BigInt(~this.lo >>> 0);
  }

  /** The checksum as the signed int64 the EOF block stores (Go's `int64(hash.Sum64())`). */
  digestInt64(): bigint {
    return BigInt.asIntN(64, this.digest());
  }
}
