import { KNOWN_SCOPES, MAX_SCOPE_LENGTH, quoteForMessage, SCOPE_PATTERN } from '@hyper/s2s-contracts';
import { ScopeError } from './errors.js';

const known: ReadonlySet<string> = new Set(KNOWN_SCOPES);

/** Validated scope strings by input; bounded because only combinations of known scopes get in. */
const validated = new Map<string, string>();

/** `whole` is the scope as the caller wrote it, quoted only for an error (not per call). */
function checkTokens(tokens: readonly string[], whole: string): void {
  const seen = new Set<string>();
  for (const token of tokens) {
    if (!known.has(token)) {
      throw new ScopeError(
        `${quoteForMessage(token)} in ${quoteForMessage(whole)} is not a contract scope (known: ${KNOWN_SCOPES.join(', ')})`,
      );
    }
    if (seen.has(token)) {
      throw new ScopeError(`${quoteForMessage(token)} is listed twice in ${quoteForMessage(whole)}`);
    }
    seen.add(token);
  }
}

/**
 * The `scope` claim for a request: one RFC 6749 §3.3 string of known scopes, single-space separated.
 * A string may already hold several scopes ("spaces:create join_tokens:issue"); an array holds one
 * scope-token per element.
 */
export function scopeClaim(scope: string | readonly string[]): string {
  if (typeof scope === 'string') {
    const hit = validated.get(scope);
    if (hit !== undefined) return hit;
    if (scope.length > MAX_SCOPE_LENGTH || !SCOPE_PATTERN.test(scope)) {
      throw new ScopeError(
        `${quoteForMessage(scope)} is not an RFC 6749 scope string (scope-tokens separated by single spaces)`,
      );
    }
    checkTokens(scope.split(' '), scope);
    validated.set(scope, scope);
    return scope;
  }
  if (scope === undefined) {
    // Most often `signer.scopes.<OPERATION>` where no HYPER_S2S_JWT_SCOPE_<OPERATION> was set (a typo).
    throw new ScopeError(
      'is required and was undefined: a scope string or a non-empty array of scope strings (from signer.scopes, check the HYPER_S2S_JWT_SCOPE_<OPERATION> variable for that operation is set)',
    );
  }
  if (!Array.isArray(scope) || scope.length === 0) {
    throw new ScopeError('a scope string or a non-empty array of scope strings is required');
  }
  for (const token of scope) {
    if (typeof token !== 'string' || token.includes(' ') || !SCOPE_PATTERN.test(token)) {
      throw new ScopeError(`${quoteForMessage(token)} is not an RFC 6749 scope-token`);
    }
  }
  const joined = scope.join(' ');
  checkTokens(scope, joined);
  return joined;
}
