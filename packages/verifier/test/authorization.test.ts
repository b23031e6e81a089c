import { describe, expect, it } from 'vitest';
import { bearerCredential, bearerCredentialFrom } from '../src/http/authorization.js';

describe('bearerCredential (what verify receives for an Authorization value)', () => {
  it.each<[string | null | undefined, string | undefined]>([
    [undefined, undefined],
    [null, undefined],
    ['', undefined],
    ['Basic dXNlcjpwYXNz', undefined],
    ['Bearerx.y.z', undefined],
    ['Bearer a.b.c', 'a.b.c'],
    ['bearer a.b.c', 'a.b.c'],
    ['BEARER a.b.c', 'a.b.c'],
    // Everything below reaches verify with its whitespace, where it is malformed.
    ['Bearer  a.b.c', ' a.b.c'],
    ['Bearer a.b.c ', 'a.b.c '],
    ['Bearer\ta.b.c', 'Bearer\ta.b.c'],
    ['Bearer', 'Bearer'],
    ['Bearer ', 'Bearer '],
    // A comma: repeated fields as a Fetch API joins them (or no bearer credential at all).
    ['Basic x, Bearer a.b.c', 'Basic x, Bearer a.b.c'],
    [', Bearer a.b.c', ', Bearer a.b.c'],
    ['Digest username="a", realm="b"', 'Digest username="a", realm="b"'],
  ])('%j -> %j', (value, expected) => {
    expect(bearerCredential(value)).toBe(expected);
  });

  it('passes several headers on whole, so verify refuses them', () => {
    expect(bearerCredentialFrom([])).toBeUndefined();
    expect(bearerCredentialFrom(['Bearer a.b.c'])).toBe('a.b.c');
    expect(bearerCredentialFrom(['Basic x', 'Bearer a.b.c'])).toBe('Basic x, Bearer a.b.c');
  });
});
