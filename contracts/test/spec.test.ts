import { describe, expect, it } from 'vitest';
import { loadVectors, parseSpecRules } from '../src/index.js';

const file = loadVectors();
const rules = parseSpecRules();
const ids = new Set([...file.vectors.map((v) => v.id), ...file.sequences.map((s) => s.id)]);

describe('SPEC.md', () => {
  it('has the rules of every stage, in evaluation order', () => {
    const stages = [...new Set(rules.map((rule) => rule.id[0]))].join('');
    expect(stages).toBe('TJHKSCPRZA');
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
  });

  it.each(rules.map((rule) => [rule.id, rule] as const))('%s lists at least one vector', (_id, rule) => {
    expect(rule.vectors.length).toBeGreaterThan(0);
  });

  it.each(rules.map((rule) => [rule.id, rule] as const))('%s lists only ids that exist', (_id, rule) => {
    expect(rule.vectors.filter((id) => !ids.has(id))).toEqual([]);
  });

  it('vector and sequence ids share one namespace', () => {
    expect(ids.size).toBe(file.vectors.length + file.sequences.length);
  });

  it('the parser sees a rule without vectors and an unknown id', () => {
    const parsed = parseSpecRules(
      '### X1. a\n\nVectors: `nope`\n\n### X2. b\n\ntext\n## Other\nVectors: `x`\n',
    );
    expect(parsed).toEqual([
      { id: 'X1', title: 'a', vectors: ['nope'] },
      { id: 'X2', title: 'b', vectors: [] },
    ]);
  });
});
