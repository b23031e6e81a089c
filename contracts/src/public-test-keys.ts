import { createHash, createPublicKey, type JsonWebKey as NodeJsonWebKey } from 'node:crypto';

/**
 * RFC 7638 thumbprints (SHA-256) of the contract's public test keys, contracts/test-keys/*.pem. Their
 * private halves ship with the test vectors, so anyone can sign as them: a keyset that trusts one
 * accepts forged tokens. Compared by key material, so a test key published under another kid is caught
 * too. contracts/test/public-test-keys.test.ts pins these against the PEM files.
 */
const PUBLIC_TEST_KEY_THUMBPRINTS: ReadonlyMap<string, string> = new Map([
  ['1fWZ1ZBtK-sodv9b-eEKjqwbBrjynjCWgyrn2eDVLcw', 'lite-2026-03'],
  ['4IQstOJSJUcLRHgJ5sNV2-OKM8uZPBCrQi_acVaN880', 'lite-2026-04'],
  ['-FxTnqK3OlfuVB-QTX9RW9JDj9bGxfxvxL1SKuUpoKY', 'lite-2026-05'],
]);

/** A key in a keyset that is one of the contract's public test keys. */
export interface PublicTestKeyMatch {
  /** The kid it is published under ('' when it has none). */
  readonly kid: string;
  /** The contract test key it is (lite-2026-03, -04 or -05). */
  readonly testKid: string;
  /** One line for an operator: names the kid and why it must not be trusted in production. */
  readonly message: string;
}

/** RFC 7638 thumbprint of a public RSA or EC JWK, from its parsed key material; undefined if none. */
export function jwkThumbprint(jwk: unknown): string | undefined {
  if (typeof jwk !== 'object' || jwk === null) return undefined;
  let parsed: NodeJsonWebKey;
  try {
    // Re-exported by node: the canonical encoding, whatever padding or member order the input had.
    parsed = createPublicKey({ key: jwk as NodeJsonWebKey, format: 'jwk' }).export({ format: 'jwk' });
  } catch {
    return undefined;
  }
  const members =
    parsed.kty === 'RSA'
      ? { e: parsed.e, kty: 'RSA', n: parsed.n }
      : parsed.kty === 'EC'
        ? { crv: parsed.crv, kty: 'EC', x: parsed.x, y: parsed.y }
        : undefined;
  return members && createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/**
 * The contract's public test keys among a JWKS's keys (`{ keys: [...] }` or an array of JWKs), one
 * match per distinct kid. Both the signer's keyset CLI and the verifier's key loading warn with it.
 */
export function findPublicTestKeys(jwks: unknown): readonly PublicTestKeyMatch[] {
  const keys = Array.isArray(jwks) ? jwks : (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) return [];
  const matches = new Map<string, PublicTestKeyMatch>();
  for (const jwk of keys) {
    const thumbprint = jwkThumbprint(jwk);
    const testKid = thumbprint === undefined ? undefined : PUBLIC_TEST_KEY_THUMBPRINTS.get(thumbprint);
    if (testKid === undefined) continue;
    const rawKid = (jwk as { kid?: unknown }).kid;
    const kid = typeof rawKid === 'string' ? rawKid : '';
    if (matches.has(kid)) continue;
    const as = kid === testKid ? '' : ` (published as kid ${JSON.stringify(kid)})`;
    matches.set(kid, {
      kid,
      testKid,
      message: `key ${JSON.stringify(kid)} is the contract's public test key ${testKid}${as}: its private key is published with the test vectors, so anyone can sign tokens it accepts. Never trust it outside tests.`,
    });
  }
  return [...matches.values()];
}
