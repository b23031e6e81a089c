import { MAX_TOKEN_LENGTH } from '@hyper/s2s-contracts';
import { allNumbersFinite, countMembers, parsedMemberCount } from './json-members.js';

/** The JOSE header and claims of a compact JWS, parsed strictly; the signature is left to jose. */
export interface DecodedToken {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  /** The header segment as sent (the key of VerifiedHeaders). */
  readonly headerSegment: string;
}

/**
 * Headers already seen on a token whose signature verified, by their exact segment. A signer sends
 * the same header on every token, so its parse is skipped after the first; only signature-verified
 * headers get in, so the cache cannot be filled by anyone without a signing key.
 */
export class VerifiedHeaders {
  static readonly MAX = 64;
  readonly #bySegment = new Map<string, Readonly<Record<string, unknown>>>();

  get(segment: string): Readonly<Record<string, unknown>> | undefined {
    return this.#bySegment.get(segment);
  }

  remember(decoded: DecodedToken): void {
    if (this.#bySegment.has(decoded.headerSegment)) return;
    if (this.#bySegment.size >= VerifiedHeaders.MAX) this.#bySegment.clear();
    this.#bySegment.set(decoded.headerSegment, Object.freeze(decoded.header));
  }
}

// RFC 7515 §2 base64url: no padding, no whitespace, nothing outside the URL-safe alphabet.
const BASE64URL = /^[A-Za-z0-9_-]*$/;

// fatal: invalid UTF-8 is malformed, not replaced by U+FFFD (RFC 7515 §5.2 step 4 / RFC 8259 §8.1).
// ignoreBOM: a leading BOM stays in the text and fails JSON.parse, as it does for serde in Rust Core.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Value of a base64url character, for the canonical-encoding check on the last character. */
function sextet(code: number): number {
  if (code >= 97) return code - 71; // a-z
  if (code >= 65) return code - 65; // A-Z
  if (code >= 48 && code <= 57) return code + 4; // 0-9
  return code === 45 ? 62 : 63; // - _
}

/**
 * Strict base64url: alphabet only, a length that encodes whole bytes, and zero unused trailing bits
 * (a non-canonical last character would let two strings decode to the same bytes; Rust's decoder
 * refuses them too).
 */
export function isStrictBase64url(segment: string): boolean {
  const rest = segment.length % 4;
  if (rest === 1 || !BASE64URL.test(segment)) return false;
  if (rest === 0) return true;
  const last = sextet(segment.charCodeAt(segment.length - 1));
  return (last & (rest === 2 ? 0x0f : 0x03)) === 0;
}

/** Every string (member names included) in a parsed JSON value is well-formed UTF-16. */
function wellFormed(root: unknown): boolean {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (!value.isWellFormed()) return false;
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (!key.isWellFormed()) return false;
        pending.push(item);
      }
    }
  }
  return true;
}

// Decoded segments land here rather than in a new Buffer per call: a token is at most MAX_TOKEN_LENGTH
// characters, so a segment decodes to fewer bytes than that. Decoding is synchronous, so one suffices.
const scratch = Buffer.allocUnsafe(MAX_TOKEN_LENGTH);

function parseObjectSegment(segment: string): Record<string, unknown> | undefined {
  if (!isStrictBase64url(segment)) return undefined;
  let text: string;
  let value: unknown;
  try {
    text = utf8.decode(scratch.subarray(0, scratch.write(segment, 0, 'base64url')));
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  // Strict UTF-8 already refused raw surrogates; a lone one can only come from a \u escape, which
  // JSON.parse accepts but serde (Rust Core) refuses. Both sides must answer malformed_token.
  if (text.includes('\\u') && !wellFormed(value)) return undefined;
  // JSON.parse keeps the last of duplicate members; fewer parsed members than written means a duplicate.
  if (parsedMemberCount(value) !== countMembers(text)) return undefined;
  // A number literal that overflows a double is refused while parsing, as serde does.
  if (!allNumbersFinite(value)) return undefined;
  return value as Record<string, unknown>;
}

/**
 * Splits and decodes a compact JWS. Returns undefined for anything malformed: over the size cap
 * (checked before any other work), not exactly three segments, non-strict base64url, invalid UTF-8,
 * header or payload not a JSON object, duplicate member names at any depth (RFC 7519 §4 lets us
 * refuse them), or a number that overflows a double.
 */
export function decodeCompact(token: string, verified?: VerifiedHeaders): DecodedToken | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  const first = token.indexOf('.');
  // Fewer than two dots: -1 here (with no dot at all, this searches from 0 and finds none either).
  const second = token.indexOf('.', first + 1);
  if (second === -1) return undefined;
  // More than two dots fails here: the base64url alphabet has no '.'.
  if (!isStrictBase64url(token.slice(second + 1))) return undefined;
  const headerSegment = token.slice(0, first);
  const header = verified?.get(headerSegment) ?? parseObjectSegment(headerSegment);
  if (header === undefined) return undefined;
  const payload = parseObjectSegment(token.slice(first + 1, second));
  if (payload === undefined) return undefined;
  return { header, payload, headerSegment };
}
