import { writeFileSync } from 'node:fs';

export interface CheckResult {
  /** e.g. "vector expired", "replay valid-spaces-create", "concurrency". */
  readonly name: string;
  /** SPEC.md rule ids the check exercises ("" when none). */
  readonly rule: string;
  readonly expected: string;
  readonly got: string;
  readonly ok: boolean;
}

export interface Report {
  readonly kind: 'core' | 'lite';
  readonly checks: readonly CheckResult[];
  /** Vectors not applicable to a black-box run, with why (never failures). */
  readonly skipped: readonly { readonly name: string; readonly why: string }[];
  readonly ok: boolean;
}

export function makeReport(
  kind: Report['kind'],
  checks: CheckResult[],
  skipped: Report['skipped'] = [],
): Report {
  return { kind, checks, skipped, ok: checks.length > 0 && checks.every((c) => c.ok) };
}

/** Widest a column of the text table grows; a longer cell wraps onto continuation lines. */
export const MAX_CELL_WIDTH = 60;

/**
 * `text` cut into lines of at most `width` characters, at the last space that fits where there is one
 * (a reason such as `the claims: … (SPEC.md J5)` stays readable), else mid-word.
 */
function wrapCell(text: string, width: number): string[] {
  const lines: string[] = [];
  let rest = text;
  while (rest.length > width) {
    const space = rest.lastIndexOf(' ', width);
    const cut = space > 0 ? space : width;
    lines.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(space > 0 ? cut + 1 : cut);
  }
  lines.push(rest);
  return lines;
}

/**
 * A plain-text table, failures first, then a summary line. A cell longer than MAX_CELL_WIDTH wraps
 * within its column, so the columns after it stay aligned.
 */
export function formatTable(report: Report): string {
  const rows = [...report.checks].sort((a, b) => Number(a.ok) - Number(b.ok));
  const head = ['result', 'check', 'rule', 'expected', 'got'];
  const cells = rows.map((c) => [c.ok ? 'PASS' : 'FAIL', c.name, c.rule, c.expected, c.got]);
  const widths = head.map((h, i) =>
    Math.min(MAX_CELL_WIDTH, Math.max(h.length, ...cells.map((r) => r[i]!.length))),
  );
  const line = (r: string[]) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  /** One row as its physical lines: every cell wrapped to its column, shorter ones padded below. */
  const rowLines = (r: string[]): string[] => {
    const wrapped = r.map((cell, i) => wrapCell(cell, widths[i]!));
    const height = Math.max(...wrapped.map((parts) => parts.length));
    return Array.from({ length: height }, (_, k) => line(wrapped.map((parts) => parts[k] ?? '')));
  };
  const failed = rows.filter((c) => !c.ok).length;
  return [
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.flatMap(rowLines),
    // Named here too, not only in --json: a reader sees what the run could not judge, and why.
    ...report.skipped.map((s) => `n/a   ${s.name}: ${s.why}`),
    '',
    `${report.kind}: ${rows.length - failed} passed, ${failed} failed, ${report.skipped.length} not applicable` +
      (report.ok ? ' -> CONFORMS' : ' -> DOES NOT CONFORM'),
    '',
  ].join('\n');
}

const xml = (text: string) =>
  text.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );

/** JUnit XML, one testcase per check, for CI dashboards. */
export function formatJunit(report: Report): string {
  const failures = report.checks.filter((c) => !c.ok).length;
  const cases = report.checks.map((c) => {
    const open = `    <testcase classname="hyper-s2s-conformance.${report.kind}" name="${xml(c.name)}">`;
    const failure = c.ok
      ? ''
      : `\n      <failure message="${xml(`expected ${c.expected}, got ${c.got}`)}">${xml(c.rule)}</failure>\n    `;
    return `${open}${failure}</testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites tests="${report.checks.length}" failures="${failures}">`,
    `  <testsuite name="hyper-s2s-conformance ${report.kind}" tests="${report.checks.length}" failures="${failures}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

export function writeReports(
  report: Report,
  files: { json?: string | undefined; junit?: string | undefined },
): void {
  if (files.json) writeFileSync(files.json, `${JSON.stringify(report, null, 2)}\n`);
  if (files.junit) writeFileSync(files.junit, formatJunit(report));
}
