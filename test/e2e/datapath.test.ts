// The promise on Kubernetes' own datapath: 50 long-lived TCP streams to color A, 25 from a client
// pod to the Service's ClusterIP and 25 from the host to its NodePort, all through the real
// kube-proxy (nftables) and conntrack. A release of color B moves the Service; every stream keeps
// receiving A's lines for 30 s after B serves, new connections reach only B, conntrack shows the
// flows to A's pods, and once the streams close the controller deletes A. The same survival with
// a plain `kubectl patch` of the selector and no rainbow at all: the behaviour rainbow builds on.
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import type { V1Pod } from '@kubernetes/client-node';
import { repoRoot } from '../../scripts/cluster/paths.js';
import { clients, eventually, helm, kubectl, testNamespace } from './support/cluster.js';
import { appService, colorDeployment } from '../../scripts/cluster/app-objects.js';
import { connectionsOf, openStream, waitAvailable, watchDeletion, type Stream } from './support/controller.js';
import { clusterHost, execInside, spawnInPod } from './support/network.js';
import { installRainbowSystem, type InClusterSystem } from './support/system.js';

const { core, apps } = clients();
const PER_SIDE = 25;
const HOLD_MS = 30_000;
const A = 'aa1111';
const B = 'bb2222';

/** 25 streams from inside a client pod: each stream's lines, and whether it closed. */
interface PodStreams {
  lines: string[][];
  closed: boolean[];
  proc: ChildProcess;
  stop(): Promise<void>;
}

async function clientPod(namespace: string): Promise<string> {
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: 'client', labels: { role: 'client' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'idle', image: 'rainbow:e2e', args: ['reporter', '--ports', '1'], readinessProbe: { httpGet: { path: '/connections', port: 9471 }, periodSeconds: 1 } }],
      },
    },
  });
  await eventually('the client pod Ready', async () => {
    const p = await core.readNamespacedPod({ namespace, name: 'client' });
    return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
  }, 60_000, 200);
  return 'client';
}

function streamsFromPod(namespace: string, pod: string, host: string, port: number, count: number, maxSeconds: number): PodStreams {
  const proc = spawnInPod(namespace, pod, [process.execPath, path.join(repoRoot, 'test', 'e2e', 'support', 'stream-client.mjs'), host, String(port), String(count), String(maxSeconds)]);
  const lines = Array.from({ length: count }, () => [] as string[]);
  const closed = Array.from({ length: count }, () => false);
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    const sp = l.indexOf(' ');
    const i = Number(l.slice(0, sp));
    const rest = l.slice(sp + 1);
    if (rest === 'closed') closed[i] = true;
    else if (!rest.startsWith('error ')) lines[i]!.push(rest);
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    lines,
    closed,
    proc,
    async stop() {
      proc.stdin?.end();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    },
  };
}

interface HeldStreams {
  host: Stream[];
  pod: PodStreams;
}

/** Opens 25 streams from the host to the NodePort and 25 from the client pod to the ClusterIP; all print `color`. */
async function openBoth(namespace: string, service: string, color: string, count = PER_SIDE): Promise<HeldStreams> {
  const svc = await core.readNamespacedService({ namespace, name: service });
  const nodePort = svc.spec!.ports!.find((p) => p.name === 'tcp')!.nodePort!;
  const host: Stream[] = [];
  for (let i = 0; i < count; i++) host.push(await openStream(clusterHost(), nodePort, 20_000));
  const pod = streamsFromPod(namespace, 'client', svc.spec!.clusterIP!, 8081, count, 300);
  await eventually(`${count} pod streams with a first line`, async () => pod.lines.every((l) => l.length > 0), 20_000, 100);
  const first = [...host.map((s) => s.lines[0]), ...pod.lines.map((l) => l[0])];
  expect(new Set(first)).toEqual(new Set([`The color is #${color}`]));
  return { host, pod };
}

const allLines = (h: HeldStreams) => [...h.host.map((s) => s.lines), ...h.pod.lines];

/** Holds every stream for HOLD_MS after `from` and checks each kept receiving only `color`, and none closed. */
async function expectSurvival(h: HeldStreams, color: string): Promise<void> {
  const before = allLines(h).map((l) => l.length);
  await new Promise((r) => setTimeout(r, HOLD_MS));
  const after = allLines(h);
  const newLines = after.map((l, i) => l.slice(before[i]));
  // The demo app prints every 5 s: 30 s is at least 5 lines on every stream.
  expect(newLines.map((l) => l.length >= 5)).toEqual(after.map(() => true));
  expect(new Set(newLines.flat())).toEqual(new Set([`The color is #${color}`]));
  expect(h.host.map((s) => s.socket.destroyed)).toEqual(h.host.map(() => false));
  expect(h.pod.closed).toEqual(h.pod.closed.map(() => false));
}

/** conntrack's ESTABLISHED flows whose reply comes from `podIPs` port 8081: original destinations. */
async function flowsTo(podIPs: string[]): Promise<string[]> {
  const out = await execInside(['conntrack', '-L', '-p', 'tcp', '--state', 'ESTABLISHED']);
  return out.split('\n').flatMap((l) => {
    const m = /src=\S+ dst=(\S+) sport=\d+ dport=(\d+) .*?src=(\S+) dst=\S+ sport=8081 /.exec(l);
    return m && podIPs.includes(m[3]!) ? [`${m[1]}:${m[2]}`] : [];
  });
}

