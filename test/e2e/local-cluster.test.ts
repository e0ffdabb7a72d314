// The local control plane itself: real kube-apiserver, controllers, scheduler and kube-proxy, and
// the node simulator running pods of the project's image in network namespaces of their own, with
// addresses from the Node's podCIDR; all of it in the cluster's sealed namespace.
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { clients, eventually, helm, kubectl, testNamespace } from './support/cluster.js';
import { readState, toolVersions } from '../../scripts/cluster/control-plane.js';
import { repoRoot } from '../../scripts/cluster/paths.js';
import { contains, parseCidr } from '../../scripts/cluster/network/cidr.js';
import { hostNetwork } from '../../scripts/cluster/network/host-network.js';
import { sealProblems, type LinkInfo, type RouteInfo } from '../../scripts/cluster/network/namespace.js';
import { NODE_IP } from '../../scripts/cluster/network/plan.js';
import { vethName } from '../../scripts/cluster/node-simulator/pod-sandbox.js';
import { clusterHost, execInside, getInside } from './support/network.js';

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

const insideLinks = async () => JSON.parse(await execInside(['ip', '-details', '-json', 'link', 'show'])) as LinkInfo[];

test('the cluster namespace is sealed, and the host network is as it was before the cluster', async () => {
  const links = await insideLinks();
  const routes = JSON.parse(await execInside(['ip', '-json', 'route', 'show', 'table', 'all'])) as RouteInfo[];
  expect(sealProblems(links, routes)).toEqual([]);
  expect(links.map((l) => l.ifname)).toEqual(expect.arrayContaining(['lo', 'rainbow0']));
  expect(routes.filter((r) => r.dst === 'default')).toEqual([]);
  // The host keeps its own interfaces, addresses, routes and nft tables: the cluster added none.
  expect(await hostNetwork()).toEqual(readState()!.hostNetworkBefore);
  // kube-proxy's table lives inside, never on the host.
  expect(await execInside(['nft', 'list', 'tables'])).toMatch(/table (ip|inet) kube-proxy/);
  expect(readState()!.hostNetworkBefore.nftTables.join('\n')).not.toMatch(/kube-proxy/);
});

test('3 replicas of the project image become Ready, each in its own network namespace with an address of the podCIDR', async () => {
  await apps.createNamespacedDeployment({ namespace: ns.name, body: reporterDeployment(3) });
  const pods = await eventually('3 ready reporter pods', async () => {
    const ps = await podsOf();
    return ps.length === 3 && ps.every(isReady) ? ps : undefined;
  }, 90_000);
  const node = await core.readNode({ name: pods[0]!.spec!.nodeName! });
  const podCidr = parseCidr(node.spec!.podCIDR!);
  const ips = pods.map((p) => p.status!.podIP!);
  expect(new Set(ips).size).toBe(3);
  for (const ip of ips) expect(contains(podCidr, ip)).toBe(true);
  const bridged = (await insideLinks()).filter((l) => l.master === 'rainbow0').map((l) => l.ifname);
  for (const p of pods) {
    expect(p.status?.phase).toBe('Running');
    expect(p.status?.podIPs).toEqual([{ ip: p.status!.podIP }]);
    expect(p.status?.hostIP).toBe(NODE_IP);
    expect(p.status?.containerStatuses?.[0]).toMatchObject({ name: 'reporter', ready: true, started: true, restartCount: 0 });
    // Its veth is a port of the node bridge…
    expect(bridged).toContain(vethName(p.metadata!.uid!));
    // …and it answers on its own address, from the node's namespace…
    const res = await getInside(`http://${p.status!.podIP}:9471/connections`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ established: 0, ports: { '8080': 0 } });
  }
  // …but not on the node's loopback, which is not the pod's.
  await expect(getInside('http://127.0.0.1:9471/connections', 2000)).rejects.toThrow();
});

