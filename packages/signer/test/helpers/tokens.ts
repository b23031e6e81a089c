/** Splits a compact JWT and decodes header and claims as raw JSON text and as objects. */
export function decodeToken(token: string) {
  const [h, p, s] = token.split('.') as [string, string, string];
  const headerJson = Buffer.from(h, 'base64url').toString('utf8');
  const payloadJson = Buffer.from(p, 'base64url').toString('utf8');
  return {
    headerJson,
    payloadJson,
    header: JSON.parse(headerJson) as Record<string, unknown>,
    claims: JSON.parse(payloadJson) as Record<string, unknown>,
    signature: Buffer.from(s, 'base64url'),
  };
}
