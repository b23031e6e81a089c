import { createPublicKey, type JsonWebKey as NodeJsonWebKey } from 'node:crypto';
import {
  MAX_KID_LENGTH,
  MIN_RSA_MODULUS_BITS,
  PRIVATE_JWK_MEMBERS,
  type SupportedAlgorithm,
} from './constants.js';
import { utf8Length } from './text.js';

/**
 * A public RSA or EC signing key as published in a JWKS (the shape checkPublicJwk accepts): RSA keys
 * carry `n`/`e`, EC keys `crv`/`x`/`y`; never private members. The one type both SDKs use.
 */
export interface PublicJwk {
  kty: 'RSA' | 'EC';
  kid: string;
  alg: SupportedAlgorithm;
  use: 'sig';
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}

/**
 * The one JWK policy of the contract: a public verification key every tool (the signer's keyset CLI and
 * JWKS output, the verifier's startup check and fetched-JWKS check) judges the same way, mirroring what
 * jose will actually use (jose's createLocalJWKSet `isUsableJWK` and WebCrypto importKey):
 * - no private members; `kty` RSA (RS256, modulus ≥ 2048 bits) or EC (ES256, `crv` P-256);
 * - `kid` a string of 1..MAX_KID_LENGTH UTF-8 bytes, counted as the header's kid is (SPEC.md H2, KEY3):
 *   a key no token header could name is refused at startup, not held unusable;
 * - `alg`, when present, the key's algorithm; absent, the key still has exactly one algorithm, the one
 *   its kty implies (RSA → RS256, EC → ES256), and only tokens of that alg use it (SPEC.md K2, KEY2);
 * - `use`, when present, "sig";
 * - `key_ops`, when present, an array of unique strings containing "verify" and nothing else (jose
 *   imports with `key_ops` as the usages, and a public key can only verify);
 * - `ext`, when present, a boolean;
 * - the key material parses as a public key of that type and strength.
 */
export type JwkPolicyResult =
  | {
      readonly ok: true;
      readonly kid: string;
      readonly kty: 'RSA' | 'EC';
      readonly alg: SupportedAlgorithm;
      /** "2048 bits" (RSA modulus) or "P-256". */
      readonly strength: string;
    }
  | {
      readonly ok: false;
      /** The JWK member at fault ('' for the whole value). */
      readonly member: string;
      readonly problem: string;
      /** Private key material: the whole keyset is suspect, not just this key. */
      readonly privateMaterial: boolean;
    };

const ALG_FOR_KTY: Readonly<Record<string, SupportedAlgorithm>> = { RSA: 'RS256', EC: 'ES256' };
const EC_CURVE = { jwk: 'P-256', node: 'prime256v1' } as const;
/** The only operation a public verification key can be imported for. */
const VERIFY_OP = 'verify';

const refuse = (member: string, problem: string, privateMaterial = false): JwkPolicyResult => ({
  ok: false,
  member,
  problem,
  privateMaterial,
});

function keyOpsProblem(ops: unknown): string | undefined {
  if (ops === undefined) return undefined;
  if (!Array.isArray(ops) || !ops.every((op) => typeof op === 'string')) return 'must be an array of strings';
  if (new Set(ops).size !== ops.length) return 'must not repeat an operation';
  if (!ops.includes(VERIFY_OP)) return 'must include "verify"';
  if (ops.length !== 1) return 'must hold only "verify": a public key cannot do anything else';
  return undefined;
}

/**
 * RSA public exponent bounds (SPEC.md KEY1 step 13, NIST SP 800-56B Rev. 2 §6.2): odd, at least 65537,
 * at most 256 bits. With e = 1 every padded digest is its own signature, so anyone could sign for the
 * key; OpenSSL (node:crypto, WebCrypto, jose) verifies with such a key without complaint.
 */
const MAX_RSA_EXPONENT_BYTES = 32;

