// chart/rainbow-system's monitoring (monitoring.*): ServiceMonitors, the controller's metrics
// Service, the PrometheusRule and the Grafana dashboard, checked on what `helm template` renders;
// the rules also with promtool (check rules, and test rules on fixtures/rainbow-system-rules-test.yaml)
// when RAINBOW_PROMETHEUS_TESTS=1 (`npm run test:prometheus`).
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1ConfigMap, V1Deployment, V1Service } from '@kubernetes/client-node';

import { repoRoot } from '../../scripts/cluster/paths.js';
import { generateServingCertificate } from '../../webhook/src/webhook/tls/self-signed.js';
import { exportedMetrics, metricsIn, prometheusRule, ruleFile, unknownMetrics, type Rule } from './monitoring.js';
import { describeWithPrometheus, ensurePrometheusTools, promtool } from './prometheus-tools.js';
import { chartDir, render, renderError, type K8sObject, type Rendered } from './render.js';

const NS = 'rainbow-system';
const ON = { monitoring: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true }, grafanaDashboard: { enabled: true } } };
const MONITORING_KINDS = ['ServiceMonitor', 'PrometheusRule'];
const ALERTS = [
  'RainbowColorNearMaxDrain',
  'RainbowColorConnectionsUnknown',
  'RainbowPendingColorStuck',
  'RainbowControllerNoLeader',
  'RainbowReporterErrors',
  'RainbowWebhookErrors',
  'RainbowWebhookSlow',
  'RainbowWebhookDown',
];

interface Endpoint {
  port: string;
  scheme: string;
  path: string;
  interval?: string;
  scrapeTimeout?: string;
  honorLabels?: boolean;
  tlsConfig?: { serverName?: string; insecureSkipVerify?: boolean; ca?: { secret: { name: string; key: string } } };
}
interface ServiceMonitor extends K8sObject {
  spec: { selector: { matchLabels: Record<string, string> }; namespaceSelector: { matchNames: string[] }; endpoints: Endpoint[] };
}
const merge = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' ? merge(prev as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
};
const renderOn = (values: Record<string, unknown> = {}) => render('rainbow-system', { values: merge(ON, values) });
const monitor = (r: Rendered, name: string) => r.get<ServiceMonitor>('ServiceMonitor', name);
const rule = prometheusRule;
const alerts = (r: Rendered): Rule[] => rule(r).spec.groups.flatMap((g) => g.rules);
const alert = (r: Rendered, name: string): Rule => {
  const found = alerts(r).find((a) => a.alert === name);
  if (!found) throw new Error(`no alert ${name}; there are ${alerts(r).map((a) => a.alert).join(', ')}`);
  return found;
};
const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) => Object.entries(selector).every(([k, v]) => labels?.[k] === v);

const exported = exportedMetrics();

describe('the metric check itself', () => {
  it('finds the controller\'s and the webhook\'s metrics, a histogram with its series', () => {
    for (const m of ['rainbow_color_connections', 'rainbow_color_drain_deadline_seconds', 'rainbow_controller_leader', 'rainbow_reporter_errors_total', 'rainbow_admission_duration_seconds_bucket']) {
      expect(exported).toContain(m);
    }
  });

  it('flags a metric nothing exports', () => {
    expect(unknownMetrics(['sum(rate(rainbow_admission_requests_total[5m])) / rainbow_made_up_total'], exported)).toEqual(['rainbow_made_up_total']);
  });
});

// --- off by default -----------------------------------------------------------------------------

