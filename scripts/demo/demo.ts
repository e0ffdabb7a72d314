// The demo, on the local control plane: deploy color A, hold a TCP stream to it, deploy
// color B, watch the Service wait for B and flip, see the old stream keep printing A while a new
// one prints B, see the delete of A refused while the stream is open, close it, and watch the
// controller delete A. `npm run demo` narrates it; test/e2e/demo.test.ts runs the same steps and
// asserts each one (that is why every step returns what it saw).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, symlinkSync, rmSync, chmodSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api, KubeConfig, type V1Service } from '@kubernetes/client-node';
import { apiClient } from '../../webhook/src/kube/client.js';
import { up } from '../cluster/control-plane.js';
import { rainbowCommand } from '../cluster/rainbow-command.js';
import { runTool } from '../cluster/run-tool.js';
import { eventually } from '../cluster/poll.js';
import { caInjected } from '../cluster/webhook-registration.js';
import { binDir, kubeconfigPath, repoRoot } from '../cluster/paths.js';

const exec = promisify(execFile);

export interface DemoOptions {
  /** Namespace of the app (default `demo`). */
  namespace: string;
  /** Namespace and release of rainbow-system (default `rainbow-system` / `rainbow`). */
  systemNamespace: string;
  systemRelease: string;
  /** The app's release name, which is also its Deployments' prefix (default `demo`). */
  app: string;
  colors: { a: string; b: string };
  /** Where the story is told; the e2e test collects it. */
  say: (line: string) => void;
}

export interface DemoRecord {
  nodePorts: { http: number; tcp: number };
  pageHeading: string;
  firstStreamLines: string[];
  helmWarning: string;
  heldWhileUnavailable: { selector: string; pending?: string };
  flipSecondsAfterAvailable: number;
  promoted: { selector: string; pending?: string };
  /** True if the Service was ever seen on B while B was not Available (it must not be). */
  servedBeforeAvailable: boolean;
  secondStreamLines: string[];
  firstStreamAfterFlip: string[];
  deleteRefusal: string;
  statusDuringDrain: string;
  deletedSecondsAfterClose: number;
  events: string[];
}

export function defaultColors(): { a: string; b: string } {
  let a = '3c3fdc';
  try {
    const head = readFileSync(path.join(repoRoot, '.git', 'HEAD'), 'utf8').trim();
    const ref = head.startsWith('ref: ') ? readFileSync(path.join(repoRoot, '.git', head.slice(5)), 'utf8').trim() : head;
    if (/^[0-9a-f]{40}$/.test(ref)) a = ref.slice(0, 6);
  } catch {
    /* not a git checkout (or a packed ref): the default color */
  }
  // "The next commit": the demo cannot commit for you, so B is derived from A.
  const b = createHash('sha256').update(`${a}+1`).digest('hex').slice(0, 6);
  return { a, b };
}

export const DEFAULTS = (): DemoOptions => ({
  namespace: 'demo',
  systemNamespace: 'rainbow-system',
  systemRelease: 'rainbow',
  app: 'demo',
  colors: defaultColors(),
  say: (line) => process.stdout.write(`${line}\n`),
});

const tool = runTool;

async function must(name: 'kubectl' | 'helm', args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await tool(name, args);
  if (r.code !== 0) throw new Error(`${name} ${args.slice(0, 3).join(' ')} … failed (exit ${r.code}):\n${r.stderr || r.stdout}`);
  return r;
}

class Stream {
  readonly lines: string[] = [];
  private readonly socket: net.Socket;
  constructor(host: string, port: number, label: string, say: (l: string) => void) {
    this.socket = net.connect({ host, port });
    this.socket.setEncoding('utf8');
    let buf = '';
    this.socket.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        this.lines.push(line);
        say(`      ${label} │ ${line}`);
      }
    });
    this.socket.on('error', () => undefined);
  }
  async next(count = 1, timeoutMs = 15_000): Promise<string[]> {
    const from = this.lines.length;
    await eventually('a line on the stream', async () => (this.lines.length >= from + count ? true : undefined), timeoutMs, 50);
    return this.lines.slice(from, from + count);
  }
  close(): void {
    this.socket.destroy();
  }
}

