import { describe, expect, it } from 'vitest';
import { formatTable, makeReport } from '../src/report.js';

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
