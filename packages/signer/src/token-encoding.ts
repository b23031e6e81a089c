import { TOKEN_TYPE } from '@hyper/s2s-contracts';

/** base64url of the text's UTF-8 bytes (Buffer.from's default encoding for a string). */
export const base64url = (text: string): string => Buffer.from(text).toString('base64url');

/** The protected header, exactly `{ alg, typ: 'JWT', kid }` in that order; encoded once per signer. */
export function encodedHeader(alg: string, kid: string): string {
  return base64url(JSON.stringify({ alg, typ: TOKEN_TYPE, kid }));
}

/**
 * Builds the claims JSON by concatenation in the contract's CLAIM_NAMES order
 * (iss sub aud exp iat nbf scope jti); JSON.stringify runs only on values. Issuer and subject are
 * serialised once. Equivalent to JSON.stringify of the claims object, byte for byte.
 */
export function payloadEncoder(
  issuer: string,
  subject: string,
): (audJson: string, iat: number, exp: number, scope: string, jti: string) => string {
  const head = `{"iss":${JSON.stringify(issuer)},"sub":${JSON.stringify(subject)},"aud":`;
  return (audJson, iat, exp, scope, jti) =>
    base64url(
      `${head}${audJson},"exp":${exp},"iat":${iat},"nbf":${iat},"scope":${JSON.stringify(scope)},"jti":${JSON.stringify(jti)}}`,
    );
}
