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
    else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
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
