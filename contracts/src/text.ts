import { MAX_JTI_LENGTH } from './constants.js';

/**
 * The contract's one length unit: UTF-8 bytes. Rust Core (`str::len`), Postgres (`octet_length`) and
 * the wire all count bytes, and every language can compute it without a Unicode table.
 * Lone surrogates never get here (strict JSON refuses them); one counts 3, as in WTF-8.
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (isHighSurrogate(code) && isLowSurrogate(text.charCodeAt(i + 1))) {
      // A surrogate pair: two UTF-16 units, four bytes.
      bytes += 2;
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** NaN (past the end) is not one. */
function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Whether the replay store can record `text` as an iss or jti: Postgres text cannot hold U+0000. */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000');
}

// Controls (C0, C1), format characters (bidi overrides, zero-width) and line/paragraph separators:
// they forge or hide log lines in a terminal or a log viewer.
const UNLOGGABLE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/**
 * How much of someone else's text a log line repeats, in UTF-16 code units: as long as the longest
 * `jti` the contract admits, so an ASCII jti is never cut, and a forwarded request id of any length
 * stays bounded. A longer `iss` (the contract admits 256 bytes) is cut, and marked.
 */
export const MAX_LOGGED_TEXT_LENGTH = MAX_JTI_LENGTH;

/** Ends a logged value that was cut, so a reader never takes a prefix for the sender's whole value. */
export const LOGGED_TEXT_CUT_MARK = '…';

// A JOSE header or claims set in base64url starts `eyJ` (`{"`): a token or a segment of one. A sender
// can put anyone's token in a claim or a request id; a log line must not carry it.
const JOSE_SEGMENT = /eyJ[A-Za-z0-9_-]{6,}/;

/**
 * Someone else's text (a token sender's claim, a caller's request id) made safe to log: unprintable
 * characters removed; one holding a JOSE segment (`eyJ…`) described, never shown; at most `max`
 * UTF-16 code units, a longer value keeping its first `max - 1` and ending in LOGGED_TEXT_CUT_MARK.
 */
export function loggableText(value: string, max: number): string {
  // A cap under one code unit leaves no room even for the mark: nothing is shown.
  if (!(max >= 1)) return '';
  let shown = value.replace(UNLOGGABLE, '');
  // Tested after cleaning: a zero-width character inside a segment must not hide it.
  if (JOSE_SEGMENT.test(shown)) shown = mayHoldToken(shown.length);
  if (shown.length <= max) return shown;
  let end = max - 1;
  // Half a surrogate pair would log as an escape of a character the sender never sent.
  if (isHighSurrogate(shown.charCodeAt(end - 1))) end--;
  return `${shown.slice(0, end)}${LOGGED_TEXT_CUT_MARK}`;
}

/** What a log line or an error shows instead of a value that may hold a token. */
function mayHoldToken(length: number): string {
  return `a value that may hold a token (${length} characters, not shown)`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Longest caller value an error message repeats in full. */
export const MAX_QUOTED_LENGTH = 64;

// Any part of a token: a base64url JSON object (a JOSE header or a claims set starts `{"`, encoded
// `eyJ`), or a long run of base64 or URL-encoded text (a signature, a segment re-encoded), whatever the
// dots, padding, whitespace or prefix around it. A scope, path or setting holds neither.
const TOKEN_PART = new RegExp(`${JOSE_SEGMENT.source}|[A-Za-z0-9_\\-+/=%]{32,}`);

/**
 * A caller's value as an error message may show it. A token passed where a setting was meant (a
 * scope, a path, a command-line argument) must not reach an error, a log or a crash report: anything
 * holding a part of one (TOKEN_PART) is described, never repeated; a longer value is cut to its first
 * 64 characters; a non-string is named by its type.
 */
export function quoteForMessage(value: unknown): string {
  if (typeof value !== 'string') {
    if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
    return Array.isArray(value) ? 'an array' : `a value of type ${typeof value}`;
  }
  if (TOKEN_PART.test(value)) return mayHoldToken(value.length);
  if (value.length > MAX_QUOTED_LENGTH) {
    return `${JSON.stringify(value.slice(0, MAX_QUOTED_LENGTH))}… (${value.length} characters)`;
  }
  return JSON.stringify(value);
}
