// Putting the scale benchmark's objects into the API server and taking them out again: Nodes that
// no kubelet runs (kept Ready by a heartbeat of this process: status conditions and a
// kube-node-lease Lease, what the node lifecycle controller watches), the apps' colors (ReplicaSet
// with 0 replicas → its pods bound to those Nodes → their statuses → the ReplicaSet scaled up →
// the Deployment, which the real deployment controller adopts and whose status it writes from
// the ReplicaSet's), the apps' Services, and pods that are not rainbow's.
import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { isDeploymentAvailable } from '../../../webhook/src/domain/availability.js';
import { ApiError, type Api } from './api.js';
import {
  appColorSpecs,
  appName,
  appServiceOf,
  BENCH_LABEL,
  benchNodeOf,
  colorDeploymentOf,
  colorPodOf,
  colorReplicaSetOf,
  foreignPodOf,
  IP_BLOCK,
  namespaceOfApp,
  PODS_PER_COLOR,
  podIp,
  reporterPort,
  runningStatus,
  SERVING_COLOR,
  type ColorSpec,
  type Layout,
} from './objects.js';
import { forEachPooled, throttledProgress } from './pool.js';

const LEASE_SECONDS = 40;
const enc = encodeURIComponent;

/** Creates the Nodes (or takes them as they are) and keeps them Ready until stop(). */
export async function startBenchNodes(api: Api, names: readonly string[], hostIPs: readonly string[], say: (l: string) => void): Promise<{ stop(): Promise<void> }> {
  const beat = async () => {
    const t = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const micro = new Date().toISOString().replace(/Z$/, '000Z');
    await Promise.all(
      names.map(async (name, i) => {
        const cond = (type: string, status: string, reason: string) => ({ type, status, reason, message: 'a Node object of the scale benchmark: no kubelet; the benchmark posts this status', lastHeartbeatTime: t, lastTransitionTime: t });
        await api.request('PATCH', `/api/v1/nodes/${name}/status`, {
          status: {
            conditions: [cond('Ready', 'True', 'KubeletReady'), cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory'), cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure'), cond('PIDPressure', 'False', 'KubeletHasSufficientPID')],
            addresses: [{ type: 'InternalIP', address: hostIPs[i] }, { type: 'Hostname', address: name }],
          },
        }, 'application/strategic-merge-patch+json');
        const spec = { holderIdentity: name, leaseDurationSeconds: LEASE_SECONDS, renewTime: micro };
        try {
          await api.mergePatch(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`, { spec });
        } catch (err) {
          if (!(err instanceof ApiError && err.status === 404)) throw err;
          await api.post('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { metadata: { name, namespace: 'kube-node-lease' }, spec });
        }
      }),
    );
  };
  for (const name of names) {
    try {
      await api.post('/api/v1/nodes', benchNodeOf(name));
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409)) throw err;
    }
    const capacity = { cpu: '64', memory: '256Gi', pods: '20000', 'ephemeral-storage': '1Ti' };
    await api.request('PATCH', `/api/v1/nodes/${name}/status`, { status: { capacity, allocatable: capacity } }, 'application/merge-patch+json');
  }
  await beat();
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    if (stopped) return;
    running = beat().catch((err: Error) => say(`    node heartbeat failed: ${err.message}`));
  }, 10_000);
  // Ready and without the not-ready taints before any pod is bound to them.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const nodes = await Promise.all(names.map((n) => api.get<{ spec?: { taints?: Array<{ key: string }> }; status?: { conditions?: Array<{ type: string; status: string }> } }>(`/api/v1/nodes/${n}`)));
    const ok = nodes.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !(n.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/')));
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`bench nodes ${names.join(', ')} not Ready without node.kubernetes.io taints within 60 s`);
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      for (const name of names) {
        await api.del(`/api/v1/nodes/${name}`);
        await api.del(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`);
      }
    },
  };
}

export async function ensureNamespaces(api: Api, names: readonly string[]): Promise<void> {
  await forEachPooled(names, 20, async (name) => {
    try {
      await api.post('/api/v1/namespaces', { metadata: { name, labels: { [BENCH_LABEL]: 'scale' } } });
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409)) throw err;
    }
  });
  // The ServiceAccount admission plugin refuses pods until the namespace's default ServiceAccount exists.
  await forEachPooled(names, 20, async (name) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await api.get(`/api/v1/namespaces/${name}/serviceaccounts/default`);
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  });
}

export interface PodPlacement {
  nodes: readonly string[];
  hostIPs: readonly string[];
}

