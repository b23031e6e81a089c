import { type Jwks, publishableJwks } from './public-jwk.js';

/** Documents a publisher let through: deep-frozen, so they still hold exactly what passed the policy. */
const vetted = new WeakSet<object>();

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}

function jsonOf(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/**
 * publishableJwks (the contract's key policy) memoised per key list, so a JWKS request does no policy
 * work while the keys stay the same: the keys change a few times a year, requests never stop. A document
 * whose JSON is the one last let through gets that same frozen document back; any other list (a key
 * published, switched, retired or disabled, a re-read that changed a member) is checked first, and a
 * refused list is never remembered, so it is refused on every request. Frozen because it is shared: a
 * caller editing it would otherwise change what later requests publish, past the policy.
 */
export function jwksPublisher(): (jwks: unknown) => Jwks {
  let last: { readonly json: string; readonly jwks: Jwks } | undefined;
  return (jwks) => {
    if (typeof jwks === 'object' && jwks !== null && vetted.has(jwks)) return jwks as Jwks;
    const json = jsonOf(jwks);
    // Not JSON (a broken source): judged as before and not remembered; serving it fails as before.
    if (json === undefined) return publishableJwks(jwks);
    if (json === last?.json) return last.jwks;
    // The policy judges the parsed copy, the very document served (a toJSON or getter on the source
    // cannot publish something other than what passed), and no caller holds a reference into it.
    const published = deepFreeze(publishableJwks(JSON.parse(json)));
    vetted.add(published);
    last = { json, jwks: published };
    return published;
  };
}
