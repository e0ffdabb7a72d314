// What chart-testing's `ct lint` checks beyond `helm lint`, run here without ct (its Go module
// cannot be built on this machine): yamllint with ct's rules on Chart.yaml, values.yaml and
// ci/*.yaml; Chart.yaml against ct's chart schema (etc/chart_schema.yaml, a yamale schema, written
// out below); and `helm lint --strict` once per ci/*-values.yaml, as ct lints (and `ct install`
// installs) a chart once per such file. ct's maintainer check (each maintainer name a GitHub
// account, --validate-maintainers) needs GitHub and is not run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYAML } from 'yaml';

import { repoRoot } from '../../scripts/cluster/paths.js';
import { chartDir, helm, render, type ChartName } from './render.js';

const charts: ChartName[] = ['rainbow-app', 'rainbow-system'];
const LINTCONF = path.join(repoRoot, 'test', 'chart', 'ct-lintconf.yaml');
const ciFiles = (chart: ChartName): string[] => {
  const dir = path.join(chartDir(chart), 'ci');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('-values.yaml')).map((f) => path.join(dir, f)) : [];
};
const yamlFiles = (chart: ChartName) => [path.join(chartDir(chart), 'Chart.yaml'), path.join(chartDir(chart), 'values.yaml'), ...ciFiles(chart)];

const yamllint = spawnSync('yamllint', ['--version'], { encoding: 'utf8' });
const haveYamllint = yamllint.status === 0;
// Without yamllint the check is reported as skipped, never as passed.
const itWithYamllint = haveYamllint ? it : it.skip;
const yamllintTitle = haveYamllint ? `passes yamllint (${yamllint.stdout.trim()}) with chart-testing's rules` : 'passes yamllint with chart-testing\'s rules — SKIPPED: yamllint is not installed (apt-get install -y yamllint)';

describe.each(charts)('%s', (chart) => {
  itWithYamllint(yamllintTitle, () => {
    const r = spawnSync('yamllint', ['--format', 'parsable', '--config-file', LINTCONF, ...yamlFiles(chart)], { encoding: 'utf8' });
    // Warnings (truthy) count too: ct prints them, and this chart has none.
    expect({ code: r.status, out: (r.stdout + r.stderr).trim() }).toEqual({ code: 0, out: '' });
  });

  it('has a Chart.yaml that chart-testing\'s chart schema accepts, with home, sources and maintainers', () => {
    const chartYaml = parseYAML(readFileSync(path.join(chartDir(chart), 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
    expect(chartSchemaProblems(chartYaml)).toEqual([]);
    expect(chartYaml).toMatchObject({ home: expect.stringMatching(/^https:\/\//), sources: [expect.stringMatching(/^https:\/\//)], maintainers: [{ name: expect.any(String) }] });
  });

  if (chart === 'rainbow-app') {
    it('has ci/default-values.yaml with a color, so that ct lint and ct install can run the chart', () => {
      expect(ciFiles(chart).map((f) => path.basename(f))).toContain('default-values.yaml');
      const values = parseYAML(readFileSync(path.join(chartDir(chart), 'ci', 'default-values.yaml'), 'utf8')) as { color?: unknown };
      expect(values.color).toMatch(/^[0-9a-f]{6}$/);
    });
  }

  // Without ci files ct lints the chart once, with its defaults.
  const cases: Array<[string, string | undefined]> = ciFiles(chart).length > 0 ? ciFiles(chart).map((f) => [`ci/${path.basename(f)}`, f]) : [['its default values', undefined]];
  it.each(cases)('passes helm lint --strict and renders with %s', async (_name, file) => {
    const values = file ? ['-f', file] : [];
    const r = await helm(['lint', '--strict', chartDir(chart), ...values]);
    expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(r.code).toBe(0);
    const rendered = await render(chart, { args: values });
    // A ci file that renders no workload would have ct install an empty release.
    expect(rendered.objects.filter((o) => o.kind === 'Deployment').length).toBeGreaterThanOrEqual(1);
  });
});

/**
 * chart-testing's etc/chart_schema.yaml (yamale, strict: no other keys), as code: the problems of
 * a parsed Chart.yaml, [] when it passes.
 */
function chartSchemaProblems(c: Record<string, unknown>): string[] {
  const str = (v: unknown) => typeof v === 'string';
  const strList = (v: unknown) => Array.isArray(v) && v.every(str);
  const fields: Record<string, { required: boolean; ok: (v: unknown) => boolean }> = {
    name: { required: true, ok: str },
    home: { required: true, ok: str },
    version: { required: true, ok: str },
    apiVersion: { required: true, ok: str },
    appVersion: { required: false, ok: (v) => str(v) || typeof v === 'number' },
    description: { required: true, ok: str },
    keywords: { required: false, ok: strList },
    sources: { required: false, ok: strList },
    maintainers: {
      required: false,
      ok: (v) =>
        Array.isArray(v) &&
        v.every((m: Record<string, unknown>) => str(m.name) && (m.email === undefined || str(m.email)) && (m.url === undefined || str(m.url)) && Object.keys(m).every((k) => ['name', 'email', 'url'].includes(k))),
    },
    icon: { required: false, ok: str },
    engine: { required: false, ok: str },
    condition: { required: false, ok: str },
    tags: { required: false, ok: str },
    deprecated: { required: false, ok: (v) => typeof v === 'boolean' },
    kubeVersion: { required: false, ok: str },
    annotations: { required: false, ok: (v) => typeof v === 'object' && v !== null && Object.values(v).every(str) },
    type: { required: false, ok: str },
    dependencies: { required: false, ok: Array.isArray },
  };
  const problems: string[] = [];
  for (const [key, f] of Object.entries(fields)) {
    if (!(key in c)) {
      if (f.required) problems.push(`${key}: required`);
    } else if (!f.ok(c[key])) problems.push(`${key}: wrong type`);
  }
  for (const key of Object.keys(c)) if (!(key in fields)) problems.push(`${key}: not in the schema`);
  return problems;
}

