import { describe, expect, it } from 'vitest';
import { grantsAll } from '../src/scope.js';

// SPEC Z1: every required scope is one of the token's space-separated scope-tokens, compared exactly
// (no prefix, no suffix, no case folding); extra scopes are ignored.
describe('SPEC Z1: a required scope is granted only as a whole scope-token', () => {
  it.each<[string, string, readonly string[], boolean]>([
    ['the only token', 'spaces:create', ['spaces:create'], true],
    ['the first of several', 'spaces:create join_tokens:issue', ['spaces:create'], true],
    ['the last of several', 'join_tokens:issue spaces:create', ['spaces:create'], true],
    ['in the middle', 'a spaces:create b', ['spaces:create'], true],
    ['every one of two', 'join_tokens:issue spaces:create', ['spaces:create', 'join_tokens:issue'], true],
    ['a prefix of a granted token', 'spaces:create', ['spaces:cr'], false],
    ['a suffix of a granted token', 'xspaces:create', ['spaces:create'], false],
    ['a suffix of a later granted token', 'a xspaces:create', ['spaces:create'], false],
    ['inside a granted token', 'xspaces:createx', ['spaces:create'], false],
    ['a case variant', 'Spaces:Create', ['spaces:create'], false],
    ['one of two missing', 'spaces:create', ['spaces:create', 'join_tokens:issue'], false],
    // The first occurrence is not a whole token, a later one is.
    ['whole only at its second occurrence', 'xspaces:create spaces:create', ['spaces:create'], true],
    ['whole only after a longer token', 'spaces:createx spaces:create', ['spaces:create'], true],
  ])('%s: %j grants %j -> %s', (_name, granted, required, expected) => {
    expect(grantsAll(granted, required)).toBe(expected);
  });
});
