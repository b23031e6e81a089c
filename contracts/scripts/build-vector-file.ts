import { existsSync, readFileSync } from 'node:fs';
import { ClaimsSchema } from '../src/claims.js';
import {
  CLAIM_NAMES,
  CLOCK_SKEW_SECONDS,
  DEFAULT_ALGORITHMS,
  KNOWN_SCOPES,
  MAX_TOKEN_LENGTH,
  MAX_TTL_SECONDS,
} from '../src/constants.js';
import { REASONS } from '../src/reasons.js';
import {
  type Sequence,
  type SignedContent,
  VECTOR_FILE_VERSION,
  type Vector,
  type VectorFile,
} from '../src/vector-file.js';
import { verifyInput } from './jws.js';
import { loadTestKeys } from './test-keys.js';
import { type Built, CASES, type Json, VECTOR_AUDIENCE, VECTOR_ISSUER, VECTOR_NOW } from './vector-cases.js';
import { JUDGMENT_CASES } from './vector-judgment-cases.js';
import { SEQUENCES } from './vector-sequences.js';

const TEST_KEY_WARNING =
  'TEST ONLY. These private keys are published with the vectors so any signer can reproduce them. ' +
  'Never trust them outside tests.';

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** True when `createSigner` with this key and these settings would emit exactly this header and claims. */
function isSignerOutput(s: NonNullable<Built['signed']>): boolean {
  const { header: h, claims: c } = s;
  const headerOk =
    sameJson(Object.keys(h), ['alg', 'typ', 'kid']) && h.typ === 'JWT' && h.kid === s.signingKid;
  const ttl = (c.exp as number) - (c.iat as number);
  const scopes = typeof c.scope === 'string' ? c.scope.split(' ') : [];
  return (
    headerOk &&
    // A signer validates its issuer, subject and jti, so claims of the wrong type never come out of one.
    ClaimsSchema.safeParse(c).success &&
    (s.alg === 'RS256' || s.alg === 'ES256') &&
    h.alg === s.alg &&
    sameJson(Object.keys(c), CLAIM_NAMES) &&
    typeof c.aud === 'string' &&
    Number.isInteger(c.iat) &&
    c.iat === c.nbf &&
    Number.isInteger(ttl) &&
    ttl >= 1 &&
    ttl <= MAX_TTL_SECONDS &&
    scopes.length > 0 &&
    scopes.every((scope) => (KNOWN_SCOPES as readonly string[]).includes(scope))
  );
}

/**
 * ES256 signatures are randomised, so a fresh run would change those tokens. To keep the file
 * byte-for-byte reproducible, a committed non-deterministic token is reused when it still verifies
 * over exactly the segments this run would sign.
 */
function keepCommitted(
  built: Built,
  previous: Vector | undefined,
  keys: ReturnType<typeof loadTestKeys>,
): Built {
  const s = built.signed;
  if (s?.alg !== 'ES256' || !previous?.signed) return built;
  const [h, p] = built.token.split('.');
  const [ph, pp, psig] = previous.token.split('.');
  const key = s.signingKid ? keys.get(s.signingKid) : undefined;
  if (!key || h !== ph || p !== pp || psig === undefined) return built;
  return verifyInput(s.alg, `${ph}.${pp}`, psig, key.publicKey) ? { ...built, token: previous.token } : built;
}

function signedContent(s: NonNullable<Built['signed']>): SignedContent {
  return {
    header: s.header as Json,
    claims: s.claims as Json,
    signingKid: s.signingKid,
    deterministic: s.alg !== 'ES256',
    producedBySigner: isSignerOutput(s),
  };
}

export function buildVectorFile(previousPath?: string): VectorFile {
  const keys = loadTestKeys();
  const previous = new Map<string, Vector>();
  if (previousPath && existsSync(previousPath)) {
    const file = JSON.parse(readFileSync(previousPath, 'utf8')) as VectorFile;
    for (const v of file.vectors) previous.set(v.id, v);
  }
  const ctx = { now: VECTOR_NOW, keys };

  const vectors: Vector[] = [...CASES, ...JUDGMENT_CASES].map((def) => {
    const built = keepCommitted(def.build(ctx), previous.get(def.id), keys);
    const vector: Vector = {
      id: def.id,
      description: def.description,
      token: built.token,
      scope: def.scope ?? ['spaces:create'],
      ...(def.algorithms ? { algorithms: def.algorithms } : {}),
      expect: def.expect.map((reason) => ({ status: REASONS[reason].status, reason })),
    };
    if (built.signed) vector.signed = signedContent(built.signed);
    return vector;
  });

  const sequences: Sequence[] = SEQUENCES.map((def) => ({
    id: def.id,
    description: def.description,
    ...(def.issuers ? { issuers: def.issuers } : {}),
    steps: def.steps.map((step) => {
      const built = step.build(ctx);
      return {
        token: built.token,
        scope: step.scope ?? ['spaces:create'],
        expect: { status: REASONS[step.expect].status, reason: step.expect },
        ...(built.signed ? { signed: signedContent(built.signed) } : {}),
      };
    }),
  }));

  const inKeyset = [...keys.values()].filter((k) => k.inKeyset);
  return {
    $schema: './s2s-jwt-auth-test-vectors.schema.json',
    version: VECTOR_FILE_VERSION,
    description:
      'Canonical S2S JWT auth vectors (Hyper Lite -> Hyper Core). Evaluate every vector at `now` with the ' +
      'keyset, issuer, audience and algorithms below and a fresh replay store per vector; present `token` ' +
      'once per entry of `expect`. Present the steps of each sequence in order to one verifier with one ' +
      'fresh replay store. The normative rules are in SPEC.md. Generated by contracts/scripts/generate-vectors.ts: never edit by hand.',
    now: VECTOR_NOW,
    issuer: VECTOR_ISSUER,
    audience: VECTOR_AUDIENCE,
    algorithms: [...DEFAULT_ALGORITHMS],
    clockSkewSeconds: CLOCK_SKEW_SECONDS,
    maxTtlSeconds: MAX_TTL_SECONDS,
    maxTokenLength: MAX_TOKEN_LENGTH,
    jwks: {
      keys: inKeyset.map((k) => {
        const { kty, ...material } = k.publicKey.export({ format: 'jwk' }) as Record<string, string>;
        return { kty: kty as 'RSA' | 'EC', kid: k.kid, alg: k.alg, use: 'sig' as const, ...material };
      }),
    },
    testPrivateKeys: {
      warning: TEST_KEY_WARNING,
      keys: [...keys.values()].map((k) => ({ kid: k.kid, alg: k.alg, pkcs8Pem: k.pem })),
    },
    vectors,
    sequences,
  };
}
