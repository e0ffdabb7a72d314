// chart-testing's `ct lint` on both charts, with the ct that scripts/cluster/tools/chart-testing pins
// and its own etc/lintconf.yaml and etc/chart_schema.yaml. Two of its default steps cannot run on
// this machine and are replaced here: the Chart.yaml schema check needs yamale, a Python tool from
// PyPI (chartSchemaProblems below checks the same schema), and the maintainer check asks GitHub.
// `helm lint --strict` runs once per ci/*-values.yaml, as ct lints and installs once per such file.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYAML } from 'yaml';

import { bin, repoRoot, toolsDir } from '../../scripts/cluster/paths.js';
import { HELM, chartDir, helm, render, type ChartName } from './render.js';

const charts: ChartName[] = ['rainbow-app', 'rainbow-system'];
const ciFiles = (chart: ChartName): string[] => {
  const dir = path.join(chartDir(chart), 'ci');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('-values.yaml')).map((f) => path.join(dir, f)) : [];
};

const CT = bin('ct');

describe('ct lint', () => {
  it('passes on both charts (every ci/*-values.yaml), with chart-testing\'s own yamllint rules', () => {
    if (!existsSync(CT)) throw new Error(`ct not found at ${CT}: run scripts/local-cluster build (npm test does)`);
    const ctDir = execFileSync('go', ['list', '-m', '-f', '{{.Dir}}', 'github.com/helm/chart-testing/v3'], { cwd: path.join(toolsDir, 'chart-testing'), encoding: 'utf8' }).trim();
    const r = spawnSync(
      CT,
      [
        'lint',
        '--charts', charts.map((c) => path.relative(repoRoot, chartDir(c))).join(','),
        '--lint-conf', path.join(ctDir, 'etc', 'lintconf.yaml'),
        '--chart-yaml-schema', path.join(ctDir, 'etc', 'chart_schema.yaml'),
        '--validate-chart-schema=false',
        '--validate-maintainers=false',
      ],
      { cwd: repoRoot, encoding: 'utf8', timeout: 120_000, env: { ...process.env, PATH: `${path.dirname(HELM)}${path.delimiter}${process.env.PATH}` } },
    );
    const out = `${r.stdout}${r.stderr}`;
    expect({ code: r.status, tail: out.trim().split('\n').slice(-3) }).toEqual({ code: 0, tail: expect.arrayContaining(['All charts linted successfully']) });
    // yamllint ran (ct fails when it is missing) and ct linted each ci file of the app chart.
    for (const f of ciFiles('rainbow-app')) expect(out).toContain(`Linting chart with values file "${path.relative(repoRoot, f)}"`);
  });
});

describe.each(charts)('%s', (chart) => {
  it('has a Chart.yaml that chart-testing\'s chart schema (etc/chart_schema.yaml) accepts, with home, sources and maintainers', () => {
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

