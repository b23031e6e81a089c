import { KNOWN_SCOPES } from '@hyper/s2s-contracts';
import { describe, expect, it } from 'vitest';
import { callContext, MAX_CACHED_SCOPES } from '../src/verify-options.js';

// Its own file: the cache is module state, and this file must start with it empty.
const [create, issue] = KNOWN_SCOPES as readonly [string, string];

/** 512 distinct valid scope strings: every sequence of nine contract scopes. */
const distinctScopes = Array.from({ length: 512 }, (_, n) =>
  Array.from({ length: 9 }, (_, bit) => ((n >> bit) & 1 ? issue : create)).join(' '),
);

describe('verify options: parsed scopes are remembered, up to a bound', () => {
  it('a scope given as a list and as its space-separated string is parsed once and labelled alike', () => {
    const listed = callContext({ scope: [create, issue], path: '/p' });
    const spelled = callContext({ scope: `${create} ${issue}`, path: '/p' });
    expect(listed.scopes).toEqual([create, issue]);
    expect(spelled.scopes).toBe(listed.scopes);
    expect(callContext({ scope: [create, issue], path: '/q' }).scopes).toBe(listed.scopes);
    expect([listed.scopeLabel, spelled.scopeLabel]).toEqual([`${create} ${issue}`, `${create} ${issue}`]);
    expect(Object.isFrozen(listed.scopes)).toBe(true);
  });

  it(`remembers the first ${MAX_CACHED_SCOPES} distinct scopes and parses any further one anew each time (memory stays flat)`, () => {
    expect(new Set(distinctScopes).size).toBe(512);
    // Exactly one scope string cached before (this one, also by the test above when it ran).
    callContext({ scope: [create, issue], path: '/p' });
    const remembered = distinctScopes.map((scope) => {
      const first = callContext({ scope, path: '/p' });
      const again = callContext({ scope, path: '/p' });
      expect(again.scopes).toEqual(first.scopes);
      expect(again.scopeLabel).toBe(scope);
      return again.scopes === first.scopes;
    });
    expect(remembered.filter(Boolean)).toHaveLength(MAX_CACHED_SCOPES - 1);
    expect(remembered.slice(0, MAX_CACHED_SCOPES - 1).every(Boolean)).toBe(true);
    expect(remembered.slice(MAX_CACHED_SCOPES - 1).some(Boolean)).toBe(false);
    // What was remembered before the bound still is.
    expect(callContext({ scope: [create, issue], path: '/p' }).scopes).toBe(
      callContext({ scope: `${create} ${issue}`, path: '/p' }).scopes,
    );
  });
});
