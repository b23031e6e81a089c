import { MAX_JSON_DEPTH } from './constants.js';
import {
  allNumbersFinite,
  allStringsWellFormed,
  countMembers,
  nestedWithin,
  openingBrackets,
  parsedMemberCount,
} from './json-members.js';

// fatal: invalid UTF-8 is malformed, not replaced by U+FFFD (RFC 7515 §5.2 step 4 / RFC 8259 §8.1).
// ignoreBOM: a leading BOM stays in the text and fails JSON.parse, as it does for serde in Rust Core.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A decoded JOSE header or claims set read as the contract reads it (SPEC.md J1-J8): strict UTF-8
 * without a byte order mark, one JSON object (RFC 8259), no lone surrogate, no duplicate member at any
 * depth, no number overflowing a double, nesting at most MAX_JSON_DEPTH. Undefined when any of them
 * fails, which a verifier answers `malformed_token`. The one reading both SDKs and the conformance kit
 * apply, so they agree with serde in Rust Core.
 *
 * @example
 * ```ts
 * import { parseStrictJsonObject } from '@hyper/s2s-contracts';
 *
 * parseStrictJsonObject(Buffer.from('{"a":1,"a":2}')); // undefined (J5)
 * ```
 */
export function parseStrictJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  let text: string;
  let value: unknown;
  try {
    text = utf8.decode(bytes);
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  if (text.includes('\\u') && !allStringsWellFormed(value)) return undefined;
  // JSON.parse keeps the last of duplicate members; fewer parsed members than written means a duplicate.
  if (parsedMemberCount(value) !== countMembers(text)) return undefined;
  // A number literal that overflows a double is refused while parsing, as serde does.
  if (!allNumbersFinite(value)) return undefined;
  // A text nested d deep holds at least d opening brackets, so the walk runs only for a text with that
  // many: never for a flat claims set.
  if (openingBrackets(text, MAX_JSON_DEPTH + 1) && !nestedWithin(value, MAX_JSON_DEPTH)) return undefined;
  return value as Record<string, unknown>;
}
