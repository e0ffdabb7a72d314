// The chart's alerts in a real Prometheus (built from scripts/cluster/tools/prometheus), run inside
// the cluster namespace on 127.0.0.1 next to a real webhook and controller, scraping both (the
// webhook over HTTPS, checked against its CA), with the rules of the rendered PrometheusRule at a
// 1 s evaluation interval. A color drained past its switch still holding a stream fires
// RainbowColorNearMaxDrain; it resolves once the stream closes and the color goes; stopping the
// controller fires RainbowControllerNoLeader. Runs with RAINBOW_PROMETHEUS_TESTS=1
// (`npm run test:prometheus`).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

import { appService, colorDeployment } from '../../scripts/cluster/app-objects.js';
import { execArgs } from '../../scripts/cluster/control-plane.js';
import { logDir } from '../../scripts/cluster/paths.js';
import { ruleFile } from '../chart/monitoring.js';
import { PROMETHEUS, describeWithPrometheus, ensurePrometheusTools } from '../chart/prometheus-tools.js';
import { render } from '../chart/render.js';
import { clients, eventually, kubectl, testNamespace } from './support/cluster.js';
import { drainStarted, openStream, startController, waitAvailable, watchDeletion, type ControllerProcess, type Stream } from './support/controller.js';
import { clusterHost, getInside } from './support/network.js';
import { freePort } from './support/processes.js';
import { startWebhook, type RegisteredWebhook } from './support/webhook.js';

const { core, apps, admission } = clients();
const APP = 'web';
const OLD = 'a1e2f0';
const NEW = 'b2c3d4';

interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  value: string;
}

/** host:port of a URL, refusing anything outside 127.0.0.0/8: Prometheus talks to loopback only. */
function loopback(url: string): string {
  const { hostname, port } = new URL(url);
  if (isIP(hostname) !== 4 || !hostname.startsWith('127.')) throw new Error(`${url} is not on 127.0.0.0/8`);
  return `${hostname}:${port}`;
}

interface RunningPrometheus {
  url: string;
  proc: ChildProcess;
  log: string;
  stop(): Promise<void>;
}

