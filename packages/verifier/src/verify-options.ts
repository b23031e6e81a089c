import { KNOWN_SCOPES, MAX_SCOPE_LENGTH, quoteForMessage, SCOPE_PATTERN } from '@hyper/s2s-contracts';
import { VerifierUsageError } from './errors.js';

/** What the endpoint requires, as the calling code states it. */
export interface VerifyOptions {
  /** One required scope, a space-separated list, or an array; every one must be granted. */
  scope: string | readonly string[];
  /** The route template (e.g. `/integrations/spaces`): a metric label, so never the raw URL. */
  path: string;
}

export interface CallContext {
  readonly scopes: readonly string[];
  /** Bounded metric label values. */
  readonly scopeLabel: string;
  readonly path: string;
}

/** Longest route template accepted as a metric label. */
export const MAX_PATH_LABEL_LENGTH = 256;

/** A required scope as verify uses it: the tokens, and the space-separated form as the metric label. */
interface RequiredScope {
  readonly scopes: readonly string[];
  readonly label: string;
}

// Endpoints state a handful of scope strings; remembering their parsed form keeps verify lean. The
// bound keeps memory flat for code that builds scope strings dynamically (past it, each is parsed anew).
export const MAX_CACHED_SCOPES = 256;
const scopeCache = new Map<string, RequiredScope>();
const knownScopes: ReadonlySet<string> = new Set(KNOWN_SCOPES);

/** The space-separated form of a scope string or list, before it is validated; undefined if neither. */
function joinedScope(scope: unknown): string | undefined {
  if (typeof scope === 'string') return scope;
  // A list item holding a space would smuggle two scopes past the per-item rule.
  if (Array.isArray(scope) && scope.every((item) => typeof item === 'string' && !item.includes(' '))) {
    return scope.join(' ');
  }
  return undefined;
}

function requiredScope(scope: unknown, where: string): RequiredScope | undefined {
  const joined = joinedScope(scope);
  if (joined === undefined) return undefined;
  // Only validated scopes are ever cached, so a hit needs no further check.
  const cached = scopeCache.get(joined);
  if (cached !== undefined) return cached;
  if (joined.length > MAX_SCOPE_LENGTH || !SCOPE_PATTERN.test(joined)) return undefined;
  const scopes = Object.freeze(joined.split(' '));
  // The signer signs contract scopes only: a route requiring another (a typo) would answer 403 to
  // every call, so it is refused where the route is declared, as the signer refuses it.
  const unknown = scopes.find((token) => !knownScopes.has(token));
  if (unknown !== undefined) {
    throw new VerifierUsageError(
      `${where}: scope ${quoteForMessage(unknown)} is not a contract scope (known: ${KNOWN_SCOPES.join(', ')}); no signer grants it`,
    );
  }
  const required = Object.freeze({ scopes, label: joined });
  if (scopeCache.size < MAX_CACHED_SCOPES) scopeCache.set(joined, required);
  return required;
}

/**
 * Validates what the calling code passes to verify (programmer input, not client input): a missing
 * scope must never read as "no scope required". `where` names, in an error, what the caller wrote: an
 * adapter checks its route options with its own name.
 */
export function callContext(options: unknown, where = 'verify options'): CallContext {
  const { scope, path } = (typeof options === 'object' && options !== null ? options : {}) as {
    scope?: unknown;
    path?: unknown;
  };
  const required = requiredScope(scope, where);
  if (required === undefined) {
    throw new VerifierUsageError(
      `${where}: scope must be a scope string or a non-empty list of scope tokens (RFC 6749 §3.3)`,
    );
  }
  if (typeof path !== 'string' || path.length === 0 || path.length > MAX_PATH_LABEL_LENGTH) {
    throw new VerifierUsageError(
      `${where}: path must be the route template, a string of 1-${MAX_PATH_LABEL_LENGTH} characters`,
    );
  }
  return { scopes: required.scopes, scopeLabel: required.label, path };
}