function rsaExponentProblem(e: unknown): string | undefined {
  const bytes = typeof e === 'string' ? Buffer.from(e, 'base64url') : Buffer.alloc(0);
  // Minimal and canonical: no leading zero byte, and the text is exactly the encoding of its bytes.
  const canonical = bytes.length > 0 && bytes[0] !== 0 && bytes.toString('base64url') === e;
  // With no leading zero, an odd value of 3 to 32 bytes is exactly an odd 65537 (0x010001) to 2^256 - 1.
  const inRange = bytes.length >= 3 && bytes.length <= MAX_RSA_EXPONENT_BYTES;
  const odd = (bytes[bytes.length - 1]! & 1) === 1;
  return canonical && inRange && odd
    ? undefined
    : 'must be an odd public exponent from 65537 to 2^256 - 1, in minimal base64url';
}

/** Reads the key material with node:crypto (validates it, gives the modulus size and curve). */
function material(jwk: Record<string, unknown>): ReturnType<typeof createPublicKey> | undefined {
  const key: NodeJsonWebKey =
    jwk.kty === 'RSA'
      ? { kty: 'RSA', n: jwk.n as string, e: jwk.e as string }
      : { kty: 'EC', crv: jwk.crv as string, x: jwk.x as string, y: jwk.y as string };
  try {
    return createPublicKey({ key, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/** Judges one JWK as a public verification key (see the type's comment for the rules). */
export function checkPublicJwk(jwk: unknown): JwkPolicyResult {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
    return refuse('', 'must be a JWK object');
  const key = jwk as Record<string, unknown>;
  // Before the private members: an oct key's `k` is a shared secret, and that is the problem to name.
  if (key.kty === 'oct')
    return refuse('kty', 'symmetric (oct/HMAC) keys are refused (ADR 0031: RS256/ES256 only)');
  for (const member of PRIVATE_JWK_MEMBERS) {
    if (key[member] !== undefined) {
      return refuse(member, 'private member: publish and load public keys only', true);
    }
  }
  const { kty, kid, alg, use, ext } = key;
  if (kty === 'oct')
    return refuse('kty', 'symmetric (oct/HMAC) keys are refused (ADR 0031: RS256/ES256 only)');
  const keyAlg = typeof kty === 'string' && Object.hasOwn(ALG_FOR_KTY, kty) ? ALG_FOR_KTY[kty] : undefined;
  if (keyAlg === undefined) return refuse('kty', 'must be "RSA" (RS256) or "EC" (ES256)');
  if (typeof kid !== 'string' || kid.length === 0 || utf8Length(kid) > MAX_KID_LENGTH) {
    return refuse('kid', `must be a string of 1-${MAX_KID_LENGTH} UTF-8 bytes`);
  }
  if (alg !== undefined && alg !== keyAlg) return refuse('alg', `must be "${keyAlg}" for a ${kty} key`);
  if (use !== undefined && use !== 'sig') return refuse('use', 'must be "sig"');
  const opsProblem = keyOpsProblem(key.key_ops);
  if (opsProblem !== undefined) return refuse('key_ops', opsProblem);
  if (ext !== undefined && typeof ext !== 'boolean') return refuse('ext', 'must be true or false');
  if (kty === 'EC' && key.crv !== EC_CURVE.jwk) return refuse('crv', `must be "${EC_CURVE.jwk}" for ES256`);
  const publicKey = material(key);
  if (publicKey === undefined || publicKey.type !== 'public') {
    return refuse(kty === 'RSA' ? 'n' : 'x', 'is not valid public key material');
  }
  const details = publicKey.asymmetricKeyDetails;
  if (kty === 'RSA') {
    const bits = details?.modulusLength ?? 0;
    if (bits < MIN_RSA_MODULUS_BITS) {
      return refuse('n', `RSA key of ${bits} bits: at least ${MIN_RSA_MODULUS_BITS} are required`);
    }
    const exponentProblem = rsaExponentProblem(key.e);
    if (exponentProblem !== undefined) return refuse('e', exponentProblem);
    return { ok: true, kid, kty, alg: keyAlg, strength: `${bits} bits` };
  }
  if (details?.namedCurve !== EC_CURVE.node) return refuse('crv', 'is not P-256');
  return { ok: true, kid, kty: 'EC', alg: keyAlg, strength: EC_CURVE.jwk };
}
