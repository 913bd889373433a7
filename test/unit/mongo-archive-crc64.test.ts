import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Crc64 } from '../../common/mongo-archive';

describe('CRC-64-ECMA as the archive EOF blocks carry it', () => {
  it('gives the check value of CRC-64/XZ (ECMA-182 reflected, inverted), as Go’s crc64.ECMA does', () => {
    expect(new Crc64().update(Buffer.from('123456789')).digest()).toBe(0x995dc9bbdf1939fan);
    expect(new Crc64().digest()).toBe(0n);
    // The signed form the EOF block stores: the top bit set makes it negative.
    expect(new Crc64().update(Buffer.from('123456789')).digestInt64()).toBe(0x995dc9bbdf1939fan - (1n << 64n));
  });

  it('is the same however the bytes are split into updates', () => {
    const bytes = randomBytes(10_007);
    const whole = new Crc64().update(bytes).digest();
    for (const step of [1, 3, 7, 8, 9, 64, 4096]) {
      const crc = new Crc64();
      for (let i = 0; i < bytes.length; i += step) crc.update(bytes.subarray(i, i + step));
      expect(crc.digest()).toBe(whole);
    }
  });

  it('matches a bit-by-bit reference on random input', () => {
    const reference = (bytes: Uint8Array): bigint => {
      let crc = (1n << 64n) - 1n;
      for (const b of bytes) {
        crc ^= BigInt(b);
        for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ 0xc96c5795d7870f42n : crc >> 1n;
      }
      return crc ^ ((1n << 64n) - 1n);
    };
    for (const n of [1, 5, 8, 17, 100]) {
      const bytes = randomBytes(n);
      expect(new Crc64().update(bytes).digest()).toBe(reference(bytes));
    }
  });
});
