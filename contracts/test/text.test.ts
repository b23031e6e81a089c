import { describe, expect, it } from 'vitest';
import { isStorableText, utf8Length } from '../src/index.js';

describe('utf8Length (the contract length unit)', () => {
  it.each([
    ['', 0],
    ['jti', 3],
    ['\u00e9', 2],
    ['\u20ac', 3],
    ['\u{1F600}', 4],
    ['a\u{1F600}\u00e9', 7],
  ])('%j is %i bytes, as Buffer.byteLength says', (text, bytes) => {
    expect(utf8Length(text)).toBe(bytes);
    expect(utf8Length(text)).toBe(Buffer.byteLength(text, 'utf8'));
  });
});

describe('isStorableText', () => {
  it('refuses U+0000 only', () => {
    expect(isStorableText('a\u0000b')).toBe(false);
    expect(isStorableText('a\u0001b\u{1F600}')).toBe(true);
  });
});