/** The Prometheus binary inside the cluster namespace on 127.0.0.1:<free port>, its data in `dir`. */
async function startPrometheus(dir: string): Promise<RunningPrometheus> {
  const port = await freePort();
  const listen = loopback(`http://127.0.0.1:${port}`);
  mkdirSync(path.join(logDir, 'e2e'), { recursive: true });
  const log = path.join(logDir, 'e2e', `prometheus-${Date.now()}.log`);
  const fd = openSync(log, 'a');
  const [cmd, ...args] = execArgs([
    PROMETHEUS,
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=${listen}`,
    '--storage.tsdb.retention.time=1h',
  ]);
  const proc = spawn(cmd!, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `http://${listen}`;
  await eventually('Prometheus ready', async () => {
    if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}:\n${readFileSync(log, 'utf8').slice(-2000)}`);
    return (await getInside(`${url}/-/ready`, 1000).catch(() => ({ status: 0 }))).status === 200;
  }, 60_000, 250);
  return {
    url,
    proc,
    log,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function api<T>(prom: RunningPrometheus, pathAndQuery: string): Promise<T> {
  const r = await getInside(`${prom.url}${pathAndQuery}`, 3000);
  if (r.status !== 200) throw new Error(`GET ${pathAndQuery}: ${r.status} ${r.body.slice(0, 300)}`);
  return (JSON.parse(r.body) as { data: T }).data;
}
const alertsOf = async (prom: RunningPrometheus) => (await api<{ alerts: Alert[] }>(prom, '/api/v1/alerts')).alerts;
const query = async (prom: RunningPrometheus, q: string) => (await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(prom, `/api/v1/query?query=${encodeURIComponent(q)}`)).result;

describeWithPrometheus('the chart\'s alerts in a real Prometheus', () => {
  let ns: string;
  let removeNs: () => Promise<void>;
  let dir: string;
  let webhook: RegisteredWebhook | undefined;
  let controller: ControllerProcess | undefined;
  let prom: RunningPrometheus | undefined;
  let stream: Stream | undefined;

  beforeAll(async () => {
    await ensurePrometheusTools();
    const t = await testNamespace('prom');
    ns = t.name;
    removeNs = t.remove;
    dir = mkdtempSync(path.join(os.tmpdir(), 'rainbow-prometheus-'));
  }, 15 * 60_000);

  afterAll(async () => {
    stream?.socket.destroy();
    await prom?.stop();
    await controller?.stop();
    await webhook?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await removeNs?.();
  }, 180_000);

  it('RainbowColorNearMaxDrain fires for a drained-away color holding a stream, resolves when it goes; RainbowControllerNoLeader fires when the controller stops', async () => {
    webhook = await startWebhook(ns);
    controller = startController(ns, 'prom-1');

    // The app on OLD, holding one stream from the host through the NodePort.
    await apps.createNamespacedDeployment({ namespace: ns, body: colorDeployment(APP, OLD) });
    await waitAvailable(ns, `${APP}-${OLD}`);
    const settings = { 'rainbow.dev/keep-colors': '0', 'rainbow.dev/drain-grace': '1s', 'rainbow.dev/max-drain': '10m' };
    const svc = await core.createNamespacedService({ namespace: ns, body: appService(APP, OLD, settings) });
    stream = await openStream(clusterHost(), svc.spec!.ports!.find((p) => p.name === 'tcp')!.nodePort!);

    // The rules as the chart renders them, at a 1 s evaluation interval; the two alerts under test without a for.
    const rendered = await render('rainbow-system', {
      values: { monitoring: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true, interval: '1s', alerts: { nearMaxDrain: { for: '0s' }, noLeader: { for: '0s' } } } } },
    });
    writeFileSync(path.join(dir, 'rules.yaml'), ruleFile(rendered));
    // The webhook's CA, as registered for the API server.
    const vwc = await admission.readValidatingWebhookConfiguration({ name: `rainbow-e2e-${ns}` });
    writeFileSync(path.join(dir, 'webhook-ca.crt'), Buffer.from(vwc.webhooks![0]!.clientConfig.caBundle!, 'base64'));
    const webhookTarget = loopback(webhook.url);
    const controllerTarget = loopback(await controller.metricsUrl());
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        rule_files: [path.join(dir, 'rules.yaml')],
        scrape_configs: [
          // job and namespace as the chart's ServiceMonitor gives them (RainbowWebhookDown reads them).
          { job_name: 'rainbow-webhook', scheme: 'https', tls_config: { ca_file: path.join(dir, 'webhook-ca.crt') }, static_configs: [{ targets: [webhookTarget], labels: { namespace: 'rainbow-system' } }] },
          { job_name: 'rainbow-controller', honor_labels: true, static_configs: [{ targets: [controllerTarget] }] },
        ],
      }),
    );
    prom = await startPrometheus(dir);
    const p = prom;

    await eventually('both targets up', async () => {
      const { activeTargets } = await api<{ activeTargets: Array<{ health: string; scrapeUrl: string; lastError: string }> }>(p, '/api/v1/targets');
      return activeTargets.length === 2 && activeTargets.every((t) => t.health === 'up');
    }, 30_000, 500);
    const rules = await api<{ groups: Array<{ name: string; rules: Array<{ name: string; health: string }> }> }>(p, '/api/v1/rules');
    expect(rules.groups.map((g) => g.name)).toEqual(['rainbow-controller', 'rainbow-webhook']);
    for (const r of rules.groups.flatMap((g) => g.rules)) expect([r.name, r.health]).toEqual([r.name, expect.stringMatching(/^(ok|unknown)$/)]);

    // While OLD serves, its connection is counted but there is no deadline: nothing fires.
    await eventually('OLD\'s connection in Prometheus', async () => (await query(p, `rainbow_color_connections{namespace="${ns}",color="${OLD}"} >= 1`)).length === 1, 30_000, 500);
    await eventually('the controller leading in Prometheus', async () => (await query(p, 'max(rainbow_controller_leader) == 1')).length === 1, 30_000, 500);
    await new Promise((r) => setTimeout(r, 3000)); // three evaluations
    expect((await alertsOf(p)).filter((a) => a.state === 'firing').map((a) => a.labels.alertname)).toEqual([]);
    expect(await query(p, `rainbow_color_drain_deadline_seconds{namespace="${ns}"}`)).toEqual([]);

    // Helm's order: the Service asks for NEW (held on OLD, NEW pending), NEW comes up, the controller promotes it and stamps OLD.
    expect((await kubectl(['-n', ns, 'patch', 'service', APP, '--type=merge', '-p', JSON.stringify({ spec: { selector: { 'rainbow.dev/color': NEW } } })])).code).toBe(0);
    await apps.createNamespacedDeployment({ namespace: ns, body: colorDeployment(APP, NEW) });
    await waitAvailable(ns, `${APP}-${NEW}`);
    const started = Date.parse(await drainStarted(ns, `${APP}-${OLD}`, 30_000));

    const firing = await eventually('RainbowColorNearMaxDrain firing for OLD', async () =>
      (await alertsOf(p)).find((a) => a.labels.alertname === 'RainbowColorNearMaxDrain' && a.state === 'firing'), 60_000, 500);
    expect(firing.labels).toEqual({ alertname: 'RainbowColorNearMaxDrain', severity: 'warning', namespace: ns, app: APP, color: OLD });
    // Its value: seconds to drain-started + max-drain (10 m).
    const deadline = (started + 600_000) / 1000;
    const [sample] = await query(p, `rainbow_color_drain_deadline_seconds{namespace="${ns}",color="${OLD}"}`);
    expect(Number(sample!.value[1])).toBe(deadline);
    expect(Number(firing.value)).toBeGreaterThan(0);
    expect(Number(firing.value)).toBeLessThanOrEqual(600);
    expect(firing.annotations.summary).toMatch(new RegExp(`^Color ${OLD} of ${ns}/${APP} still holds connections \\d+m \\d+s before its max-drain deadline$`));
    expect(firing.annotations.runbook).toContain(`kubectl rainbow status ${APP} -n ${ns}`);

    // The client leaves: OLD drains, goes after drain-grace, and the alert with it.
    const gone = watchDeletion(ns, `${APP}-${OLD}`);
    stream.socket.destroy();
    await stream.closed;
    try {
      await gone.gone(60_000);
    } finally {
      gone.stop();
    }
    await eventually('RainbowColorNearMaxDrain resolved', async () => !(await alertsOf(p)).some((a) => a.labels.alertname === 'RainbowColorNearMaxDrain'), 30_000, 500);
    expect((await alertsOf(p)).filter((a) => a.state === 'firing').map((a) => a.labels.alertname)).toEqual([]);

    // No controller: no leader.
    await controller.stop();
    const noLeader = await eventually('RainbowControllerNoLeader firing', async () =>
      (await alertsOf(p)).find((a) => a.labels.alertname === 'RainbowControllerNoLeader' && a.state === 'firing'), 30_000, 500);
    expect(noLeader.labels).toEqual({ alertname: 'RainbowControllerNoLeader', severity: 'critical' });
    expect(noLeader.annotations.summary).toBe('No rainbow controller leads');
  });
});
