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

describe('utf8Length: a lone surrogate counts 3 bytes, as in WTF-8', () => {
  it.each([
    ['\ud800', 3],
    ['\udc00', 3],
    // A high surrogate followed by something other than a low one is not a pair.
    ['\ud800\u00e9', 5],
    ['\ud800\u4e00', 6],
    ['\ud800a', 4],
    ['\ud800\ud800\udc00', 7],
    ['\udc00\ud800', 6],
  ])('%j is %i bytes', (text, bytes) => {
    expect(utf8Length(text)).toBe(bytes);
  });
});

describe('isStorableText', () => {
  it('refuses U+0000 only', () => {
    expect(isStorableText('a\u0000b')).toBe(false);
    expect(isStorableText('a\u0001b\u{1F600}')).toBe(true);
  });
});