export async function runDemo(o: DemoOptions): Promise<DemoRecord> {
  const started = Date.now();
  let stepNo = 0;
  const total = 9;
  const step = (title: string) => {
    stepNo += 1;
    const t = new Date().toISOString().slice(11, 19);
    o.say(`\n[${t} +${((Date.now() - started) / 1000).toFixed(1)}s] ${stepNo}/${total} ${title}`);
  };
  const note = (line: string) => o.say(`      ${line}`);
  const { a: A, b: B } = o.colors;
  const dep = (c: string) => `${o.app}-${c}`;
  const streams: Stream[] = [];

  try {
    step('Bring up the local Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler, kube-proxy, a simulated node) in a sealed network namespace');
    const cluster = await up();
    const host = cluster.host;
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const core = apiClient(kc, CoreV1Api);
    const apps = apiClient(kc, AppsV1Api);
    const admission = apiClient(kc, AdmissionregistrationV1Api);
    linkKubectlPlugin();

    step(`Install rainbow-system: the admission webhook (2 pods behind a Service) and the controller (a pod)`);
    if (await core.readNamespace({ name: o.namespace }).then(() => true, () => false)) {
      note(`namespace ${o.namespace} is left from an earlier run; deleting it for a clean story`);
      await core.deleteNamespace({ name: o.namespace });
      await eventually(`namespace ${o.namespace} gone`, async () => (await core.readNamespace({ name: o.namespace }).then(() => undefined, () => true)), 120_000, 500);
    }
    await must('helm', [
      'upgrade', '--install', o.systemRelease, path.join(repoRoot, 'chart', 'rainbow-system'),
      '-n', o.systemNamespace, '--create-namespace', '--wait', '--timeout', '120s',
      // Scoped to the demo's namespace so that it never acts on anything else in this cluster.
      '--set-json', `webhook.namespaceSelector=${JSON.stringify({ matchLabels: { 'kubernetes.io/metadata.name': o.namespace } })}`,
      '--set-json', `controller.extraArgs=${JSON.stringify([`--namespace=${o.namespace}`, '--interval=2s'])}`,
    ]);
    // The webhook makes its TLS Secret and injects the CA into both webhook configurations itself.
    await eventually('the webhook to inject its CA', () => caInjected(admission, o.systemRelease), 60_000, 200);
    note(`helm upgrade --install ${o.systemRelease} chart/rainbow-system -n ${o.systemNamespace}  (deployed; TLS bootstrapped, CA injected)`);
    note((await must('kubectl', ['get', 'deploy,svc', '-n', o.systemNamespace])).stdout.trimEnd().split('\n').join('\n      '));

    const appValues = (color: string, extra: string[] = []) => [
      'upgrade', '--install', o.app, path.join(repoRoot, 'chart', 'rainbow-app'), '-n', o.namespace, '--create-namespace',
      '--set', `color=${color}`, '--set', 'service.type=NodePort', '--set', 'replicas=2',
      '--set', 'readinessProbe.periodSeconds=1', '--set', 'drain.grace=5s', '--set', 'drain.keepColors=0',
      ...extra,
    ];

    step(`Deploy color ${A} (the current commit): helm upgrade --install ${o.app} chart/rainbow-app --set color=${A}`);
    await must('helm', [...appValues(A), '--wait', '--timeout', '90s']);
    const svc = await core.readNamespacedService({ namespace: o.namespace, name: o.app });
    const nodePort = (name: string) => svc.spec!.ports!.find((p) => p.name === name)!.nodePort!;
    const nodePorts = { http: nodePort('http'), tcp: nodePort('tcp') };
    note((await must('kubectl', ['get', 'deploy,svc', '-n', o.namespace, '-l', `rainbow.dev/app=${o.app}`])).stdout.trimEnd().split('\n').join('\n      '));

    step(`Open a long-lived TCP stream (telnet ${host} ${nodePorts.tcp}) and load the page (http://${host}:${nodePorts.http})`);
    const page = await eventually('the page through the NodePort', async () => {
      const res = await fetch(`http://${host}:${nodePorts.http}/`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      return res?.ok ? res.text() : undefined;
    }, 15_000, 200);
    const pageHeading = /<h1>([^<]*)<\/h1>/.exec(page)?.[1] ?? '';
    note(`page │ <h1>${pageHeading}</h1> on a ${/background:(#[0-9a-f]{6})/.exec(page)?.[1] ?? '?'} background`);
    const first = new Stream(host, nodePorts.tcp, 'stream 1', o.say);
    streams.push(first);
    const firstStreamLines = await first.next(1);

    step(`Deploy color ${B} (the next commit); its pods become ready after 5 s, so the switch has to wait`);
    const upgrade = await must('helm', appValues(B, ['--set', 'readinessProbe.initialDelaySeconds=5']));
    const helmWarning = /Warning: (Service [^"\n]*)/.exec(upgrade.stderr)?.[1] ?? '';
    note(`helm: Warning: ${helmWarning}`);
    const held = await core.readNamespacedService({ namespace: o.namespace, name: o.app });
    const heldWhileUnavailable = {
      selector: held.spec?.selector?.['rainbow.dev/color'] ?? '',
      pending: held.metadata?.annotations?.['rainbow.dev/pending-color'],
    };
    note(`Service ${o.app}: selector rainbow.dev/color=${heldWhileUnavailable.selector}, rainbow.dev/pending-color=${heldWhileUnavailable.pending}`);
    let availableAt = 0;
    let switchedInSamePoll = false;
    let servedBeforeAvailable = false;
    let lastShown = '';
    const flipped = await eventually<V1Service>(`the Service to switch to ${B}`, async () => {
      // Service first: if it already selects B, the Deployment read after it must show B Available.
      const s = await core.readNamespacedService({ namespace: o.namespace, name: o.app });
      const sel = s.spec?.selector?.['rainbow.dev/color'];
      const d = await apps.readNamespacedDeployment({ namespace: o.namespace, name: dep(B) });
      const ready = `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas}`;
      if (sel === B && d.status?.availableReplicas !== d.spec?.replicas) servedBeforeAvailable = true;
      if (!availableAt && d.status?.availableReplicas === d.spec?.replicas) {
        availableAt = Date.now();
        switchedInSamePoll = sel === B;
      }
      const line = `${dep(B)} ready ${ready} · Service selects ${sel}${s.metadata?.annotations?.['rainbow.dev/pending-color'] ? ` (pending ${B})` : ''}`;
      if (line !== lastShown) note(line);
      lastShown = line;
      return sel === B ? s : undefined;
    }, 90_000, 100);
    const flipSecondsAfterAvailable = (Date.now() - (availableAt || Date.now())) / 1000;
    note(
      switchedInSamePoll
        ? `the controller had switched the Service to ${B} by the time this demo (polling every 0.1 s) saw ${dep(B)} Available`
        : `the controller switched the Service to ${B} ${flipSecondsAfterAvailable.toFixed(1)} s after this demo saw ${dep(B)} Available`,
    );
    note(`Service ${o.app}: ${JSON.stringify(flipped.spec?.selector)}, pending-color ${flipped.metadata?.annotations?.['rainbow.dev/pending-color'] ?? '(none)'}`);

    step(`New connections get ${B}; the stream opened before the switch still prints ${A}`);
    // kube-proxy programs the switch a moment after the Service changes: a connection opened in
    // that moment still reaches A, and would hold A open. Such a stream is closed and opened again.
    let second = new Stream(host, nodePorts.tcp, 'stream 2', o.say);
    let secondStreamLines = await second.next(1);
    for (let tries = 1; !secondStreamLines[0]?.endsWith(B) && tries < 20; tries++) {
      note(`stream 2 reached ${A}: kube-proxy had not switched yet; closing it and opening another`);
      second.close();
      await new Promise((resolve) => setTimeout(resolve, 250));
      second = new Stream(host, nodePorts.tcp, 'stream 2', o.say);
      secondStreamLines = await second.next(1);
    }
    streams.push(second);
    const firstStreamAfterFlip = await first.next(1, 10_000);

    step(`kubectl delete deployment ${dep(A)} — refused while stream 1 is open`);
    const refusal = await tool('kubectl', ['delete', 'deployment', dep(A), '-n', o.namespace, '--wait=false']);
    const deleteRefusal = refusal.code === 0 ? '(the delete was allowed!)' : refusal.stderr.trim();
    note(deleteRefusal.split('\n').join('\n      '));
    const rainbow = rainbowCommand();
    const status = await exec(rainbow.node, [...rainbow.args, 'status', '-n', o.namespace, o.app, `--kubeconfig=${kubeconfigPath}`], {
      env: { ...process.env, NO_COLOR: '1' },
    }).then((r) => r.stdout, (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`);
    note(`$ kubectl rainbow status ${o.app} -n ${o.namespace}`);
    note(status.trimEnd().split('\n').join('\n      '));

    step(`Close stream 1: ${A} drains to 0 connections, and after drain-grace (5 s) the controller deletes it`);
    first.close();
    const closedAt = Date.now();
    await eventually(`${dep(A)} deleted by the controller`, async () => (await apps.readNamespacedDeployment({ namespace: o.namespace, name: dep(A) }).then(() => undefined, () => true)), 90_000, 250);
    const deletedSecondsAfterClose = (Date.now() - closedAt) / 1000;
    note(`${dep(A)} deleted ${deletedSecondsAfterClose.toFixed(1)} s after the stream closed`);
    // The controller records Deleted after its delete returns, so the Event can trail the Deployment's going.
    const listEvents = async () =>
      (await must('kubectl', ['get', 'events', '-n', o.namespace, '--field-selector', `involvedObject.name=${dep(A)},source=rainbow-controller`, '--sort-by=.lastTimestamp', '-o', 'custom-columns=REASON:.reason,MESSAGE:.message', '--no-headers'])).stdout
        .trim()
        .split('\n')
        .filter(Boolean);
    let events: string[] = [];
    await eventually(`the controller's Deleted Event for ${dep(A)}`, async () => (events = await listEvents()).some((e) => e.startsWith('Deleted ')), 15_000, 250);
    for (const e of events) note(`event │ ${e}`);

    second.close();
    step('Done. The cluster, the webhook and the controller keep running: explore, then stop them');
    o.say(`
      eval "$(scripts/local-cluster env)"           # KUBECONFIG and PATH with kubectl, helm, kubectl-rainbow
      kubectl rainbow status ${o.app} -n ${o.namespace}
      kubectl get deploy,svc,events -n ${o.namespace}
      curl http://${host}:${nodePorts.http}/   ·   nc ${host} ${nodePorts.tcp}
      scripts/local-cluster exec -- conntrack -L -p tcp --dport ${nodePorts.tcp}   # the flows kube-proxy sent to each color
      helm upgrade --install ${o.app} chart/rainbow-app -n ${o.namespace} --set color=<another color> --set service.type=NodePort
      scripts/local-cluster down                    # stops everything; the cluster's namespace goes with it
`);
    return {
      nodePorts,
      pageHeading,
      firstStreamLines,
      helmWarning,
      heldWhileUnavailable,
      flipSecondsAfterAvailable,
      promoted: { selector: flipped.spec?.selector?.['rainbow.dev/color'] ?? '', pending: flipped.metadata?.annotations?.['rainbow.dev/pending-color'] },
      servedBeforeAvailable,
      secondStreamLines,
      firstStreamAfterFlip,
      deleteRefusal,
      statusDuringDrain: status,
      deletedSecondsAfterClose,
      events,
    };
  } finally {
    for (const s of streams) s.close();
  }
}

/** `kubectl rainbow` works once .local-cluster/bin is on PATH (`eval "$(scripts/local-cluster env)"`). */
function linkKubectlPlugin(): void {
  const target = path.join(repoRoot, 'dist', 'webhook', 'src', 'kubectl-rainbow.js');
  const link = path.join(binDir, 'kubectl-rainbow');
  chmodSync(target, 0o755);
  rmSync(link, { force: true });
  symlinkSync(target, link);
}
