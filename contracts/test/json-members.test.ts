import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allNumbersFinite,
  allStringsWellFormed,
  countMembers,
  nestedWithin,
  openingBrackets,
  parsedMemberCount,
} from '../src/json-members.js';

describe('member counts', () => {
  it('agree between the text and the parsed value for any duplicate-free JSON, spaced or not', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 1, '\t', ' \r\n'), (value, space) => {
        const text = JSON.stringify({ v: value }, null, space).replace(/":/g, '" :');
        expect(countMembers(text)).toBe(parsedMemberCount(JSON.parse(text)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('member counting agrees with JSON.parse on duplicate-free text', () => {
  it.each([
    '{}',
    '{"a":{"b":{"c":{}}}}',
    '{"a":[{"b":1},{"c":2,"d":[{"e":3}]}]}',
    '{"s":"::::","t":"\\"::\\"","u\\"":":"}',
  ])('%s', (text) => {
    expect(countMembers(text)).toBe(parsedMemberCount(JSON.parse(text)));
  });
});

describe('countMembers', () => {
  it.each([' ', '\n', '\r', '\t'])(
    'counts a member whose name is followed by %j before the colon',
    (space) => {
      expect(countMembers(`{"a"${space}:1,"b":"c"}`)).toBe(2);
    },
  );

  it('ends on an unterminated string (never loops back to the start)', () => {
    expect(countMembers('{"a":1,"b')).toBe(1);
  });

  it('does not count a string value followed by a colon inside a string', () => {
    expect(countMembers('{"a":"b:","c\\"":["d"]}')).toBe(2);
  });
});

// A polluted Object.prototype (another library's bug) must not change what a token's JSON holds.
describe('the walks see own members only', () => {
  const proto = Object.prototype as Record<string, unknown>;
  const pollute = <T>(value: unknown, run: () => T): T => {
    proto.polluted = value;
    try {
      return run();
    } finally {
      delete proto.polluted;
    }
  };

  it('parsedMemberCount', () => {
    expect(pollute(1, () => parsedMemberCount({ a: 1, b: [{ c: 2 }] }))).toBe(3);
  });

  it('allNumbersFinite', () => {
    expect(pollute(Number.POSITIVE_INFINITY, () => allNumbersFinite({ a: 1, b: [{ c: 2 }] }))).toBe(true);
  });

  it('nestedWithin', () => {
    expect(pollute({ deeper: {} }, () => nestedWithin({ a: 1 }, 1))).toBe(true);
  });
});

describe('parsedMemberCount', () => {
  it('counts object members at every depth, and array items as none', () => {
    expect(parsedMemberCount({ a: 'text', b: null, c: [1, 'x', null, { d: true }], e: { f: {} } })).toBe(6);
  });
});

describe('allNumbersFinite', () => {
  it.each([
    ['a member', { a: Number.POSITIVE_INFINITY }],
    ['an array item', { a: [1, Number.NEGATIVE_INFINITY] }],
    ['a nested member', { a: [{ b: { c: Number.NaN } }] }],
    ['a container met before another one', { a: { b: Number.POSITIVE_INFINITY }, c: {} }],
  ])('finds a non-finite number in %s', (_where, value) => {
    expect(allNumbersFinite(value)).toBe(false);
  });

  it('passes finite numbers, strings, null and booleans at any depth', () => {
    expect(allNumbersFinite({ a: 1e308, b: ['Infinity', null, true, { c: -0 }] })).toBe(true);
  });
});

describe('openingBrackets', () => {
  it.each([
    ['{[', 2, true],
    ['{{', 2, true],
    ['[[', 2, true],
    ['"{"[', 2, true],
    ['{', 2, false],
    ['[]]', 2, false],
    ['ab', 1, false],
  ])('%j holds at least %i: %s', (text, count, expected) => {
    expect(openingBrackets(text, count)).toBe(expected);
  });
});

describe('nestedWithin', () => {
  it('counts the root as 1 and every object or array inside it as one more', () => {
    const value = { a: [[1]] };
    expect(nestedWithin(value, 3)).toBe(true);
    expect(nestedWithin(value, 2)).toBe(false);
  });

  it('does not count strings, numbers or null as a level', () => {
    expect(nestedWithin({ a: 'x', b: 1, c: null, d: true }, 1)).toBe(true);
  });
});

describe('allStringsWellFormed', () => {
  it('walks past null, numbers and booleans', () => {
    expect(allStringsWellFormed({ a: null, b: 1, c: false, d: ['x'] })).toBe(true);
    expect(allStringsWellFormed({ a: null, b: [{ c: '\ud800' }] })).toBe(false);
  });
});
