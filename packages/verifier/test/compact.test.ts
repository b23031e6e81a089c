import { MAX_TOKEN_LENGTH } from '@hyper/s2s-contracts';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as Compact from '../src/compact.js';

// The parser is loaded in a hook inside each describe rather than imported: its UTF-8 decoder is made
// when the module is evaluated, and a module that fails to evaluate must fail these tests. (Stryker's
// vitest runner counts a test file that cannot be loaded as no tests, not as a failure.)
let decodeCompact: typeof Compact.decodeCompact;
let isStrictBase64url: typeof Compact.isStrictBase64url;
const loadParser = () =>
  beforeAll(async () => {
    ({ decodeCompact, isStrictBase64url } = await import('../src/compact.js'));
  });

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const HEADER = b64('{"alg":"RS256","typ":"JWT","kid":"lite-2026-03"}');
const token = (payload: string, header = HEADER) => `${header}.${b64(payload)}.c2ln`;

describe('strict base64url (RFC 7515 §2)', () => {
  loadParser();

  it.each([
    ['', true],
    ['eyJ9', true],
    ['QQ', true], // "A"
    ['QR', false], // same bytes as QQ with non-zero unused bits: not canonical
    ['QUE', true], // "AA"
    ['QUF', false],
    ['QUE=', false], // padding
    ['Q', false], // 6 bits: no whole byte
    ['a+b/', false], // base64, not base64url
    ['ab c', false],
    ['ab\n', false],
    ['QUFB.QUFB', false], // a fourth segment: '.' is not in the alphabet
    ['QUFB\u20ac', false], // outside Latin-1
    ['QUFBQQ==', false],
    ['QUFBQ', false],
  ])('%j -> %s', (segment, strict) => {
    expect(isStrictBase64url(segment)).toBe(strict);
  });
});

describe('strict base64url: length', () => {
  loadParser();

  it('accepts a segment as long as a token may be, and refuses one past the parser buffer', () => {
    expect(isStrictBase64url('A'.repeat(MAX_TOKEN_LENGTH))).toBe(true);
    expect(isStrictBase64url('A'.repeat(MAX_TOKEN_LENGTH * 2))).toBe(false);
  });
});

describe('strict base64url: the last character of every length (RFC 7515 §2, canonical encoding)', () => {
  loadParser();

  // The rule as RFC 4648 §3.5 states it, written out here: an oracle independent of the parser, which
  // decides by re-encoding. The last character carries 4 unused bits after 2 characters and 2 after 3.
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const canonical = (segment: string) => {
    const unusedBits = [0, -1, 4, 2][segment.length % 4] as number;
    if (unusedBits === -1 || ![...segment].every((c) => ALPHABET.includes(c))) return false;
    const last = ALPHABET.indexOf(segment.at(-1) ?? 'A');
    return (last & ((1 << unusedBits) - 1)) === 0;
  };

  it.each([...ALPHABET])('%s as the last of 2, 3 and 4 characters', (last) => {
    for (const segment of [`Q${last}`, `QU${last}`, `QUF${last}`]) {
      expect(isStrictBase64url(segment)).toBe(canonical(segment));
    }
  });

  it('agrees with the rule on any string of the alphabet and its look-alikes', () => {
    const unit = fc.constantFrom(...ALPHABET, '+', '/', '=', '.', ' ', '\n', '\u00e9', '\u20ac');
    fc.assert(
      fc.property(
        fc.string({ unit, maxLength: 16 }),
        (segment) => isStrictBase64url(segment) === canonical(segment),
      ),
      { numRuns: 2000 },
    );
  });

  it('has characters that pass and characters that fail at each length', () => {
    for (const prefix of ['Q', 'QU']) {
      const verdicts = new Set([...ALPHABET].map((last) => isStrictBase64url(`${prefix}${last}`)));
      expect(verdicts).toEqual(new Set([true, false]));
    }
  });
});