/** One color: its ReplicaSet at 0 replicas, its pods with their statuses; returns the ReplicaSet (with uid). */
/**
 * One color's pods with their statuses, as orphans matching its ReplicaSet's selector. Each pod's
 * rainbow.dev/connections-port names one of `reporters` reporters, in turn.
 */
export async function createColorPods(api: Api, c: ColorSpec, place: PodPlacement, firstSerial: number, block: number, reporters: number, podAnnotations?: Record<string, string>): Promise<void> {
  const rs = colorReplicaSetOf(c);
  await Promise.all(
    Array.from({ length: PODS_PER_COLOR }, async (_, k) => {
      const node = (firstSerial + k) % place.nodes.length;
      const annotations = { ...podAnnotations, 'rainbow.dev/connections-port': String(reporterPort(firstSerial + k, reporters)) };
      const pod = await api.post<V1Pod>(`/api/v1/namespaces/${c.namespace}/pods`, colorPodOf(rs, k, place.nodes[node]!, annotations));
      await api.mergePatch(`/api/v1/namespaces/${c.namespace}/pods/${pod.metadata!.name}/status`, { status: runningStatus(pod, podIp(block, firstSerial + k), place.hostIPs[node]!, new Date()) });
    }),
  );
}

/** The color's ReplicaSet (5 replicas), once its pods exist: the ReplicaSet controller adopts them. */
export const createReplicaSet = (api: Api, c: ColorSpec) => api.post<V1ReplicaSet>(`/apis/apps/v1/namespaces/${c.namespace}/replicasets`, colorReplicaSetOf(c));

export const createDeployment = (api: Api, c: ColorSpec) => api.post<V1Deployment>(`/apis/apps/v1/namespaces/${c.namespace}/deployments`, colorDeploymentOf(c));

/** Time for the controllers' informers to have seen objects just created, before one that must adopt them appears. */
export const SETTLE_MS = 3000;

/** Apps [from, to): 3 colors × 5 pods each and a Service, every Deployment Available at the end. */
export async function createApps(api: Api, layout: Layout, from: number, to: number, place: PodPlacement, connections: number, reporters: number, say: (l: string) => void): Promise<void> {
  const apps = Array.from({ length: to - from }, (_, k) => from + k);
  const namespaces = [...new Set(apps.map((i) => namespaceOfApp(layout, i)))];
  await ensureNamespaces(api, namespaces);
  const now = new Date();
  const specs = apps.map((i) => ({ i, colors: appColorSpecs(namespaceOfApp(layout, i), appName(i), now) }));
  // The draining color's pods carry the deletion cost the controller would write from their count,
  // so that its drain rounds find nothing to write (a steady state).
  const drainingCost = { 'controller.kubernetes.io/pod-deletion-cost': String(connections) };
  await forEachPooled(
    specs,
    12,
    async ({ i, colors }) => {
      await Promise.all(colors.map((c, k) => createColorPods(api, c, place, (i * 3 + k) * PODS_PER_COLOR, IP_BLOCK.apps, reporters, k === 0 ? drainingCost : undefined)));
    },
    throttledProgress(say, `apps ${from}–${to - 1}: pods with their statuses (apps done)`),
  );
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const colorSpecs = specs.flatMap((s) => s.colors);
  await forEachPooled(colorSpecs, 50, (c) => createReplicaSet(api, c).then(() => undefined), throttledProgress(say, 'ReplicaSets (adopting their pods)'));
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  await forEachPooled(colorSpecs, 50, (c) => createDeployment(api, c).then(() => undefined), throttledProgress(say, 'Deployments (adopting their ReplicaSets)'));
  await forEachPooled(specs, 50, ({ i }) => api.post(`/api/v1/namespaces/${namespaceOfApp(layout, i)}/services`, appServiceOf(namespaceOfApp(layout, i), appName(i), SERVING_COLOR)).then(() => undefined), throttledProgress(say, 'Services'));
  await waitAvailable(api, namespaces, say);
}

