import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countMembers, parsedMemberCount } from '../src/json-members.js';

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
