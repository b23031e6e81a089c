import { describe, expect, it } from 'vitest';
import {
  isStorableText,
  LOGGED_TEXT_CUT_MARK,
  loggableText,
  MAX_JTI_LENGTH,
  MAX_LOGGED_TEXT_LENGTH,
  MAX_QUOTED_LENGTH,
  quoteForMessage,
  utf8Length,
} from '../src/index.js';

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

describe('quoteForMessage (a caller value in an error message)', () => {
  const token = `eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.${'eyJpc3MiOiJoeXBlci1saXRlIn0'}.${'c2lnbmF0dXJlLWJ5dGVz'}`;

  it.each([
    ['a short string, JSON-quoted', 'spaces:craete', '"spaces:craete"'],
    [
      'a string of exactly the limit, whole',
      's:'.repeat(MAX_QUOTED_LENGTH / 2),
      `"${'s:'.repeat(MAX_QUOTED_LENGTH / 2)}"`,
    ],
    [
      'a longer string, cut with its length',
      's:'.repeat(MAX_QUOTED_LENGTH / 2 + 1),
      `"${'s:'.repeat(MAX_QUOTED_LENGTH / 2)}"… (66 characters)`,
    ],
    ['a dotted name, quoted', 'a.b.c', '"a.b.c"'],
    ['a dotted scope typo, quoted', 'hyperlite.integrations.create', '"hyperlite.integrations.create"'],
    ['a number', 7, '7'],
    ['null', null, 'null'],
    ['an array', ['x'], 'an array'],
    ['an object', { token }, 'a value of type object'],
  ])('%s', (_name, value, shown) => {
    expect(quoteForMessage(value)).toBe(shown);
  });

  const [header, payload, signature] = token.split('.') as [string, string, string];
  const longSignature = 'Q2lnbmF0dXJlLWJ5dGVzLW9mLWEtMjA0OC1iaXQtUlNBLWtleQ';
  it.each([
    ['a compact JWT', token],
    ['a JWT after other text', `Bearer ${token}`],
    ['a JWT cut after its payload', token.slice(0, token.lastIndexOf('.') + 1)],
    ['a JWT without its signature', `${header}.${payload}`],
    ['padded segments', `${header}==.${payload}=.${signature}`],
    ['URL-encoded dots', `${header}%2E${payload}%2E${signature}`],
    ['whitespace after a dot', `${header}.\n${payload}. ${signature}`],
    ['a detached JWS', `${header}..${longSignature}`],
    ['a payload alone', payload],
    ['a short payload (e30 is {})', `${header}.e30.${signature}`],
    ['a signature alone', longSignature],
    ['a JWE (five segments, an empty key)', `${header}..${longSignature}.${payload}.tag`],
  ])('never repeats %s', (_name, value) => {
    const shown = quoteForMessage(value);
    expect(shown).toBe(`a value that may hold a token (${value.length} characters, not shown)`);
    for (const part of [header, payload, signature, longSignature]) expect(shown).not.toContain(part);
  });
});

describe('loggableText (someone else’s text in a log line)', () => {
  it.each([
    ['line breaks that would forge a second line', 'a\nb\r\nc', 'abc'],
    ['C1 controls (NEL)', 'a\u0085b', 'ab'],
    ['bidi overrides and zero-width characters', 'a\u202eb\u200bc', 'abc'],
    ['line and paragraph separators', 'a\u2028b\u2029c', 'abc'],
    ['NUL and ESC', 'a\u0000b\u001b[31mc', 'ab[31mc'],
  ])('removes %s', (_name, value, expected) => {
    expect(loggableText(value, 100)).toBe(expected);
  });

  it('keeps printable text as it is, and caps it after cleaning', () => {
    expect(loggableText('hyper-lite ünïcode ✓', 100)).toBe('hyper-lite ünïcode ✓');
    expect(loggableText(`${'\n'.repeat(10)}ab`, 2)).toBe('ab');
  });

  it('marks a cut value, within max code units, so a prefix is never taken for the whole value', () => {
    expect(LOGGED_TEXT_CUT_MARK).toBe('…');
    expect(loggableText('x'.repeat(500), 128)).toBe(`${'x'.repeat(127)}…`);
    expect(loggableText(`${'\n'.repeat(10)}abc`, 2)).toBe('a…');
  });

  it('shows nothing under a cap of less than one code unit, and only the mark at one', () => {
    for (const max of [0, -1, Number.NaN]) expect(loggableText('abc', max)).toBe('');
    expect(loggableText('abc', 1)).toBe('…');
    expect(loggableText('a', 1)).toBe('a');
  });

  it('never ends a cut value in half a surrogate pair', () => {
    // 'ab😀cd': the pair sits at code units 2–3.
    expect(loggableText('ab\u{1F600}cd', 4)).toBe('ab…');
    expect(loggableText('ab\u{1F600}cd', 5)).toBe('ab\u{1F600}…');
  });

  it('describes, never shows, a value holding a JOSE segment (a token put in a claim or a request id)', () => {
    const header = Buffer.from('{"alg":"RS256","typ":"JWT"}').toString('base64url');
    const token = `${header}.eyJzdWIiOiJ4In0.c2ln`;
    for (const value of [token, `Bearer ${token}`, `req-${header}`, `eyJ\u200bhbGciOiJSUzI1NiJ9`]) {
      const logged = loggableText(value, MAX_LOGGED_TEXT_LENGTH);
      expect(logged).toMatch(/^a value that may hold a token \(\d+ characters, not shown\)$/);
      expect(logged).not.toContain('eyJ');
    }
    // A request id of the usual shapes is kept: a UUID, a ULID, a short base64url id.
    for (const id of [
      '550e8400-e29b-41d4-a716-446655440000',
      '01ARZ3NDEKTSV4RRFFQ69G5FAV',
      'V1StGXR8_Z5jdHi6B-myT',
    ]) {
      expect(loggableText(id, MAX_LOGGED_TEXT_LENGTH)).toBe(id);
    }
  });

  it('logs a contract claim of the longest length whole, and marks anything longer as cut', () => {
    const longest = 'j'.repeat(MAX_JTI_LENGTH);
    expect(loggableText(longest, MAX_LOGGED_TEXT_LENGTH)).toBe(longest);
    expect(loggableText(`${longest}x`, MAX_LOGGED_TEXT_LENGTH)).toBe(`${longest.slice(1)}…`);
  });
});
