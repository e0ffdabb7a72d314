// The local control plane itself: real kube-apiserver, controllers, scheduler and the node
// simulator running pods of the project's image as processes on their own 127.x addresses.
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { clients, eventually, helm, kubectl, testNamespace } from './support/cluster.js';
import { toolVersions } from '../../scripts/cluster/control-plane.js';
import { parseProcNetTcp } from '../../webhook/src/connections/proc-net-tcp.js';
import { repoRoot } from '../../scripts/cluster/paths.js';

const { core, apps, discovery } = clients();
let ns: Awaited<ReturnType<typeof testNamespace>>;

beforeAll(async () => {
  ns = await testNamespace('cluster');
});
afterAll(async () => {
  await ns?.remove();
});

// The Deployment's selector is narrower than the Service's, so its ReplicaSet never adopts the bare pod below.
const labels = { app: 'reporters' };
const deploymentLabels = { ...labels, set: 'deployment' };

function reporterDeployment(replicas: number): V1Deployment {
  return {
    metadata: { name: 'reporters', labels: deploymentLabels },
    spec: {
      replicas,
      selector: { matchLabels: deploymentLabels },
      template: {
        metadata: { labels: deploymentLabels },
        spec: {
          terminationGracePeriodSeconds: 4,
          containers: [
            {
              name: 'reporter',
              image: 'ghcr.io/example/rainbow:e2e',
              args: ['reporter', '--ports', '8080', '--pod-ip', '$(POD_IP)'],
              env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
              ports: [{ name: 'connections', containerPort: 9471 }],
              readinessProbe: { httpGet: { path: '/connections', port: 'connections' }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

const podsOf = async (selector = 'app=reporters') => (await core.listNamespacedPod({ namespace: ns.name, labelSelector: selector })).items;
const isReady = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const pidOf = (p: V1Pod) => Number(p.status?.containerStatuses?.[0]?.containerID?.replace('rainbow-sim://', ''));

test('kubectl version shows the pinned server version', async () => {
  const res = await kubectl(['version', '-o', 'json']);
  expect(res.stderr).toBe('');
  const v = JSON.parse(res.stdout);
  expect(v.serverVersion.gitVersion).toBe(toolVersions().kubernetes);
  expect(v.clientVersion.gitVersion).toBe(toolVersions().kubernetes);
});

test('3 replicas of the project image become Ready, each on its own 127.x address', async () => {
  await apps.createNamespacedDeployment({ namespace: ns.name, body: reporterDeployment(3) });
  const pods = await eventually('3 ready reporter pods', async () => {
    const ps = await podsOf();
    return ps.length === 3 && ps.every(isReady) ? ps : undefined;
  }, 90_000);
  const ips = pods.map((p) => p.status!.podIP!);
  expect(new Set(ips).size).toBe(3);
  for (const ip of ips) expect(ip).toMatch(/^127\.\d+\.\d+\.\d+$/);
  for (const p of pods) {
    expect(p.status?.phase).toBe('Running');
    expect(p.status?.podIPs).toEqual([{ ip: p.status!.podIP }]);
    expect(p.status?.containerStatuses?.[0]).toMatchObject({ name: 'reporter', ready: true, started: true, restartCount: 0 });
    // Answers on its own address…
    const res = await fetch(`http://${p.status!.podIP}:9471/connections`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ established: 0, ports: { '8080': 0 } });
  }
  // …and only there: the bind address is the pod IP, not every interface.
  const refused = await new Promise<boolean>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: 9471 });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });
  expect(refused).toBe(true);
});

test('a NodePort Service reaches exactly the Ready pods; EndpointSlices cannot hold loopback addresses', async () => {
  // A fourth pod with the Service's labels that never becomes Ready (its probe targets a closed port).
  await core.createNamespacedPod({
    namespace: ns.name,
    body: {
      metadata: { name: 'not-ready', labels },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'reporter',
            image: 'rainbow:e2e',
            args: ['reporter', '--ports', '8080'],
            readinessProbe: { tcpSocket: { port: 1 }, periodSeconds: 1 },
          },
        ],
      },
    },
  });
  const svc = await core.createNamespacedService({
    namespace: ns.name,
    body: { metadata: { name: 'reporters' }, spec: { type: 'NodePort', selector: labels, ports: [{ name: 'connections', port: 9471, targetPort: 'connections' }] } },
  });
  const nodePort = svc.spec!.ports![0].nodePort!;
  const notReady = await eventually('the not-ready pod running', async () => {
    const p = (await podsOf()).find((x) => x.metadata!.name === 'not-ready');
    return p?.status?.phase === 'Running' ? p : undefined;
  });
  expect(isReady(notReady)).toBe(false);
  const ready = (await podsOf()).filter(isReady).map((p) => p.status!.podIP!);
  expect(ready).toHaveLength(3);

  // Hold 9 connections through the node port, then see from /proc/net/tcp which pod IPs hold them.
  const socks: net.Socket[] = [];
  try {
    for (let i = 0; i < 9; i++) {
      const s = net.connect({ host: '127.0.0.1', port: nodePort });
      await new Promise((res, rej) => (s.once('connect', res), s.once('error', rej)));
      socks.push(s);
    }
    const served = await eventually('9 proxied connections established', async () => {
      const text = readFileSync('/proc/net/tcp', 'utf8');
      const local = parseProcNetTcp(text).filter((e) => e.state === 1 && e.localPort === 9471 && e.localAddress.startsWith('127.10.'));
      return local.length >= 9 ? local.map((e) => e.localAddress) : undefined;
    });
    expect(new Set(served)).toEqual(new Set(ready));
    expect(served).not.toContain(notReady.status!.podIP);
  } finally {
    for (const s of socks) s.destroy();
  }

  // The real EndpointSlice controller runs and tries, but the API server refuses loopback
  // endpoint addresses (pkg/apis/core/validation ValidateEndpointIP), so no slice lists them.
  const slices = (await discovery.listNamespacedEndpointSlice({ namespace: ns.name, labelSelector: 'kubernetes.io/service-name=reporters' })).items;
  const listed = slices.flatMap((s) => s.endpoints ?? []).flatMap((e) => e.addresses);
  expect(listed.filter((a) => a.startsWith('127.'))).toEqual([]);
  await core.deleteNamespacedPod({ namespace: ns.name, name: 'not-ready' });
  await core.deleteNamespacedService({ namespace: ns.name, name: 'reporters' });
});

