import { describe, expect, it } from 'vitest';
import { crc32c } from '../src/index.js';

const bytes = (n: number, f: (i: number) => number) => Uint8Array.from({ length: n }, (_, i) => f(i));

describe('crc32c (Castagnoli), the checksum Cloud KMS uses', () => {
  it.each([
    ['the check value of "123456789"', '123456789', 0xe3069283],
    ['the empty input', '', 0],
    ['"a"', 'a', 0xc1d04330],
    // RFC 3720 (iSCSI) appendix B.4 test patterns.
    ['32 zero bytes (RFC 3720 B.4)', bytes(32, () => 0), 0x8a9136aa],
    ['32 0xFF bytes (RFC 3720 B.4)', bytes(32, () => 0xff), 0x62a8ab43],
    ['32 ascending bytes (RFC 3720 B.4)', bytes(32, (i) => i), 0x46dd794e],
    ['32 descending bytes (RFC 3720 B.4)', bytes(32, (i) => 31 - i), 0x113fdb5c],
  ])('matches the known vector for %s', (_name, input, expected) => {
    expect(crc32c(input)).toBe(expected);
  });

  it('hashes strings as UTF-8 and returns an unsigned 32-bit integer', () => {
    expect(crc32c('é')).toBe(crc32c(Buffer.from('é', 'utf8')));
    for (const input of ['123456789', 'x'.repeat(1000), '\u{1F600}']) {
      const value = crc32c(input);
      expect(Number.isInteger(value) && value >= 0 && value <= 0xffffffff).toBe(true);
    }
  });

  it('changes when a single bit of the input flips', () => {
    const data = Buffer.from('a KMS digest a KMS digest a KMS');
    const flipped = Buffer.from(data);
    flipped[7]! ^= 0x01;
    expect(crc32c(flipped)).not.toBe(crc32c(data));
  });
});
