const SCHEME = 'bearer';
const SP = 32;
const HTAB = 9;

/**
 * What to hand `verify` for an Authorization header value (RFC 6750 §2.1, RFC 9110 §11.6.2):
 * - no header, or another scheme (Basic, ...): `undefined`, i.e. missing_token, since the request
 *   carries no bearer credentials (RFC 6750 §3.1: no error code);
 * - `Bearer` + exactly one space + token: the token, which verify checks strictly (a second space,
 *   a tab or a trailing space makes it malformed);
 * - `Bearer` without that single space or without a token: the whole value, which verify refuses
 *   as malformed;
 * - a comma anywhere: the whole value (malformed). A Fetch API `Headers` joins repeated fields with
 *   `, `, so there a comma is the only sign of a repeat; reading it the same way in every adapter gives
 *   one answer everywhere (SPEC.md HTTP1), and no bearer token holds a comma.
 * The scheme name is case-insensitive (RFC 9110 §11.1); nothing else is lenient.
 */
export function bearerCredential(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value.includes(',')) return value;
  let end = 0;
  while (end < value.length && value.charCodeAt(end) !== SP && value.charCodeAt(end) !== HTAB) end++;
  if (end !== SCHEME.length || value.slice(0, end).toLowerCase() !== SCHEME) return undefined;
  const token = value.charCodeAt(end) === SP ? value.slice(end + 1) : '';
  return token === '' ? value : token;
}

/**
 * Credential from a list of Authorization header values. More than one header is refused: the whole
 * combined value goes to verify, which finds it malformed.
 */
export function bearerCredentialFrom(values: readonly string[]): string | undefined {
  if (values.length === 0) return undefined;
  if (values.length > 1) return values.join(', ');
  return bearerCredential(values[0]);
}
