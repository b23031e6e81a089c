import { describe, expect, it } from 'vitest';
import { formatTable, MAX_CELL_WIDTH, makeReport } from '../src/report.js';

describe('the text report', () => {
  it('names each not-applicable vector and why beside the checks, and counts it in the summary', () => {
    const report = makeReport(
      'core',
      [
        {
          name: 'vector expired',
          rule: 'C3',
          expected: '401 expired_signature',
          got: '401 expired_signature',
          ok: true,
        },
      ],
      [{ name: 'vector es256-valid', why: 'needs ES256 in the allow-list' }],
    );
    const text = formatTable(report);
    expect(text).toContain('n/a   vector es256-valid: needs ES256 in the allow-list');
    expect(text).toContain('core: 1 passed, 0 failed, 1 not applicable -> CONFORMS');
  });
});

describe('the text table with a cell longer than its column', () => {
  const longGot =
    'the claims: a member name appears twice in one object (SPEC.md J5), and more words after it';
  const unbroken = `x${'y'.repeat(MAX_CELL_WIDTH + 9)}`;
  const report = makeReport('lite', [
    { name: 'token 1', rule: 'T3 T4 J1-J8', expected: 'strict JSON', got: longGot, ok: false },
    { name: unbroken, rule: 'C1', expected: '200 ok', got: '200 ok', ok: true },
  ]);
  const lines = formatTable(report).split('\n');
  const header = lines[0]!;
  const gotColumn = header.indexOf('got');
  const tableLines = lines.slice(2, lines.indexOf(''));

  it('keeps every line within the columns, so the cells after a long one stay aligned', () => {
    expect(tableLines.length).toBeGreaterThan(report.checks.length);
    for (const text of tableLines) expect(text.length).toBeLessThanOrEqual(gotColumn + MAX_CELL_WIDTH);
    const passLine = tableLines.find((text) => text.startsWith('PASS'))!;
    expect(passLine.indexOf('C1')).toBe(header.indexOf('rule'));
    expect(passLine.indexOf('200 ok')).toBe(header.indexOf('expected'));
  });

  it('wraps at spaces where it can and loses no character', () => {
    const failLines = tableLines.slice(
      0,
      tableLines.findIndex((text) => text.startsWith('PASS')),
    );
    expect(failLines[0]!.startsWith('FAIL')).toBe(true);
    const gotParts = failLines.map((text) => text.slice(gotColumn).trim());
    expect(gotParts.join(' ')).toBe(longGot);
    const nameColumn = header.indexOf('check');
    const nameParts = tableLines
      .slice(failLines.length)
      .map((text) => text.slice(nameColumn, header.indexOf('rule')).trim());
    expect(nameParts.join('')).toBe(unbroken);
  });
});
