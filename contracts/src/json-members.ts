const BACKSLASH = 92;
const COLON = 58;

/**
 * For the for-in walks below: V8's optimizing compiler folds hasOwnProperty.call on the for-in key into
 * the loop's own map check, where Object.hasOwn stays a builtin call per member (a walk of a claims set
 * costs three times as much). Both answer the same: a polluted prototype's members are never counted.
 */
const ownMember = Object.prototype.hasOwnProperty;

/** Whether the quote at `at` is escaped: preceded by an odd run of backslashes. */
function escaped(text: string, at: number): boolean {
  let backslashes = 0;
  for (let i = at - 1; text.charCodeAt(i) === BACKSLASH; i--) backslashes++;
  return backslashes % 2 === 1;
}

/** JSON's insignificant whitespace (RFC 8259 §2). */
const isWhitespace = (code: number): boolean => code === 32 || code === 10 || code === 13 || code === 9;

/**
 * Number of object members written in a JSON text: every member name is a string followed (after
 * whitespace) by the name separator `:`, and no other string is. Only meaningful for text JSON.parse
 * accepted. Jumps from quote to quote with indexOf, one call per quote: the cursor only moves forward,
 * so the work is linear in the text whatever its shape.
 */
export function countMembers(text: string): number {
  let count = 0;
  for (let open = text.indexOf('"'); open !== -1; open = text.indexOf('"', open + 1)) {
    let close = text.indexOf('"', open + 1);
    while (close !== -1 && escaped(text, close)) close = text.indexOf('"', close + 1);
    if (close === -1) break;
    let next = close + 1;
    while (isWhitespace(text.charCodeAt(next))) next++;
    if (text.charCodeAt(next) === COLON) count++;
    open = close;
  }
  return count;
}

/**
 * Number of own members across every object nested in a parsed JSON value. Iterative (no deep
 * recursion), and allocation-free for the usual flat claims set.
 */
export function parsedMemberCount(root: object): number {
  let count = 0;
  // Only containers are walked: the root and the members that are objects or arrays.
  let pending: object[] | undefined;
  for (let value: object | undefined = root; value !== undefined; value = pending?.pop()) {
    const array = Array.isArray(value);
    for (const key in value) {
      if (!ownMember.call(value, key)) continue;
      if (!array) count++;
      const item = (value as Record<string, unknown>)[key];
      if (typeof item !== 'object' || item === null) continue;
      if (pending === undefined) pending = [item];
      else pending.push(item);
    }
  }
  return count;
}

/**
 * Whether every number in a parsed JSON value is finite. JSON.parse turns a literal that overflows a
 * double (1e400, or 400 digits) into Infinity where serde refuses the text; the contract follows serde
 * (SPEC.md J6). Iterative, allocation-free for a flat claims set.
 */
export function allNumbersFinite(root: object): boolean {
  let pending: object[] | undefined;
  for (let value: object | undefined = root; value !== undefined; value = pending?.pop()) {
    for (const key in value) {
      if (!ownMember.call(value, key)) continue;
      const item = (value as Record<string, unknown>)[key];
      if (typeof item === 'number') {
        if (!Number.isFinite(item)) return false;
      } else if (typeof item === 'object' && item !== null) {
        if (pending === undefined) pending = [item];
        else pending.push(item);
      }
    }
  }
  return true;
}

/** Whether `text` holds at least `count` of `{` and `[` (inside strings too: a cheap upper bound). */
export function openingBrackets(text: string, count: number): boolean {
  let found = 0;
  for (const bracket of ['{', '[']) {
    for (let at = text.indexOf(bracket); at !== -1; at = text.indexOf(bracket, at + 1)) {
      if (++found >= count) return true;
    }
  }
  return false;
}

/**
 * Whether objects and arrays in a parsed JSON value nest at most `max` deep, the root counting as 1.
 * Iterative: the depth being checked is the one a recursive walk could not survive.
 */
export function nestedWithin(root: object, max: number): boolean {
  const pending: [object, number][] = [[root, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [value, depth] = next;
    if (depth > max) return false;
    for (const key in value) {
      if (!ownMember.call(value, key)) continue;
      const item = (value as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) pending.push([item, depth + 1]);
    }
  }
  return true;
}

/**
 * Whether every string in a parsed JSON value, member names included, is well-formed UTF-16: a lone
 * surrogate can only come from a `\u` escape (strict UTF-8 refuses raw ones), which JSON.parse accepts
 * and serde refuses (SPEC.md J4).
 */
export function allStringsWellFormed(root: object): boolean {
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