describe('off by default', () => {
  it('renders no ServiceMonitor, PrometheusRule, dashboard or controller Service', async () => {
    const r = await render('rainbow-system');
    expect(r.objects.filter((o) => MONITORING_KINDS.includes(o.kind) || o.kind === 'ConfigMap' || o.metadata.labels?.['app.kubernetes.io/component'] === 'monitoring')).toEqual([]);
    expect(r.all('Service').map((s) => s.metadata.name)).toEqual(['rainbow-webhook']);
  });

  it('each part is switched on by itself', async () => {
    const only = async (part: string) => (await render('rainbow-system', { set: { [`monitoring.${part}.enabled`]: true } })).names().filter((n) => !(n.startsWith('Service/rainbow-webhook') || ['Deployment', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ServiceAccount', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'PodDisruptionBudget'].includes(n.split('/')[0]!)));
    expect(await only('serviceMonitor')).toEqual(['Service/rainbow-controller', 'ServiceMonitor/rainbow-controller', 'ServiceMonitor/rainbow-webhook']);
    expect(await only('prometheusRule')).toEqual(['PrometheusRule/rainbow']);
    expect(await only('grafanaDashboard')).toEqual(['ConfigMap/rainbow-dashboard']);
  });
});

// --- ServiceMonitors ----------------------------------------------------------------------------

describe('the ServiceMonitors', () => {
  let on: Rendered;
  beforeAll(async () => {
    on = await renderOn();
  });

  it('scrape the webhook over HTTPS on its Service\'s port, checking the certificate with the CA of its TLS Secret for the Service\'s name', () => {
    const sm = monitor(on, 'rainbow-webhook');
    const svc = on.get<V1Service>('Service', 'rainbow-webhook');
    expect(on.all<V1Service>('Service').filter((s) => matches(sm.spec.selector.matchLabels, s.metadata?.labels)).map((s) => s.metadata!.name)).toEqual(['rainbow-webhook']);
    expect(sm.spec.namespaceSelector).toEqual({ matchNames: [NS] });
    expect(sm.spec.endpoints).toEqual([
      { port: 'https', scheme: 'https', path: '/metrics', interval: '30s', tlsConfig: { serverName: 'rainbow-webhook.rainbow-system.svc', ca: { secret: { name: 'rainbow-tls', key: 'ca.crt' } } } },
    ]);
    expect(svc.spec!.ports!.map((p) => p.name)).toContain(sm.spec.endpoints[0]!.port);
    // The certificate the webhook makes names the Service so.
    const args = on.get<V1Deployment>('Deployment', 'rainbow-webhook').spec!.template.spec!.containers[0]!.args!;
    expect(args[args.indexOf('--dns-names') + 1]!.split(',')).toContain(sm.spec.endpoints[0]!.tlsConfig!.serverName);
  });

  it('scrape every controller replica through a headless Service on its metrics port, keeping the apps\' namespace label', () => {
    const sm = monitor(on, 'rainbow-controller');
    const svc = on.get<V1Service>('Service', 'rainbow-controller');
    const deployment = on.get<V1Deployment>('Deployment', 'rainbow-controller');
    expect(on.all<V1Service>('Service').filter((s) => matches(sm.spec.selector.matchLabels, s.metadata?.labels)).map((s) => s.metadata!.name)).toEqual(['rainbow-controller']);
    expect(svc.spec!.clusterIP).toBe('None');
    expect(svc.spec!.selector).toEqual(deployment.spec!.selector.matchLabels);
    expect(svc.spec!.ports).toEqual([{ name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' }]);
    expect(deployment.spec!.template.spec!.containers[0]!.ports).toContainEqual({ name: 'metrics', containerPort: 9090, protocol: 'TCP' });
    expect(sm.spec.endpoints).toEqual([{ port: 'metrics', scheme: 'http', path: '/metrics', interval: '30s', honorLabels: true }]);
    expect(svc.metadata!.labels!['app.kubernetes.io/component']).toBe('controller');
  });

  it('carry monitoring.serviceMonitor.labels (for the operator\'s selector), interval and scrapeTimeout', async () => {
    const r = await renderOn({ monitoring: { serviceMonitor: { labels: { release: 'kube-prometheus-stack' }, interval: '15s', scrapeTimeout: '5s' } } });
    for (const name of ['rainbow-webhook', 'rainbow-controller']) {
      const sm = monitor(r, name);
      expect(sm.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack', 'app.kubernetes.io/component': 'monitoring', 'app.kubernetes.io/instance': 'rainbow' });
      expect(sm.spec.endpoints[0]).toMatchObject({ interval: '15s', scrapeTimeout: '5s' });
    }
    const none = await renderOn({ monitoring: { serviceMonitor: { interval: '' } } });
    expect(monitor(none, 'rainbow-webhook').spec.endpoints[0]!.interval).toBeUndefined();
  });

  it('take the CA from monitoring.serviceMonitor.webhook.caSecret or tls.existingSecret, or skip the check', async () => {
    const own = await renderOn({ monitoring: { serviceMonitor: { webhook: { caSecret: { name: 'webhook-ca', key: 'root.pem' } } } } });
    expect(monitor(own, 'rainbow-webhook').spec.endpoints[0]!.tlsConfig!.ca).toEqual({ secret: { name: 'webhook-ca', key: 'root.pem' } });
    const existing = await renderOn({ tls: { existingSecret: 'from-cert-manager', caBundle: '' }, webhookConfigurationAnnotations: { 'cert-manager.io/inject-ca-from': 'rainbow-system/x' } });
    expect(monitor(existing, 'rainbow-webhook').spec.endpoints[0]!.tlsConfig!.ca).toEqual({ secret: { name: 'from-cert-manager', key: 'ca.crt' } });
    const skip = await renderOn({ monitoring: { serviceMonitor: { webhook: { insecureSkipVerify: true } } } });
    expect(monitor(skip, 'rainbow-webhook').spec.endpoints[0]!.tlsConfig).toEqual({ insecureSkipVerify: true });
  });

  it('follow controller.metricsPort, and leave out what the chart does not run', async () => {
    const port = await renderOn({ controller: { metricsPort: 9191 } });
    expect(port.get<V1Service>('Service', 'rainbow-controller').spec!.ports![0]).toMatchObject({ port: 9191, targetPort: 'metrics' });
    const noController = await renderOn({ controller: { enabled: false } });
    expect(noController.names().filter((n) => n.includes('rainbow-controller'))).toEqual([]);
    expect(noController.has('ServiceMonitor', 'rainbow-webhook')).toBe(true);
    const { caCert } = await generateServingCertificate({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const outside = await renderOn({ webhook: { url: 'https://127.0.0.1:8443', caBundle: caCert } });
    expect(outside.all('ServiceMonitor').map((o) => o.metadata.name)).toEqual(['rainbow-controller']);
  });

  it('the schema refuses a scrape interval that is not a Prometheus duration', async () => {
    expect(await renderError('rainbow-system', { set: { 'monitoring.serviceMonitor.interval': '30 seconds' } })).toMatch(/monitoring\/serviceMonitor\/interval/);
  });
});

// --- the PrometheusRule -------------------------------------------------------------------------

describe('the PrometheusRule', () => {
  let on: Rendered;
  beforeAll(async () => {
    on = await renderOn();
  });

  it('has every alert in a controller and a webhook group, with monitoring.prometheusRule.labels', async () => {
    const pr = rule(on);
    expect(pr.metadata).toMatchObject({ name: 'rainbow', namespace: NS, labels: { 'app.kubernetes.io/component': 'monitoring' } });
    expect(pr.spec.groups.map((g) => g.name)).toEqual(['rainbow-controller', 'rainbow-webhook']);
    expect(alerts(on).map((a) => a.alert)).toEqual(ALERTS);
    const labelled = await renderOn({ monitoring: { prometheusRule: { labels: { release: 'kube-prometheus-stack' }, interval: '30s' } } });
    expect(rule(labelled).metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    expect(rule(labelled).spec.groups.map((g) => g.interval)).toEqual(['30s', '30s']);
    expect(pr.spec.groups.map((g) => g.interval)).toEqual([undefined, undefined]);
  });

  it('gives every alert a severity, a summary, a description and a runbook hint', () => {
    for (const a of alerts(on)) {
      expect(a.labels.severity).toMatch(/^(warning|critical)$/);
      for (const key of ['summary', 'description', 'runbook']) expect([a.alert, key, a.annotations[key]?.length ?? 0]).toEqual([a.alert, key, expect.any(Number)]);
      expect(Object.keys(a.annotations).sort()).toEqual(['description', 'runbook', 'summary']);
      for (const text of Object.values(a.annotations)) expect(text.trim().length).toBeGreaterThan(20);
    }
  });

  it('reads only metrics the code exports (and Prometheus\' own up)', () => {
    for (const a of alerts(on)) {
      expect([a.alert, unknownMetrics([a.expr], exported)]).toEqual([a.alert, []]);
      expect(metricsIn(a.expr).length + (a.expr.includes('up{') ? 1 : 0)).toBeGreaterThan(0);
    }
  });

  it('takes thresholds, for and severity from the values', async () => {
    expect(alert(on, 'RainbowColorNearMaxDrain')).toMatchObject({ for: '5m', expr: expect.stringContaining('< 3600') });
    expect(alert(on, 'RainbowWebhookSlow').expr).toMatch(/histogram_quantile\(0\.99, .*\[5m\]\)\)\)\s+> 2\.5/s);
    const r = await renderOn({
      monitoring: {
        prometheusRule: {
          alerts: {
            nearMaxDrain: { before: '30m', for: '1m', severity: 'page' },
            reporterErrors: { perSecond: 0.5, window: '10m' },
            webhookErrors: { ratio: 0.2, window: '2m' },
            webhookLatency: { seconds: 1, for: '0s' },
            pendingStuck: { for: '2h' },
          },
        },
      },
    });
    expect(alert(r, 'RainbowColorNearMaxDrain')).toMatchObject({ for: '1m', labels: { severity: 'page' }, expr: expect.stringContaining('< 1800') });
    expect(alert(r, 'RainbowReporterErrors').expr).toContain('sum by (reason) (rate(rainbow_reporter_errors_total[10m])) > 0.5');
    expect(alert(r, 'RainbowWebhookErrors').expr).toMatch(/\[2m\].*\[2m\]\)\)\s+> 0\.2/s);
    expect(alert(r, 'RainbowWebhookSlow')).toMatchObject({ for: '0s', expr: expect.stringMatching(/> 1\n$/) });
    expect(alert(r, 'RainbowPendingColorStuck')).toMatchObject({ for: '2h', annotations: { summary: expect.stringContaining('for more than 2h') } });
  });

  it('leaves out alerts turned off, RainbowWebhookDown without a webhook ServiceMonitor, RainbowControllerNoLeader without a controller', async () => {
    const off = await renderOn({ monitoring: { prometheusRule: { alerts: { reporterErrors: { enabled: false }, pendingStuck: { enabled: false } } } } });
    expect(alerts(off).map((a) => a.alert)).toEqual(ALERTS.filter((a) => a !== 'RainbowReporterErrors' && a !== 'RainbowPendingColorStuck'));
    const noMonitor = await renderOn({ monitoring: { serviceMonitor: { enabled: false } } });
    expect(alerts(noMonitor).map((a) => a.alert)).not.toContain('RainbowWebhookDown');
    const noController = await renderOn({ controller: { enabled: false } });
    expect(alerts(noController).map((a) => a.alert)).not.toContain('RainbowControllerNoLeader');
    const none = await renderOn({
      monitoring: { prometheusRule: { alerts: Object.fromEntries(['nearMaxDrain', 'connectionsUnknown', 'reporterErrors', 'pendingStuck', 'webhookErrors', 'webhookLatency', 'webhookDown', 'noLeader'].map((k) => [k, { enabled: false }])) } },
    });
    expect(rule(none).spec.groups).toEqual([]);
  });

  it('names the webhook job and namespace the ServiceMonitor scrapes in RainbowWebhookDown', async () => {
    expect(alert(on, 'RainbowWebhookDown').expr).toContain('absent(up{job="rainbow-webhook", namespace="rainbow-system"} == 1)');
    const other = await render('rainbow-system', { release: 'platform', namespace: 'ops', values: ON });
    expect(prometheusRule(other).metadata.name).toBe('platform-rainbow');
    expect(prometheusRule(other).spec.groups.flatMap((g) => g.rules).find((a) => a.alert === 'RainbowWebhookDown')!.expr).toContain('up{job="platform-rainbow-webhook", namespace="ops"}');
  });

  it('adds monitoring.prometheusRule.alertLabels and a runbook_url per alert when asked', async () => {
    const r = await renderOn({ monitoring: { prometheusRule: { alertLabels: { team: 'platform' }, runbookUrl: 'https://runbooks.example.com/rainbow' } } });
    for (const a of alerts(r)) {
      expect(a.labels).toEqual({ severity: expect.any(String), team: 'platform' });
      expect(a.annotations.runbook_url).toBe(`https://runbooks.example.com/rainbow#${a.alert.toLowerCase()}`);
    }
  });

  it('the schema refuses a for that is not a Prometheus duration, and a ratio above 1', async () => {
    expect(await renderError('rainbow-system', { set: { 'monitoring.prometheusRule.alerts.noLeader.for': '5 minutes' } })).toMatch(/monitoring\/prometheusRule\/alerts\/noLeader\/for/);
    expect(await renderError('rainbow-system', { set: { 'monitoring.prometheusRule.alerts.webhookErrors.ratio': 2 } })).toMatch(/monitoring\/prometheusRule\/alerts\/webhookErrors\/ratio/);
  });
});

describeWithPrometheus('the rules with promtool', () => {
  let dir: string;
  beforeAll(async () => {
    await ensurePrometheusTools();
    dir = mkdtempSync(path.join(os.tmpdir(), 'rainbow-promtool-'));
  }, 15 * 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each<[string, Record<string, unknown>]>([
    ['the defaults', {}],
    ['other thresholds, alert labels and a runbook URL', { monitoring: { prometheusRule: { interval: '15s', alertLabels: { team: 'platform' }, runbookUrl: 'https://runbooks.example.com/rainbow', alerts: { nearMaxDrain: { before: '90m', for: '0s' }, webhookLatency: { seconds: 0.5 } } } } }],
  ])('promtool check rules passes on the rule file of the rendered PrometheusRule, with %s', async (_name, values) => {
    const file = path.join(dir, 'rules.yaml');
    writeFileSync(file, ruleFile(await renderOn(values)));
    const r = await promtool(['check', 'rules', '--lint=all', '--lint-fatal', file]);
    expect(r).toEqual({ code: 0, output: expect.stringContaining(`SUCCESS: ${ALERTS.length} rules found`) });
  });

  it('promtool check rules refuses a broken expression (the check can fail)', async () => {
    const file = path.join(dir, 'broken.yaml');
    writeFileSync(file, ruleFile(await renderOn()).replace('rainbow_controller_leader) < 1', 'rainbow_controller_leader) <'));
    const r = await promtool(['check', 'rules', file]);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/parse error/);
  });

  it('promtool test rules: every alert fires, and does not, as fixtures/rainbow-system-rules-test.yaml expects', async () => {
    writeFileSync(path.join(dir, 'rules.yaml'), ruleFile(await renderOn(), { annotations: false }));
    const test = path.join(dir, 'rainbow-system-rules-test.yaml');
    copyFileSync(path.join(repoRoot, 'test', 'chart', 'fixtures', 'rainbow-system-rules-test.yaml'), test);
    const fixture = readFileSync(test, 'utf8');
    for (const a of ALERTS) expect([a, fixture.includes(`alertname: ${a}\n`)]).toEqual([a, true]);
    const r = await promtool(['test', 'rules', test], dir);
    expect({ code: r.code, output: r.output }).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('promtool test rules fails when a threshold moves (the fixture can fail)', async () => {
    writeFileSync(path.join(dir, 'rules.yaml'), ruleFile(await renderOn({ monitoring: { prometheusRule: { alerts: { nearMaxDrain: { before: '10m' } } } } }), { annotations: false }));
    const test = path.join(dir, 'rainbow-system-rules-test.yaml');
    copyFileSync(path.join(repoRoot, 'test', 'chart', 'fixtures', 'rainbow-system-rules-test.yaml'), test);
    const r = await promtool(['test', 'rules', test], dir);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('alertname: RainbowColorNearMaxDrain');
  });
});

// --- the Grafana dashboard ----------------------------------------------------------------------

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: Array<{ expr: string; refId: string }>;
  datasource?: { type: string; uid: string };
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: string | { query: string } }> };
}

describe('the Grafana dashboard', () => {
  const file = readFileSync(path.join(chartDir('rainbow-system'), 'dashboards', 'rainbow.json'), 'utf8');
  const dashboard = JSON.parse(file) as Dashboard;
  const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

  it('is a ConfigMap with the sidecar label grafana_dashboard: "1" holding dashboards/rainbow.json as it is', async () => {
    const cm = (await renderOn()).get<V1ConfigMap>('ConfigMap', 'rainbow-dashboard');
    expect(cm.metadata!.namespace).toBe(NS);
    expect(cm.metadata!.labels).toMatchObject({ grafana_dashboard: '1', 'app.kubernetes.io/component': 'monitoring' });
    expect(Object.keys(cm.data!)).toEqual(['rainbow.json']);
    expect(JSON.parse(cm.data!['rainbow.json']!)).toEqual(dashboard);
  });

  it('takes the label key and value, and annotations, from the values', async () => {
    const cm = (await renderOn({ monitoring: { grafanaDashboard: { labelKey: 'dashboards', labelValue: 'rainbow', annotations: { grafana_folder: 'Rainbow' } } } })).get<V1ConfigMap>('ConfigMap', 'rainbow-dashboard');
    expect(cm.metadata!.labels).toMatchObject({ dashboards: 'rainbow' });
    expect(cm.metadata!.labels!.grafana_dashboard).toBeUndefined();
    expect(cm.metadata!.annotations).toEqual({ grafana_folder: 'Rainbow' });
  });

  it('has the panels: connections per color, colors by state, drain ETA, admission latency p99, denials by reason, reporter errors, leader', () => {
    expect(dashboard.uid).toBe('rainbow');
    const titles = dashboard.panels.filter((p) => p.type !== 'row').map((p) => p.title);
    expect(titles).toEqual(expect.arrayContaining(['Connections per color', 'Colors by state', 'Drain ETA', 'Admission latency p99', 'Denials by reason', 'Reporter errors', 'Leader']));
    const expr = (title: string) => dashboard.panels.find((p) => p.title === title)!.targets!.map((t) => t.expr).join('\n');
    expect(expr('Connections per color')).toContain('rainbow_color_connections');
    expect(expr('Colors by state')).toContain('rainbow_colors');
    expect(expr('Drain ETA')).toMatch(/rainbow_color_drain_eta_seconds[\s\S]*rainbow_color_drain_deadline_seconds/);
    expect(expr('Admission latency p99')).toContain('histogram_quantile(0.99, sum by (webhook, le) (rate(rainbow_admission_duration_seconds_bucket');
    expect(expr('Denials by reason')).toContain('sum by (reason) (rate(rainbow_admission_denials_total');
    expect(expr('Reporter errors')).toContain('rainbow_reporter_errors_total');
    expect(expr('Leader')).toContain('rainbow_controller_leader');
  });

  it('gives every panel a unique id and a query on the data source variable', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) {
      expect([p.title, p.datasource]).toEqual([p.title, { type: 'prometheus', uid: '${datasource}' }]);
      expect([p.title, p.targets!.length]).toEqual([p.title, expect.any(Number)]);
      expect(p.targets!.length).toBeGreaterThan(0);
    }
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'namespace', 'app']);
  });

  it('queries only metrics the code exports', () => {
    const variableQueries = dashboard.templating.list.map((v) => (typeof v.query === 'string' ? v.query : v.query.query));
    expect(queries.length).toBeGreaterThan(8);
    for (const q of queries) expect([q, metricsIn(q).length]).toEqual([q, expect.any(Number)]);
    for (const q of queries) expect(metricsIn(q).length).toBeGreaterThan(0);
    expect(unknownMetrics([...queries, ...variableQueries], exported)).toEqual([]);
  });
});
