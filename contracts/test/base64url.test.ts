import { describe, expect, it } from 'vitest';
import { decodeStrictBase64url } from '../src/index.js';

/** '{"a":1}' and its canonical base64url. */
const TEXT = '{"a":1}';
const CANONICAL = 'eyJhIjoxfQ';

describe('decodeStrictBase64url (SPEC.md T4): the canonical base64url form only', () => {
  it('decodes a canonical segment into the buffer given and answers its byte length', () => {
    const into = Buffer.alloc(32);
    expect(decodeStrictBase64url(CANONICAL, into)).toBe(TEXT.length);
    expect(into.subarray(0, TEXT.length).toString()).toBe(TEXT);
  });

  it('decodes the empty segment to no bytes', () => {
    expect(decodeStrictBase64url('', Buffer.alloc(4))).toBe(0);
  });

  it.each([
    ['unused trailing bits set (Node would decode it to the same bytes)', 'eyJhIjoxfR'],
    ['padding', `${CANONICAL}==`],
    ['the standard alphabet (+)', 'ab+c'],
    ['the standard alphabet (/)', 'ab/c'],
    ['whitespace', 'eyJh IjoxfQ'],
    ['a character outside any alphabet', 'eyJh*IjoxfQ'],
    ['a length of 1 mod 4 (no whole byte)', 'eyJhI'],
  ])('refuses %s', (_, segment) => {
    expect(decodeStrictBase64url(segment, Buffer.alloc(32))).toBe(-1);
  });

  it('refuses a segment that decodes to more bytes than the buffer holds, rather than cutting it short', () => {
    expect(decodeStrictBase64url(CANONICAL, Buffer.alloc(TEXT.length - 1))).toBe(-1);
    expect(decodeStrictBase64url(CANONICAL, Buffer.alloc(TEXT.length))).toBe(TEXT.length);
  });
});