/** Every labelled Deployment in `namespaces` Available, and each color with exactly its 5 pods (no pod a controller made on its own). */
export async function waitAvailable(api: Api, namespaces: readonly string[], say: (l: string) => void, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    let total = 0;
    let available = 0;
    await forEachPooled(namespaces, 20, async (ns) => {
      const list = await api.get<{ items: V1Deployment[] }>(`/apis/apps/v1/namespaces/${ns}/deployments?labelSelector=${enc(BENCH_LABEL)}%3Dscale`);
      total += list.items.length;
      available += list.items.filter((d) => isDeploymentAvailable(d)).length;
    });
    const line = `${available}/${total} Deployments Available`;
    if (available === total) {
      say(`    ${line}`);
      break;
    }
    if (line !== last) say(`    ${line}; waiting for the deployment controller`);
    last = line;
    if (Date.now() > deadline) throw new Error(`only ${line} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  let strays = 0;
  let rainbowPods = 0;
  await forEachPooled(namespaces, 20, async (ns) => {
    const pods = await api.get<{ items: V1Pod[] }>(`/api/v1/namespaces/${ns}/pods?labelSelector=rainbow.dev%2Fapp`);
    rainbowPods += pods.items.length;
    strays += pods.items.filter((p) => !p.spec?.nodeName?.startsWith('rainbow-scale-node')).length;
  });
  say(`    ${rainbowPods} rainbow pods in ${namespaces.length} namespaces${strays ? `, of which ${strays} made by a controller on its own (not ours; removed as surplus)` : ', all of them ours'}`);
}

/** `count` pods that are not rainbow's, spread over `namespaces` (round robin), Running on the bench Nodes. */
export async function createForeignPods(api: Api, namespaces: readonly string[], count: number, place: PodPlacement, say: (l: string) => void): Promise<void> {
  const serials = Array.from({ length: count }, (_, n) => n);
  await forEachPooled(
    serials,
    25,
    async (n) => {
      const ns = namespaces[n % namespaces.length]!;
      const node = n % place.nodes.length;
      const pod = await api.post<V1Pod>(`/api/v1/namespaces/${ns}/pods`, foreignPodOf(ns, n, place.nodes[node]!));
      await api.mergePatch(`/api/v1/namespaces/${ns}/pods/${pod.metadata!.name}/status`, { status: runningStatus(pod, podIp(IP_BLOCK.foreign, n), place.hostIPs[node]!, new Date()) });
    },
    throttledProgress(say, 'foreign pods with their statuses'),
  );
}

/** Deletes pods at once (grace 0: no kubelet would ever confirm a graceful delete) and waits until they are gone. */
export async function deletePodsNow(api: Api, namespaces: readonly string[], labelSelector: string | undefined, say: (l: string) => void, what: string): Promise<void> {
  const sel = labelSelector ? `&labelSelector=${enc(labelSelector)}` : '';
  // A collection of thousands of pods can outlast the API server's request timeout (504) while it
  // goes on deleting: asked again until none is left.
  const deleteAll = (nss: readonly string[]) =>
    forEachPooled(nss, 10, async (ns) => {
      try {
        await api.request('DELETE', `/api/v1/namespaces/${ns}/pods?gracePeriodSeconds=0${sel}`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 });
      } catch (err) {
        if (!(err instanceof ApiError && (err.status === 504 || err.status === 500))) throw err;
      }
    });
  await deleteAll(namespaces);
  const deadline = Date.now() + 600_000;
  for (let pass = 1; ; pass++) {
    const left = new Map<string, number>();
    await forEachPooled(namespaces, 20, async (ns) => {
      const n = (await api.get<{ items: unknown[] }>(`/api/v1/namespaces/${ns}/pods?limit=500${sel}`)).items.length;
      if (n > 0) left.set(ns, n);
    });
    if (left.size === 0) break;
    if (Date.now() > deadline) throw new Error(`${[...left.values()].reduce((a, b) => a + b, 0)}+ ${what} still there 600 s after their delete`);
    await new Promise((r) => setTimeout(r, 1000));
    if (pass % 10 === 0) await deleteAll([...left.keys()]);
  }
  say(`    ${what} deleted`);
}

/** Everything of the run: pods first (at once), then the namespaces; waits for the namespaces to go. */
export async function deleteNamespaces(api: Api, namespaces: readonly string[], say: (l: string) => void): Promise<void> {
  // Deployments and ReplicaSets first, leaving their pods (a ReplicaSet would replace them).
  const orphan = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' };
  await forEachPooled(namespaces, 10, async (ns) => {
    await api.request('DELETE', `/apis/apps/v1/namespaces/${ns}/deployments?propagationPolicy=Orphan`, orphan);
    await api.request('DELETE', `/apis/apps/v1/namespaces/${ns}/replicasets?propagationPolicy=Orphan`, orphan);
  });
  await deletePodsNow(api, namespaces, undefined, say, 'all pods of the run');
  await forEachPooled(namespaces, 20, (ns) => api.del(`/api/v1/namespaces/${ns}`));
  const deadline = Date.now() + 300_000;
  for (;;) {
    let left = 0;
    await forEachPooled(namespaces, 20, async (ns) => {
      try {
        await api.get(`/api/v1/namespaces/${ns}`);
        left++;
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
      }
    });
    if (left === 0) break;
    if (Date.now() > deadline) {
      say(`    ${left} namespaces still terminating after 300 s; the namespace controller finishes them`);
      return;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
  say(`    ${namespaces.length} namespaces deleted`);
}
