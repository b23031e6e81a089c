import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemTool } from '../../test-support/system-tool.js';
import { alertRules, githubAnchors } from './support/files.js';

const dir = resolve(import.meta.dirname, '../prometheus');
const RULES = join(dir, 's2s-alerts.rules.yml');
const TESTS = join(dir, 's2s-alerts.test.yml');
const README = resolve(import.meta.dirname, '../../README.md');
/** The four counters an OpenTelemetry Prometheus exporter renames (it appends `_total`). */
const OTEL_RENAMED = /\b(s2s_auth_(success|401|403|503))\b/g;
const isComment = (line: string) => /^\s*#/.test(line);
const comments = (rules: string) => rules.split('\n').filter(isComment);
const code = (rules: string) =>
  rules
    .split('\n')
    .filter((line) => !isComment(line))
    .join('\n');
/** The header line naming the metric names a rules file is written for (the sed rewrites it). */
const namesLine = (rules: string) =>
  comments(rules).find((line) => line.startsWith('# Metric names in this file:'));
const promtool = systemTool('promtool', ['--version'], 'Debian: apt-get install -y prometheus');

describe.skipIf(promtool === undefined)('promtool', () => {
  it('check rules: the rule file is valid PromQL and YAML', () => {
    const out = execFileSync(promtool!, ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('test rules: each alert fires on its series and stays quiet on normal traffic', () => {
    const run = spawnSync(promtool!, ['test', 'rules', TESTS], { cwd: dir, encoding: 'utf8' });
    expect(run.stdout + run.stderr).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });

  it("test rules, OTel names: README's sed copy passes the same tests on series named *_total", () => {
    const command = /^sed -E .* > s2s-alerts\.otel\.rules\.yml$/m.exec(readFileSync(README, 'utf8'))?.[0];
    expect(command, 'README "Alerts": the sed command for an otel Core').toBeDefined();
    const work = mkdtempSync(join(tmpdir(), 's2s-otel-rules-'));
    try {
      mkdirSync(join(work, 'ops/prometheus'), { recursive: true });
      copyFileSync(RULES, join(work, 'ops/prometheus/s2s-alerts.rules.yml'));
      execFileSync('bash', ['-euo', 'pipefail', '-c', command!], { cwd: work });
      const renamed = readFileSync(join(work, 's2s-alerts.otel.rules.yml'), 'utf8');
      expect(renamed).toContain('rate(s2s_auth_503_total[');
      expect(code(renamed).match(OTEL_RENAMED)).toBeNull();
      // The header says which names the file holds: true for each copy, and the sed changes no other comment.
      const shipped = readFileSync(RULES, 'utf8');
      expect(namesLine(shipped)).toMatch(/prom-client sink.*MET1/);
      expect(namesLine(renamed)).toMatch(/OpenTelemetry Prometheus exporter.*_total.*MET2/);
      expect(comments(renamed).filter((line) => line !== namesLine(renamed))).toEqual(
        comments(shipped).filter((line) => line !== namesLine(shipped)),
      );
      const tests = readFileSync(TESTS, 'utf8')
        .replace(OTEL_RENAMED, '$1_total')
        .replace('- s2s-alerts.rules.yml', '- s2s-alerts.otel.rules.yml');
      writeFileSync(join(work, 'otel.test.yml'), tests);
      const run = spawnSync(promtool!, ['test', 'rules', 'otel.test.yml'], { cwd: work, encoding: 'utf8' });
      expect(run.stdout + run.stderr).toContain('SUCCESS');
      expect(run.status).toBe(0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('alert rules', () => {
  const rules = alertRules(readFileSync(RULES, 'utf8'));

  it('cover the contract alert conditions, a mismatched signer, failing closed, JWKS fetch failures, a failing and a missing purge', () => {
    const exprs = rules.map((rule) => rule.expr).join('\n');
    expect(exprs).toContain('reason="replayed_token"');
    expect(exprs).toContain('reason="unknown_kid"');
    expect(exprs).toContain('reason=~"invalid_signature|invalid_audience|invalid_issuer"');
    expect(exprs).toContain('s2s_auth_403');
    expect(exprs).toContain('s2s_auth_success');
    expect(exprs).toContain('s2s_auth_503');
    expect(exprs).toContain('s2s_jwks_fetch_failures_total');
    expect(exprs).toContain('s2s_replay_purge_runs_total{result="error"}');
    expect(exprs).toContain('increase(s2s_replay_purge_runs_total[30m])');
  });

  it('each carry summary, description and a runbook_url that names a README section', () => {
    const anchors = githubAnchors(readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8'));
    expect(rules.length).toBeGreaterThanOrEqual(6);
    for (const rule of rules) {
      expect(rule.annotations.summary, rule.alert).toBeTruthy();
      expect(rule.annotations.description, rule.alert).toBeTruthy();
      const [file, anchor] = (rule.annotations.runbook_url ?? '').split('#');
      expect(file, rule.alert).toBe('README.md');
      expect(anchors, rule.alert).toContain(anchor);
    }
  });

  it('are all tested by the promtool test file', () => {
    const tests = readFileSync(TESTS, 'utf8');
    for (const rule of rules)
      expect(tests).toMatch(new RegExp(`alertname: ${rule.alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
  });
});
