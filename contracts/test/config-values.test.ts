import { describe, expect, it } from 'vitest';
import { checkInteger, parseInteger, readEnv } from '../src/index.js';

const MS = { min: 1, max: 60_000 };
const COUNT = { min: 1, max: Number.MAX_SAFE_INTEGER };

describe('checkInteger', () => {
  it.each([1, 2, 59_999, 60_000])('accepts %s within the bounds', (value) => {
    expect(checkInteger(value, MS)).toEqual({ ok: true, value });
  });

  it.each([0, 60_001, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '5', null, undefined, 5n])(
    'refuses %s and states the bounds',
    (value) => {
      expect(checkInteger(value, MS)).toEqual({ ok: false, problem: 'must be an integer from 1 to 60000' });
    },
  );

  it('refuses integers past the safe range, and words an open upper bound as "at least"', () => {
    expect(checkInteger(2 ** 53, COUNT)).toEqual({ ok: false, problem: 'must be an integer of at least 1' });
    expect(checkInteger(Number.MAX_SAFE_INTEGER, COUNT)).toEqual({
      ok: true,
      value: Number.MAX_SAFE_INTEGER,
    });
  });
});

describe('parseInteger', () => {
  it('reads decimal digits within the bounds', () => {
    expect(parseInteger('2000', MS)).toEqual({ ok: true, value: 2000 });
    expect(parseInteger('007', MS)).toEqual({ ok: true, value: 7 });
  });

  it.each(['2s', '1e3', '0x10', '-1', '1.5', '', ' 5', '５'])('refuses %j: digits only', (text) => {
    expect(parseInteger(text, MS)).toEqual({
      ok: false,
      problem: 'must be an integer from 1 to 60000, in decimal digits',
    });
  });

  it('refuses digits outside the bounds', () => {
    expect(parseInteger('0', MS)).toEqual({ ok: false, problem: 'must be an integer from 1 to 60000' });
    expect(parseInteger('60001', MS)).toMatchObject({ ok: false });
  });

  it('a problem never quotes the value (it may be a secret)', () => {
    const secret = 'sk-live-1234';
    const checked = parseInteger(secret, MS);
    expect(checked.ok).toBe(false);
    expect(JSON.stringify(checked)).not.toContain(secret);
  });
});

describe('readEnv: one rule for a blank value in both SDKs', () => {
  it('an unset variable is undefined, so the default applies', () => {
    expect(readEnv({}, 'S2S_X')).toEqual({ ok: true, value: undefined });
    expect(readEnv({ S2S_X: undefined }, 'S2S_X')).toEqual({ ok: true, value: undefined });
  });

  it.each(['', ' ', '\t\n'])('a set but blank variable (%j) is an error, not a default', (value) => {
    expect(readEnv({ S2S_X: value }, 'S2S_X')).toEqual({
      ok: false,
      problem: 'is set but empty: give it a value, or unset it',
    });
  });

  it('a blank required variable is not told to unset itself: it has no default', () => {
    expect(readEnv({ S2S_X: ' ' }, 'S2S_X', { required: true })).toEqual({
      ok: false,
      problem: 'is set but empty: it is required',
    });
  });

  it('a value is trimmed', () => {
    expect(readEnv({ S2S_X: '  hyper-core \n' }, 'S2S_X')).toEqual({ ok: true, value: 'hyper-core' });
  });
});