test('a NodePort Service reaches exactly the Ready pods through kube-proxy, and its EndpointSlice lists them', async () => {
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
    return p?.status?.phase === 'Running' && p.status.podIP ? p : undefined;
  });
  expect(isReady(notReady)).toBe(false);
  const ready = (await podsOf()).filter(isReady).map((p) => p.status!.podIP!);
  expect(ready).toHaveLength(3);

  // The real EndpointSlice controller lists every pod, the Ready ones as ready.
  const endpoints = await eventually('an EndpointSlice with 3 ready endpoints', async () => {
    const slices = (await discovery.listNamespacedEndpointSlice({ namespace: ns.name, labelSelector: 'kubernetes.io/service-name=reporters' })).items;
    const eps = slices.flatMap((sl) => sl.endpoints ?? []);
    return eps.filter((e) => e.conditions?.ready).length === 3 ? eps : undefined;
  });
  expect(new Set(endpoints.filter((e) => e.conditions?.ready).flatMap((e) => e.addresses))).toEqual(new Set(ready));
  expect(endpoints.filter((e) => !e.conditions?.ready).flatMap((e) => e.addresses)).toEqual([notReady.status!.podIP]);

  // Hold 40 connections through the node port on the host address; conntrack inside the cluster
  // shows where kube-proxy sent each one. kube-proxy picks an endpoint at random (nftables numgen),
  // so 40 leave a Ready pod without one with a chance of 3 · (2/3)^40 ≈ 3·10⁻⁷; 9 did 8% of the time.
  const HELD = 40;
  const socks: net.Socket[] = [];
  try {
    for (let i = 0; i < HELD; i++) {
      const s = await eventually(`connection ${i + 1} through node port ${nodePort}`, () =>
        new Promise<net.Socket | undefined>((resolve) => {
          const c = net.connect({ host: clusterHost(), port: nodePort });
          // A connection kube-proxy could not send anywhere is closed at once.
          c.once('connect', () => setTimeout(() => resolve(c.destroyed ? undefined : c), 100));
          c.once('error', () => resolve(undefined));
        }), 15_000, 200);
      socks.push(s);
    }
    const served = await eventually(`${HELD} established flows in conntrack`, async () => {
      const out = await execInside(['conntrack', '-L', '-p', 'tcp', '--dport', String(nodePort), '--state', 'ESTABLISHED']).catch(() => '');
      // Each entry: the original direction (to the node port), then the reply (from the pod).
      const replies = out.split('\n').flatMap((l) => {
        const m = /src=\S+ dst=\S+ sport=\d+ dport=\d+ .*?src=(\S+) dst=\S+ sport=9471/.exec(l);
        return m ? [m[1]!] : [];
      });
      return replies.length >= HELD ? replies : undefined;
    });
    expect(new Set(served)).toEqual(new Set(ready));
    expect(served).not.toContain(notReady.status!.podIP);
  } finally {
    for (const s of socks) s.destroy();
  }
  await core.deleteNamespacedPod({ namespace: ns.name, name: 'not-ready' });
  await core.deleteNamespacedService({ namespace: ns.name, name: 'reporters' });
});

test('deleting the Deployment stops its processes within the grace period', async () => {
  const pods = (await podsOf()).filter((p) => p.metadata!.name !== 'not-ready');
  const pids = pods.map(pidOf);
  const veths = pods.map((p) => vethName(p.metadata!.uid!));
  expect(pids.every((pid) => Number.isInteger(pid) && existsSync(`/proc/${pid}`))).toBe(true);
  const started = Date.now();
  await apps.deleteNamespacedDeployment({ namespace: ns.name, name: 'reporters', propagationPolicy: 'Foreground' });
  await eventually('reporter processes gone', async () => pids.every((pid) => !existsSync(`/proc/${pid}`)), 30_000, 100);
  // The reporter exits on SIGTERM at once; the grace period (4 s) bounds it in any case.
  expect(Date.now() - started).toBeLessThan(4_000 + 5_000);
  await eventually('pods removed from the API', async () => (await podsOf()).filter((p) => p.metadata!.name !== 'not-ready').length === 0, 30_000);
  // Their sandboxes went too: the network namespace, and with it the veth pair.
  await eventually('their veths gone from the node bridge', async () => {
    const names = (await insideLinks()).map((l) => l.ifname);
    return veths.every((v) => !names.includes(v));
  }, 10_000, 200);
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