test('deleting the Deployment stops its processes within the grace period', async () => {
  const pods = (await podsOf()).filter((p) => p.metadata!.name !== 'not-ready');
  const pids = pods.map(pidOf);
  expect(pids.every((pid) => Number.isInteger(pid) && existsSync(`/proc/${pid}`))).toBe(true);
  const started = Date.now();
  await apps.deleteNamespacedDeployment({ namespace: ns.name, name: 'reporters', propagationPolicy: 'Foreground' });
  await eventually('reporter processes gone', async () => pids.every((pid) => !existsSync(`/proc/${pid}`)), 30_000, 100);
  // The reporter exits on SIGTERM at once; the grace period (4 s) bounds it in any case.
  expect(Date.now() - started).toBeLessThan(4_000 + 5_000);
  await eventually('pods removed from the API', async () => (await podsOf()).filter((p) => p.metadata!.name !== 'not-ready').length === 0, 30_000);
});

test('a pod whose image cannot run here says so in its status', async () => {
  await core.createNamespacedPod({
    namespace: ns.name,
    body: { metadata: { name: 'nginx' }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
  });
  const pod = await eventually('nginx pod status', async () => {
    const p = await core.readNamespacedPod({ namespace: ns.name, name: 'nginx' });
    return p.status?.containerStatuses?.[0]?.state?.waiting ? p : undefined;
  });
  expect(pod.status?.phase).toBe('Pending');
  expect(pod.status?.containerStatuses?.[0].state?.waiting?.reason).toBe('ImageNotRunnableHere');
  expect(pod.status?.containerStatuses?.[0].state?.waiting?.message).toContain('nginx:1.27');
  await core.deleteNamespacedPod({ namespace: ns.name, name: 'nginx' });
});

test('a crashing container is restarted and counted', async () => {
  await core.createNamespacedPod({
    namespace: ns.name,
    // `rainbow reporter` without --ports exits with a usage error.
    body: { metadata: { name: 'crasher' }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'bad', image: 'rainbow', args: ['reporter'] }] } },
  });
  const pod = await eventually('crasher restarted twice', async () => {
    const p = await core.readNamespacedPod({ namespace: ns.name, name: 'crasher' });
    return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2 ? p : undefined;
  }, 60_000);
  expect(pod.status?.containerStatuses?.[0].lastState?.terminated?.exitCode).not.toBe(0);
  const log = readFileSync(path.join(repoRoot, '.local-cluster', 'logs', 'pods', `${ns.name}_crasher_${pod.metadata!.uid!.slice(0, 8)}`, 'bad.log'), 'utf8');
  expect(log).toContain('--ports is required');
  await core.deleteNamespacedPod({ namespace: ns.name, name: 'crasher' });
});

test('helm installs and uninstalls a chart', async () => {
  const chart = path.join(repoRoot, 'test', 'fixtures', 'charts', 'hello');
  const install = await helm(['install', 'hello', chart, '-n', ns.name, '--wait', '--timeout', '90s']);
  expect(install.stderr).toBe('');
  expect(install.code).toBe(0);
  const cm = await core.readNamespacedConfigMap({ namespace: ns.name, name: 'hello-greeting' });
  expect(cm.data?.greeting).toBe('hello from the local cluster');
  const dep = await apps.readNamespacedDeployment({ namespace: ns.name, name: 'hello-reporter' });
  expect(dep.status?.availableReplicas).toBe(1);
  const list = await helm(['list', '-n', ns.name, '-o', 'json']);
  expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name: 'hello', status: 'deployed' })]);
  const uninstall = await helm(['uninstall', 'hello', '-n', ns.name, '--wait']);
  expect(uninstall.code).toBe(0);
  await eventually('helm objects gone', async () => {
    const cms = (await core.listNamespacedConfigMap({ namespace: ns.name })).items.map((c) => c.metadata!.name);
    const deps = (await apps.listNamespacedDeployment({ namespace: ns.name })).items;
    return !cms.includes('hello-greeting') && deps.length === 0;
  });
});
