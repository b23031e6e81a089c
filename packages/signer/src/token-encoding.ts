import {
  KNOWN_SCOPES,
  MAX_JTI_LENGTH,
  MAX_TOKEN_LENGTH,
  MAX_TTL_SECONDS,
  TOKEN_TYPE,
} from '@hyper/s2s-contracts';
import { MAX_EPOCH_MS } from './validate.js';

/** base64url of the text's UTF-8 bytes (Buffer.from's default encoding for a string). */
export const base64url = (text: string): string => Buffer.from(text).toString('base64url');

/** The protected header, exactly `{ alg, typ: 'JWT', kid }` in that order; encoded once per signer. */
export function encodedHeader(alg: string, kid: string): string {
  return base64url(JSON.stringify({ alg, typ: TOKEN_TYPE, kid }));
}

type ClaimsWriter = (audJson: string, iat: number, exp: number, scope: string, jti: string) => string;

/**
 * The claims JSON by concatenation in the contract's CLAIM_NAMES order (iss sub aud exp iat nbf scope
 * jti); JSON.stringify runs only on values. Issuer and subject are serialised once. Equivalent to
 * JSON.stringify of the claims object, byte for byte.
 */
function claimsJson(issuer: string, subject: string): ClaimsWriter {
  const head = `{"iss":${JSON.stringify(issuer)},"sub":${JSON.stringify(subject)},"aud":`;
  return (audJson, iat, exp, scope, jti) =>
    `${head}${audJson},"exp":${exp},"iat":${iat},"nbf":${iat},"scope":${JSON.stringify(scope)},"jti":${JSON.stringify(jti)}}`;
}

/** The encoded claims segment (see claimsJson). */
export function payloadEncoder(issuer: string, subject: string): ClaimsWriter {
  const json = claimsJson(issuer, subject);
  return (audJson, iat, exp, scope, jti) => base64url(json(audJson, iat, exp, scope, jti));
}

/** Unpadded base64url length of `bytes` bytes. */
const base64urlLength = (bytes: number): number => Math.ceil((bytes * 4) / 3);

/** Each jti byte can be a control character, which JSON writes as six bytes (`\u0001`). */
const JSON_ESCAPE_BYTES = 6;

/**
 * How many UTF-8 bytes the `aud` JSON (quotes included) may take so that no token this signer can produce
 * exceeds MAX_TOKEN_LENGTH (Core answers malformed_token): everything else at its largest, that is the
 * latest iat/exp a clock may give, every known scope, a MAX_JTI_LENGTH-byte jti of characters JSON
 * escapes, and the signature at `signatureBytes`. Negative when issuer and subject alone are too long.
 */
export function audienceJsonBudget(
  header: string,
  issuer: string,
  subject: string,
  signatureBytes: number,
): number {
  const seconds = Math.floor(MAX_EPOCH_MS / 1000) + MAX_TTL_SECONDS;
  const skeleton = Buffer.byteLength(
    claimsJson(issuer, subject)('', seconds, seconds, KNOWN_SCOPES.join(' '), ''),
  );
  const payloadRoom = MAX_TOKEN_LENGTH - header.length - base64urlLength(signatureBytes) - 2; // two dots
  return Math.floor((payloadRoom * 3) / 4) - skeleton - MAX_JTI_LENGTH * JSON_ESCAPE_BYTES;
}
