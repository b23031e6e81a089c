import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { METRICS } from '@hyper/s2s-contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportedSeriesNames } from './support/exported-metrics.js';
import { alertRules, promqlMetricNames } from './support/files.js';

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

const dashboard = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../grafana/s2s-auth.json'), 'utf8'),
) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; definition?: string }[] };
};
const rules = alertRules(
  readFileSync(resolve(import.meta.dirname, '../prometheus/s2s-alerts.rules.yml'), 'utf8'),
);

const flat = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...flat(p.panels ?? [])]);
const queries = flat(dashboard.panels).flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })),
);
const base = (series: string) => series.replace(/_(bucket|sum|count)$/, '');

let exported: Set<string>;
beforeAll(async () => {
  exported = await exportedSeriesNames();
});

describe('Grafana dashboard ops/grafana/s2s-auth.json', () => {
  it('has queries, each naming at least one metric', () => {
    expect(dashboard.uid).toBeTruthy();
    expect(queries.length).toBeGreaterThan(10);
    for (const q of queries) expect(promqlMetricNames(q.expr), q.panel).not.toEqual([]);
  });

  it('names only series the packages export (read from their prometheus sinks)', () => {
    for (const q of queries) {
      for (const name of promqlMetricNames(q.expr)) expect(exported, `${q.panel}: ${q.expr}`).toContain(name);
    }
    for (const variable of dashboard.templating.list) {
      const metric = /label_values\((\w+)/.exec(variable.definition ?? '')?.[1];
      if (metric) expect(exported).toContain(metric);
    }
  });

  it('shows every metric of the contract catalogue', () => {
    const shown = new Set(queries.flatMap((q) => promqlMetricNames(q.expr)).map(base));
    for (const name of Object.keys(METRICS)) expect(shown, name).toContain(name);
  });
});

describe('alert rules', () => {
  it('name only series the packages export', () => {
    for (const rule of rules) {
      const names = promqlMetricNames(rule.expr);
      expect(names, rule.alert).not.toEqual([]);
      for (const name of names) expect(exported, `${rule.alert}: ${rule.expr}`).toContain(name);
    }
  });
});

describe('promqlMetricNames', () => {
  it('finds the metrics and nothing else', () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.99, sum by (le, path) (rate(a_bucket{path=~"$path",x="y z"}[$__rate_interval]))) / on (path) b offset 1h and vector(0)',
      ).sort(),
    ).toEqual(['a_bucket', 'b']);
  });
});