describe('decodeCompact', () => {
  loadParser();

  it('decodes a well-formed token', () => {
    expect(decodeCompact(token('{"iss":"a","scope":"spaces:create"}'))).toEqual({
      header: { alg: 'RS256', typ: 'JWT', kid: 'lite-2026-03' },
      payload: { iss: 'a', scope: 'spaces:create' },
      headerSegment: HEADER,
      headerKnown: false,
    });
  });

  it.each([
    ['duplicate top-level claim', '{"iss":"a","iss":"b"}'],
    ['duplicate written with an escape', '{"iss":"a","\\u0069ss":"b"}'],
    ['duplicate inside a nested object', '{"iss":"a","x":{"k":1,"k":2}}'],
    ['duplicate inside an object in an array', '{"aud":[{"k":1,"k":2}]}'],
    ['duplicate __proto__', '{"__proto__":1,"__proto__":2}'],
  ])('refuses a %s', (_name, payload) => {
    expect(decodeCompact(token(payload))).toBeUndefined();
  });

  it.each([
    ['colons inside strings', '{"scope":"spaces:create join_tokens:issue","a:b":"c:d"}'],
    ['escaped quotes before a colon', '{"a":"x\\":y","b\\"c:":1}'],
    ['backslash runs', '{"a":"\\\\","b":"\\\\\\"","c":1}'],
    ['whitespace around separators', '{ "a" : 1 , "b" : { "c" : [ 1 , { "d" : 2 } ] } }'],
    ['the same name in different objects', '{"k":1,"x":{"k":2},"y":[{"k":3}]}'],
  ])('accepts %s', (_name, payload) => {
    expect(decodeCompact(token(payload))?.payload).toEqual(JSON.parse(payload));
  });

  it.each([
    ['a payload that is an array', '["a"]'],
    ['a payload that is a string', '"a"'],
    ['a payload that is null', 'null'],
    ['a payload with a byte order mark', '\uFEFF{"a":1}'],
    ['trailing garbage', '{"a":1}x'],
  ])('refuses %s', (_name, payload) => {
    expect(decodeCompact(token(payload))).toBeUndefined();
  });

  // SPEC J4: strings are Unicode; a lone surrogate can only arrive as a \u escape, anywhere in the value.
  it.each([
    ['in a value', '{"a":"\\ud800"}'],
    ['in a member name', '{"\\ud800":1}'],
    ['in a nested member name', '{"a":{"b":{"\\udc00":1}}}'],
    ['inside an array', '{"a":[1,null,"\\udfff"]}'],
    ['as the second half only', '{"a":"\\ude00\\ud83d"}'],
  ])('refuses a lone surrogate %s', (_name, payload) => {
    expect(decodeCompact(token(payload))).toBeUndefined();
  });

  it.each([
    ['a surrogate pair', '{"a":"\\ud83d\\ude00"}'],
    ['escapes beside null, numbers and booleans', '{"a":null,"b":"\\u00e9","c":[1,true,null,{"d":null}]}'],
    ['an escaped member name', '{"\\u00e9":{"x":null}}'],
  ])('accepts %s', (_name, payload) => {
    expect(decodeCompact(token(payload))?.payload).toEqual(JSON.parse(payload));
  });

  it('refuses invalid UTF-8 rather than replacing it', () => {
    const payload = Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]).toString('base64url'); // {"\xff":1}
    expect(decodeCompact(`${HEADER}.${payload}.c2ln`)).toBeUndefined();
  });

  it.each([
    ['two segments', `${HEADER}.${b64('{}')}`],
    // SPEC T3: no dot at all, though the whole text is strict base64url and its prefix a JSON object.
    ['one segment', `${b64('{}')}A`],
    ['four segments', `${HEADER}.${b64('{}')}.c2ln.c2ln`],
    ['a padded signature', `${HEADER}.${b64('{}')}.c2lnbg==`],
    ['a signature in base64', `${HEADER}.${b64('{}')}.a+b/`],
    ['a space in the signature', `${HEADER}.${b64('{}')}.c2 ln`],
  ])('refuses %s', (_name, compact) => {
    expect(decodeCompact(compact)).toBeUndefined();
  });

  it(`refuses ${MAX_TOKEN_LENGTH + 1} characters and accepts ${MAX_TOKEN_LENGTH}`, () => {
    // The signature segment carries no structure: fill it with "A" up to the exact length.
    let prefix = `${HEADER}.${b64('{}')}.`;
    for (let pad = 0; (MAX_TOKEN_LENGTH - prefix.length) % 4 === 1; pad++) {
      prefix = `${HEADER}.${b64(`{"p":"${'x'.repeat(pad)}"}`)}.`;
    }
    const fits = `${prefix}${'A'.repeat(MAX_TOKEN_LENGTH - prefix.length)}`;
    const over = `${prefix}${'A'.repeat(MAX_TOKEN_LENGTH - prefix.length + 4)}`;
    expect(fits).toHaveLength(MAX_TOKEN_LENGTH);
    expect(decodeCompact(fits)).toBeDefined();
    expect(decodeCompact(over)).toBeUndefined();
  });

  it('limits how deep a payload nests, not how many brackets it holds (SPEC J8)', () => {
    // Far more than MAX_JSON_DEPTH brackets, none nested past 3 deep, and brackets inside a string.
    const shallow = [
      `{"x":[${'[],'.repeat(300)}[]]}`,
      `{"x":[${'{"y":{}},'.repeat(300)}{}]}`,
      `{"x":"${'[{'.repeat(300)}"}`,
    ];
    for (const payload of shallow) {
      expect(decodeCompact(token(payload))?.payload).toEqual(JSON.parse(payload));
    }
  });

  it('survives deeply nested JSON without throwing', () => {
    const deep = `{"a":${'['.repeat(3000)}${']'.repeat(3000)}}`;
    expect(() => decodeCompact(token(deep))).not.toThrow();
  });
});
