import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_JWKS_CACHE_MAX_AGE_MS,
  LATENCY_BUCKETS_SECONDS,
  loadVectors,
  MAX_KID_LENGTH,
  MIN_JWKS_COOLDOWN_MS,
  MIN_RSA_MODULUS_BITS,
  metricsOf,
  PRIVATE_JWK_MEMBERS,
  parseSpecRules,
  SPEC_PATH,
} from '../src/index.js';

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

describe('SPEC.md rules around token evaluation (not pinned by vectors)', () => {
  const text = readFileSync(SPEC_PATH, 'utf8');
  const ids = [...text.matchAll(/^### ([A-Z]{2,}\d+)\. /gm)].map((m) => m[1]!);

  it('have unique ids the token-rule parser skips', () => {
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
    const tokenRules = new Set(rules.map((rule) => rule.id));
    expect(ids.filter((id) => tokenRules.has(id))).toEqual([]);
  });

  it('state the contract numbers they name', () => {
    const flat = text.replace(/\s+/g, ' ');
    expect(flat).toContain(`${MIN_RSA_MODULUS_BITS} bits (\`MIN_RSA_MODULUS_BITS\`)`);
    expect(flat).toContain(`${MAX_KID_LENGTH} (\`MAX_KID_LENGTH\`) UTF-8 bytes`);
    expect(flat).toContain(`${DEFAULT_JWKS_CACHE_MAX_AGE_MS} ms (\`DEFAULT_JWKS_CACHE_MAX_AGE_MS\`)`);
    expect(flat).toContain(`${MIN_JWKS_COOLDOWN_MS} (\`MIN_JWKS_COOLDOWN_MS\`)`);
    expect(flat).toContain(
      `${PRIVATE_JWK_MEMBERS.map((m) => `\`${m}\``).join(', ')} (\`PRIVATE_JWK_MEMBERS\`)`,
    );
    expect(flat).toContain(`(${LATENCY_BUCKETS_SECONDS.join(', ')})`);
  });

  it('list every verifier metric with its type and labels (MET1), and nothing else', () => {
    const rows = [...text.matchAll(/^\| `(s2s_[a-z0-9_]+)` \| (\w+) \| ([^|]+) \|/gm)].map((m) => [
      m[1]!,
      m[2]!,
      m[3]!.trim() === 'none' ? [] : [...m[3]!.matchAll(/`([^`]+)`/g)].map((l) => l[1]!),
    ]);
    expect(rows).toEqual(metricsOf('verifier').map(([name, spec]) => [name, spec.kind, [...spec.labels]]));
  });
});
