const SPACE = 32;

/** Whether `token` is one of the space-separated scope-tokens of `granted` (exact, case-sensitive). */
function grants(granted: string, token: string): boolean {
  let at = granted.indexOf(token);
  while (at !== -1) {
    const end = at + token.length;
    if (
      (at === 0 || granted.charCodeAt(at - 1) === SPACE) &&
      (end === granted.length || granted.charCodeAt(end) === SPACE)
    ) {
      return true;
    }
    at = granted.indexOf(token, at + 1);
  }
  return false;
}

/** Every required scope must be granted; a prefix or a case variant is not the scope. */
export function grantsAll(granted: string, required: readonly string[]): boolean {
  for (const token of required) if (!grants(granted, token)) return false;
  return true;
}
