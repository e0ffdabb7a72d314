// Shared by the monitoring tests (test/chart/rainbow-system-monitoring.test.ts, test/e2e/prometheus.test.ts):
// the PrometheusRule as the chart renders it, as a Prometheus rule file, and the metric names the
// code exports, read from its sources.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';

import { repoRoot } from '../../scripts/cluster/paths.js';
import type { K8sObject, Rendered } from './render.js';

export interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}
export interface PrometheusRule extends K8sObject {
  spec: { groups: RuleGroup[] };
}

/** The one PrometheusRule of a render. */
export const prometheusRule = (r: Rendered): PrometheusRule => r.get<PrometheusRule>('PrometheusRule');

/** The rendered PrometheusRule's groups as a Prometheus rule file; `annotations: false` drops them. */
export function ruleFile(r: Rendered, opts: { annotations?: boolean } = {}): string {
  const groups = prometheusRule(r).spec.groups.map((g) => ({
    ...g,
    rules: g.rules.map((x) => {
      if (opts.annotations !== false) return x;
      const { annotations: _dropped, ...rest } = x;
      return rest;
    }),
  }));
  return stringify({ groups });
}

/** Every metric name webhook/src defines (prom-client `name: 'rainbow_…'`), with a histogram's series. */
export function exportedMetrics(dir = path.join(repoRoot, 'webhook', 'src')): Set<string> {
  const names = new Set<string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const text = readFileSync(path.join(entry.parentPath, entry.name), 'utf8');
    for (const m of text.matchAll(/new (Counter|Gauge|Histogram|Summary)\(\{\s*name: '(rainbow_[a-z0-9_]+)'/g)) {
      names.add(m[2]!);
      if (m[1] === 'Histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${m[2]}${s}`);
    }
  }
  return names;
}

/** The rainbow_ metric names a PromQL expression reads. */
export const metricsIn = (expr: string): string[] => [...expr.matchAll(/\brainbow_[a-z0-9_]+/g)].map((m) => m[0]);

/** What `exprs` read that `exported` lacks. */
export const unknownMetrics = (exprs: readonly string[], exported: ReadonlySet<string>): string[] => [...new Set(exprs.flatMap(metricsIn).filter((m) => !exported.has(m)))];
