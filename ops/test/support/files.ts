/** Readers for the operator files, enough for our own rule file and dashboard (not general parsers). */

export interface AlertRule {
  alert: string;
  expr: string;
  annotations: Record<string, string>;
}

const unquote = (value: string) => value.trim().replace(/^'(.*)'$/, '$1');

/** The alerting rules of ops/prometheus/s2s-alerts.rules.yml (one `key: value` per line). */
export function alertRules(yaml: string): AlertRule[] {
  return yaml
    .split(/^\s+- alert: /m)
    .slice(1)
    .map((block) => {
      const [name, ...lines] = block.split('\n');
      const rule: AlertRule = { alert: name!.trim(), expr: '', annotations: {} };
      let inAnnotations = false;
      for (const line of lines) {
        const field = /^\s+([a-z_]+): ?(.*)$/.exec(line);
        if (!field) continue;
        const [, key, value] = field as unknown as [string, string, string];
        if (key === 'expr') rule.expr = unquote(value);
        else if (key === 'annotations') inAnnotations = true;
        else if (key === 'labels') inAnnotations = false;
        else if (inAnnotations) rule.annotations[key] = unquote(value);
      }
      return rule;
    });
}

/** GitHub's heading anchors of a Markdown document. */
export function githubAnchors(markdown: string): string[] {
  return [...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
    m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-'),
  );
}

const PROMQL_WORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects: identifiers left after removing strings, label
 * matchers, grouping clauses, range/offset durations, function calls, keywords and numbers.
 */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\boffset\s+\S+/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    const [, ident, call] = m as unknown as [string, string, string | undefined];
    if (call || PROMQL_WORDS.has(ident.toLowerCase()) || /^\d/.test(ident)) continue;
    names.add(ident);
  }
  return [...names];
}
