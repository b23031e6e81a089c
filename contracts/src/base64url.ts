/**
 * Decodes `segment` into `into` when it is strict base64url, the only form a token's segments may take
 * (SPEC.md T4; RFC 7515 §2: URL-safe alphabet, no padding, no whitespace, zero unused trailing bits),
 * and returns its byte length; -1 when it is not strict, or decodes to more bytes than `into` holds.
 * Node's decoder is lenient (it skips foreign characters, takes `+` `/` `=`, ignores unused bits), but
 * its encoder writes the one canonical form: a segment is strict exactly when re-encoding its bytes gives
 * it back. A non-canonical last character would let two strings decode to the same bytes; Rust's decoder
 * refuses them too. Native on both sides: cheaper per character than a regular expression. `into` is the
 * caller's, so a verifier decodes every token into one buffer.
 *
 * @example
 * ```ts
 * import { decodeStrictBase64url } from '@hyper/s2s-contracts';
 *
 * const into = Buffer.alloc(16);
 * decodeStrictBase64url('eyJhIjoxfQ', into); // 7 ('{"a":1}')
 * decodeStrictBase64url('eyJhIjoxfR', into); // -1 (unused trailing bits set)
 * ```
 */
export function decodeStrictBase64url(segment: string, into: Buffer): number {
  const length = into.write(segment, 0, 'base64url');
  // A segment cut short at the end of `into` never re-encodes to itself, so it is refused too.
  return into.toString('base64url', 0, length) === segment ? length : -1;
}
