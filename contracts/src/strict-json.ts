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

/** Why a decoded header or claims set is not JSON the contract reads: the SPEC.md rule and what broke it. */
export interface StrictJsonProblem {
  readonly rule: 'J1' | 'J2' | 'J3' | 'J4' | 'J5' | 'J6' | 'J8';
  readonly problem: string;
}

/** One instance per problem, made once: a refusal allocates nothing, and `instanceof` tells it from a parsed object. */
class Refusal implements StrictJsonProblem {
  constructor(
    readonly rule: StrictJsonProblem['rule'],
    readonly problem: string,
  ) {
    Object.freeze(this);
  }
}

const NOT_UTF8 = new Refusal('J1', 'not valid UTF-8');
const BYTE_ORDER_MARK = new Refusal('J2', 'starts with a byte order mark');
const NOT_JSON = new Refusal('J3', 'not JSON (RFC 8259)');
const NOT_AN_OBJECT = new Refusal('J3', 'JSON, but not an object');
const LONE_SURROGATE = new Refusal('J4', 'a string escapes a lone UTF-16 surrogate');
const DUPLICATE_MEMBER = new Refusal('J5', 'a member name appears twice in one object');
const NUMBER_OVERFLOW = new Refusal('J6', 'a number overflows a double');
const TOO_DEEP = new Refusal('J8', `objects and arrays nest deeper than ${MAX_JSON_DEPTH}`);

function read(bytes: Uint8Array): Record<string, unknown> | Refusal {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return NOT_UTF8;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return text.charCodeAt(0) === 0xfeff ? BYTE_ORDER_MARK : NOT_JSON;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return NOT_AN_OBJECT;
  if (text.includes('\\u') && !allStringsWellFormed(value)) return LONE_SURROGATE;
  // JSON.parse keeps the last of duplicate members; fewer parsed members than written means a duplicate.
  if (parsedMemberCount(value) !== countMembers(text)) return DUPLICATE_MEMBER;
  // A number literal that overflows a double is refused while parsing, as serde does.
  if (!allNumbersFinite(value)) return NUMBER_OVERFLOW;
  // A text nested d deep holds at least d opening brackets, so the walk runs only for a text with that
  // many: never for a flat claims set.
  if (openingBrackets(text, MAX_JSON_DEPTH + 1) && !nestedWithin(value, MAX_JSON_DEPTH)) return TOO_DEEP;
  return value as Record<string, unknown>;
}

/**
 * A decoded JOSE header or claims set read as the contract reads it (SPEC.md J1-J8): strict UTF-8
 * without a byte order mark, one JSON object (RFC 8259), no lone surrogate, no duplicate member at any
 * depth, no number overflowing a double, nesting at most MAX_JSON_DEPTH. Undefined when any of them
 * fails, which a verifier answers `malformed_token` (strictJsonProblem says which). The one reading both
 * SDKs and the conformance kit apply, so they agree with serde in Rust Core.
 *
 * @example
 * ```ts
 * import { parseStrictJsonObject } from '@hyper/s2s-contracts';
 *
 * parseStrictJsonObject(Buffer.from('{"a":1,"a":2}')); // undefined (J5)
 * ```
 */
export function parseStrictJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  const result = read(bytes);
  return result instanceof Refusal ? undefined : result;
}

/**
 * Why parseStrictJsonObject refuses `bytes` (the first rule broken, in SPEC.md order), or undefined
 * when it reads them. For tools that must tell a signer what is wrong; a verifier only answers
 * `malformed_token`.
 *
 * @example
 * ```ts
 * import { strictJsonProblem } from '@hyper/s2s-contracts';
 *
 * strictJsonProblem(Buffer.from('{"a":1,"a":2}')); // { rule: 'J5', problem: 'a member name appears twice in one object' }
 * ```
 */
export function strictJsonProblem(bytes: Uint8Array): StrictJsonProblem | undefined {
  const result = read(bytes);
  return result instanceof Refusal ? result : undefined;
}