const podIPsOf = async (namespace: string, color: string) =>
  (await core.listNamespacedPod({ namespace, labelSelector: `rainbow.dev/color=${color}` })).items.filter((p: V1Pod) => !p.metadata?.deletionTimestamp).map((p) => p.status!.podIP!);

/** New connections, from both sides, reach `color` only, once kube-proxy has the new EndpointSlice. */
async function expectNewConnectionsReach(namespace: string, service: string, color: string): Promise<void> {
  const svc = await core.readNamespacedService({ namespace, name: service });
  const nodePort = svc.spec!.ports!.find((p) => p.name === 'tcp')!.nodePort!;
  // The EndpointSlice controller and kube-proxy follow a selector change within a few seconds.
  await eventually(`kube-proxy sending new connections to ${color}`, async () => {
    const probe = await openStream(clusterHost(), nodePort, 5_000);
    probe.socket.destroy();
    return probe.lines[0] === `The color is #${color}`;
  }, 20_000, 200);
  const fresh = await openBoth(namespace, service, color, 5);
  for (const s of fresh.host) s.socket.destroy();
  await fresh.pod.stop();
}

async function closeAll(h: HeldStreams): Promise<void> {
  for (const s of h.host) s.socket.destroy();
  await h.pod.stop();
}

describe('with rainbow: helm upgrade to a new color', () => {
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  let system: InClusterSystem;
  let held: HeldStreams | undefined;
  const chart = path.join(repoRoot, 'chart', 'rainbow-app');
  const release = (color: string, extra: string[] = []) =>
    helm(['upgrade', '--install', 'web', chart, '-n', ns.name, '--set', `color=${color}`, '--set', 'service.type=NodePort', '--set', 'replicas=2',
      '--set', 'readinessProbe.periodSeconds=1', '--set', 'drain.grace=3s', '--set', 'drain.keepColors=0', ...extra]);

  beforeAll(async () => {
    ns = await testNamespace('datapath');
    system = await installRainbowSystem(ns.name);
    await clientPod(ns.name);
  });
  afterAll(async () => {
    if (held) await closeAll(held);
    await system?.uninstall();
    await ns?.remove();
  });

  test('50 streams to A survive the Service moving to B; new connections reach only B; conntrack shows the flows; A goes once they close', async () => {
    const a = await release(A, ['--wait', '--timeout', '90s']);
    expect(a.code).toBe(0);
    held = await openBoth(ns.name, 'web', A);
    const aIPs = await podIPsOf(ns.name, A);

    const b = await release(B, ['--set', 'readinessProbe.initialDelaySeconds=3']);
    expect(b.code).toBe(0);
    await eventually(`the Service serving ${B}`, async () => (await core.readNamespacedService({ namespace: ns.name, name: 'web' })).spec?.selector?.['rainbow.dev/color'] === B, 90_000, 100);

    await expectNewConnectionsReach(ns.name, 'web', B);
    await expectSurvival(held, A);

    const svc = await core.readNamespacedService({ namespace: ns.name, name: 'web' });
    const nodePort = svc.spec!.ports!.find((p) => p.name === 'tcp')!.nodePort!;
    const flows = await flowsTo(aIPs);
    expect(flows.filter((f) => f === `${svc.spec!.clusterIP}:8081`)).toHaveLength(PER_SIDE);
    expect(flows.filter((f) => f.endsWith(`:${nodePort}`))).toHaveLength(PER_SIDE);
    // Each of A's reporters counts from its own pod's network namespace: together, all 50.
    expect(await connectionsOf(ns.name, A)).toBe(2 * PER_SIDE);

    const gone = watchDeletion(ns.name, `web-${A}`);
    await closeAll(held);
    held = undefined;
    await gone.gone(60_000);
    gone.stop();
    // B kept serving throughout.
    expect((await apps.readNamespacedDeployment({ namespace: ns.name, name: `web-${B}` })).status?.availableReplicas).toBe(2);
  });
});

describe('without rainbow: kubectl patch of the selector', () => {
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  let held: HeldStreams | undefined;

  beforeAll(async () => {
    ns = await testNamespace('datapath-plain');
    for (const color of [A, B]) await apps.createNamespacedDeployment({ namespace: ns.name, body: colorDeployment('plain', color, { replicas: 2 }) });
    await core.createNamespacedService({ namespace: ns.name, body: appService('plain', A) });
    await clientPod(ns.name);
    for (const color of [A, B]) await waitAvailable(ns.name, `plain-${color}`, 90_000);
  });
  afterAll(async () => {
    if (held) await closeAll(held);
    await ns?.remove();
  });

  test('the same 50 streams survive a selector patch: kube-proxy leaves established flows alone', async () => {
    held = await openBoth(ns.name, 'plain', A);
    const aIPs = await podIPsOf(ns.name, A);
    const patched = await kubectl(['-n', ns.name, 'patch', 'service', 'plain', '-p', JSON.stringify({ spec: { selector: { 'rainbow.dev/color': B } } })]);
    expect(patched.code).toBe(0);
    await expectNewConnectionsReach(ns.name, 'plain', B);
    await expectSurvival(held, A);
    expect(await flowsTo(aIPs)).toHaveLength(2 * PER_SIDE);
    await closeAll(held);
    held = undefined;
  });
});
