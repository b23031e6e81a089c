import { createPrivateKey, KeyObject, type SignKeyObjectInput, sign } from 'node:crypto';
import { findPublicTestKeys, quoteForMessage, type SupportedAlgorithm } from '@hyper/s2s-contracts';
import { SignerConfigError } from './errors.js';
import { algorithmOfKey } from './key-object-algorithm.js';
import { publicJwkProblem, toPublicJwk } from './public-jwk.js';
import type { SigningKey } from './signing-key.js';

const PEM_FIELD = 'key.privateKeyPem';
const ALG_FIELD = 'key.alg';

/** Parses the PEM once; a KeyObject is what lets every `sign()` skip key parsing. */
function importPrivateKey(pem: unknown): KeyObject {
  if (pem instanceof KeyObject) {
    if (pem.type === 'private') return pem;
    throw new SignerConfigError(
      PEM_FIELD,
      pem.type === 'secret'
        ? 'symmetric (HMAC) keys are refused; ADR 0031 allows only RS256/ES256 key pairs'
        : 'a public key cannot sign; pass the private key',
    );
  }
  if (typeof pem !== 'string' || pem.trim() === '') {
    throw new SignerConfigError(PEM_FIELD, 'a PKCS#8 (or PKCS#1/SEC1) private key PEM string is required');
  }
  // A bare string is a file path (the likeliest mistake) or what an HS256 shared secret looks like; say
  // both instead of a parser error, without echoing the value.
  if (!pem.includes('-----BEGIN')) {
    throw new SignerConfigError(
      PEM_FIELD,
      'not a PEM key (no -----BEGIN line): pass the PEM text itself, not a file path; shared secrets (HMAC/HS256) are refused (ADR 0031)',
    );
  }
  if (/-----BEGIN (RSA |EC )?PUBLIC KEY-----|-----BEGIN CERTIFICATE-----/.test(pem)) {
    throw new SignerConfigError(
      PEM_FIELD,
      'this is a public key or certificate; the signer needs the private key',
    );
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (cause) {
    // Deliberately not echoing the PEM or the parser's detail: either could quote key material.
    throw new SignerConfigError(PEM_FIELD, 'could not be parsed as an unencrypted private key PEM', {
      cause,
    });
  }
}

/** Resolves the configured algorithm against what the key can do; the key decides when none is given. */
export function resolveAlgorithm(
  keyAlg: SupportedAlgorithm,
  configured: unknown,
  field = ALG_FIELD,
): SupportedAlgorithm {
  if (configured === undefined) return keyAlg;
  if (configured !== 'RS256' && configured !== 'ES256') {
    throw new SignerConfigError(field, `${quoteForMessage(configured)} is not allowed; only RS256 or ES256`);
  }
  if (configured !== keyAlg) {
    throw new SignerConfigError(field, `${configured} does not match the key, which signs ${keyAlg}`);
  }
  return configured;
}

export function createPemKey(pem: unknown, kid: string, configuredAlg?: unknown): SigningKey {
  const privateKey = importPrivateKey(pem);
  const check = algorithmOfKey(privateKey);
  if (!check.ok) throw new SignerConfigError(PEM_FIELD, check.problem);
  const alg = resolveAlgorithm(check.alg, configuredAlg);
  const jwk = toPublicJwk(privateKey, kid, alg);
  const problem = publicJwkProblem(jwk);
  if (problem !== undefined) throw new SignerConfigError(PEM_FIELD, `the public key is refused: ${problem}`);
  // ES256 wants the fixed 64-byte r||s form (RFC 7518 §3.4), not DER; the options object is built once.
  const signKey: KeyObject | SignKeyObjectInput =
    alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey;

  return {
    kid,
    alg,
    remote: false,
    // RS256: one modulus-sized integer; ES256: r||s of 32 bytes each.
    signatureBytes: alg === 'RS256' ? Math.ceil(privateKey.asymmetricKeyDetails!.modulusLength! / 8) : 64,
    publicTestKeyWarning: findPublicTestKeys([jwk])[0]?.message,
    sign: (input) => sign('sha256', input, signKey),
    publicJwk: async () => ({ ...jwk }),
    close: async () => {},
  };
}
