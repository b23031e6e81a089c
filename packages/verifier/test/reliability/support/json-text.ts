/**
 * JSON documents as ordered member lists, written out in the many byte-level spellings JSON allows
 * (member order, whitespace, \u escapes, number literals, duplicates, a BOM). A list rather than an
 * object, so members such as "__proto__" stay ordinary members.
 */

/** Written verbatim (number literals JSON.stringify never produces: 1e400, -0, 1.0). */
export class RawJson {
  constructor(readonly text: string) {}
}

export type Member = readonly [name: string, value: unknown];
export type Document = readonly Member[];

export interface Spelling {
  readonly order: 'keep' | 'reverse' | 'sorted';
  readonly space: '' | ' ' | '\n' | '\t' | '\r\n';
  /** Spell ASCII letters in names and string values as \u00XX escapes. */
  readonly escapeLetters: boolean;
  readonly bom: boolean;
  /** Appended as an extra member after the others. */
  readonly extra?: Member;
}

export const PLAIN: Spelling = { order: 'keep', space: '', escapeLetters: false, bom: false };

export function documentOf(text: string): Document | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return Object.entries(value);
}

/** Sets (or, with `undefined`, removes) a member, keeping the position of an existing one. */
export function withMember(document: Document, name: string, value: unknown): Document {
  if (value === undefined) return document.filter(([existing]) => existing !== name);
  if (!document.some(([existing]) => existing === name)) return [...document, [name, value]];
  return document.map((member) => (member[0] === name ? [name, value] : member));
}

function escapeLetters(json: string): string {
  let out = '';
  for (let i = 0; i < json.length; i++) {
    const char = json[i]!;
    if (char === '\\') {
      // Keep an existing escape intact: \uXXXX or a one-character escape.
      const length = json[i + 1] === 'u' ? 6 : 2;
      out += json.slice(i, i + length);
      i += length - 1;
    } else if (/[A-Za-z]/.test(char)) {
      out += `\\u00${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
    } else {
      out += char;
    }
  }
  return out;
}

function valueText(value: unknown, spelling: Spelling): string {
  if (value instanceof RawJson) return value.text;
  const json = JSON.stringify(value) ?? 'null';
  return spelling.escapeLetters && typeof value === 'string' ? escapeLetters(json) : json;
}

function nameText(name: string, spelling: Spelling): string {
  const json = JSON.stringify(name);
  return spelling.escapeLetters ? escapeLetters(json) : json;
}

/** The JSON text of `document` in `spelling`; `duplicate` says whether a member name occurs twice. */
export function spell(document: Document, spelling: Spelling): { text: string; duplicate: boolean } {
  let members = [...document];
  if (spelling.order === 'reverse') members.reverse();
  if (spelling.order === 'sorted') members = members.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (spelling.extra !== undefined) members.push(spelling.extra);
  const names = members.map(([name]) => name);
  const { space } = spelling;
  const body = members
    .map(([name, value]) => `${nameText(name, spelling)}:${space}${valueText(value, spelling)}`)
    .join(`,${space}`);
  const text = `${spelling.bom ? '\uFEFF' : ''}{${space}${body}${space}}`;
  return { text, duplicate: new Set(names).size !== names.length };
}
