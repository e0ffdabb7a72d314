// The node simulator: plays kubelet for one Node of the local cluster, inside the cluster's network
// namespace. Started by `scripts/local-cluster up`; stops every pod on SIGTERM. Killed (SIGKILL),
// it leaves its pods running, as a kubelet restart leaves containers running: the next simulator
// adopts every pod whose sandbox is still there and stops what belongs to no pod any more.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CoordinationV1Api, CoreV1Api, KubeConfig, PatchStrategy, VersionApi, setHeaderOptions, type V1Pod, type V1Service } from '@kubernetes/client-node';
import { startInformer } from '../../../webhook/src/kube/informer.js';
import { eventually } from '../poll.js';
import { BRIDGE } from '../network/plan.js';
import { IpPool } from './ip-pool.js';
import { PodRunner } from './pod-runner.js';
import { PodSandbox } from './pod-sandbox.js';
import { heartbeat, registerNode } from './node-status.js';
import { logDir, repoRoot, stateDir } from '../paths.js';
import { writeServiceAccount } from './service-account.js';
import { serviceLinkEnv } from './service-links.js';
import { forgetPodProcess, readPodProcesses, recordPodProcess } from './pod-processes.js';
import { apiClient } from '../../../webhook/src/kube/client.js';
import { rainbowCommand } from '../rainbow-command.js';
import { isRunning, runCommand, stopDaemon, type Daemon } from '../processes.js';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    'node-name': { type: 'string', default: 'rainbow-node' },
    'node-ip': { type: 'string' },
    'heartbeat-seconds': { type: 'string', default: '10' },
  },
});
if (!values['node-ip']) throw new Error('node simulator: --node-ip is required');
const nodeIP = values['node-ip'];

const log = (message: string) => process.stdout.write(`${new Date().toISOString()} ${message}\n`);
const kc = new KubeConfig();
if (values.kubeconfig) kc.loadFromFile(values.kubeconfig);
else kc.loadFromDefault();
const core = apiClient(kc, CoreV1Api);
const coord = apiClient(kc, CoordinationV1Api);
const nodeName = values['node-name']!;
const runners = new Map<string, PodRunner>();
const finishing = new Set<string>();
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
// Every pod's containers run `rainbow` as the image does (its node flags).
const { node: rainbowNode, args: rainbowArgs } = rainbowCommand();

const version = await (async () => {
  try {
    return (await apiClient(kc, VersionApi).getCode()).gitVersion;
  } catch {
    return 'v0.0.0';
  }
})();

await registerNode(core, nodeName, version, nodeIP);
// kube-controller-manager allocates the Node's podCIDR once it sees the Node.
const podCIDR = await eventually(`a podCIDR on node ${nodeName}`, async () => (await core.readNode({ name: nodeName })).spec?.podCIDR, 60_000, 200);
const pool = new IpPool(podCIDR);
// Where the pool goes on after a restart: without it a restarted simulator would hand out at once
// the addresses of pods that went a moment ago, whose neighbour (ARP) and conntrack entries other
// pods still hold — their first requests to the new pod then stall for seconds.
const poolCursor = path.join(stateDir, 'pod-ip-next');
try {
  pool.resumeAt(readFileSync(poolCursor, 'utf8').trim());
} catch {
  /* first start */
}
const allocate = (): string => {
  const ip = pool.allocate();
  writeFileSync(poolCursor, pool.nextAddress);
  return ip;
};
await runCommand(['ip', 'address', 'replace', `${pool.gateway}/${pool.bits}`, 'dev', BRIDGE]);
log(`node ${nodeName} registered (kubelet ${version}, InternalIP ${nodeIP}); pods get addresses in ${podCIDR}, gateway ${pool.gateway} on ${BRIDGE}`);
const beat = setInterval(() => {
  heartbeat(core, coord, nodeName).catch((err: Error) => log(`heartbeat failed: ${err.message}`));
}, Number(values['heartbeat-seconds']) * 1000);
await heartbeat(core, coord, nodeName);

const keyOf = (p: V1Pod) => p.metadata!.uid!;
const serviceAccountDir = path.join(stateDir, 'service-accounts');
const forgetServiceAccount = (uid: string) => rmSync(path.join(serviceAccountDir, uid), { recursive: true, force: true });

async function lookup(namespace: string, kind: 'ConfigMap' | 'Secret', name: string, key: string): Promise<string | undefined> {
  try {
    if (kind === 'ConfigMap') return (await core.readNamespacedConfigMap({ name, namespace })).data?.[key];
    const v = (await core.readNamespacedSecret({ name, namespace })).data?.[key];
    return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
  } catch {
    return undefined;
  }
}

// Pod processes of a simulator before this one that still run (it was killed), by record name
// `<namespace>/<pod>/<container>` or `…/sandbox`.
const leftBehind = new Map<string, Daemon>(readPodProcesses().filter(isRunning).map((d) => [d.name, d]));
if (leftBehind.size > 0) log(`${leftBehind.size} pod process(es) of an earlier simulator still run: adopting their pods`);

/** Takes the left-behind processes of one pod off the list: its sandbox holder and containers by name. */
function takeLeftBehind(pod: V1Pod): { holder?: Daemon; containers: Map<string, Daemon> } {
  const prefix = `${pod.metadata!.namespace}/${pod.metadata!.name}/`;
  const holder = leftBehind.get(`${prefix}sandbox`);
  const containers = new Map<string, Daemon>();
  for (const [name, d] of [...leftBehind]) {
    if (!name.startsWith(prefix)) continue;
    leftBehind.delete(name);
    if (d !== holder) containers.set(name.slice(prefix.length), d);
  }
  return { holder, containers };
}

/** Stops processes that no pod can adopt: containers (their process groups) first, then sandboxes. */
async function stopLeftBehind(procs: Daemon[], why: string): Promise<void> {
  const isSandbox = (d: Daemon) => d.name.endsWith('/sandbox');
  for (const d of procs.filter((x) => !isSandbox(x))) {
    try {
      process.kill(-d.pid, 'SIGKILL');
    } catch {
      /* not a group leader, or gone */
    }
    await stopDaemon(d, 0, 'SIGKILL');
    forgetPodProcess(d.pid);
  }
  for (const d of procs.filter(isSandbox)) {
    await stopDaemon(d, 2_000);
    forgetPodProcess(d.pid);
  }
  if (procs.length > 0) log(`stopped ${procs.length} process(es) an earlier simulator left (${why}): ${procs.map((d) => d.name).join(', ')}`);
}

function runnerFor(pod: V1Pod, adoptedHolder?: Daemon): PodRunner {
  const held = pod.status?.podIP;
  const ip = held && pool.claim(held) ? held : allocate();
  const ns = pod.metadata!.namespace!;
  const saDir = path.join(serviceAccountDir, keyOf(pod));
  const sandbox = new PodSandbox(keyOf(pod), `${ns}/${pod.metadata!.name}`, { ip, bits: pool.bits, gateway: pool.gateway }, saDir, { record: recordPodProcess, forget: forgetPodProcess });
  if (adoptedHolder) sandbox.adopt(adoptedHolder);
  const r = new PodRunner(pod, sandbox, {
    rainbow: [rainbowNode, ...rainbowArgs],
    hostIP: nodeIP,
    cwd: repoRoot,
    logDir: path.join(logDir, 'pods'),
    lookup: (kind, name, key) => lookup(ns, kind, name, key),
    podEnv: async (p) => {
      await writeServiceAccount(kc, p, saDir);
      return serviceLinkEnv(p, services.informer.list());
    },
    log,
    writeStatus: async (p, status) => {
      if (!runners.has(keyOf(p)) && !finishing.has(keyOf(p))) return;
      await core.patchNamespacedPodStatus({ name: p.metadata!.name!, namespace: ns, body: { status } }, mergePatch);
    },
  });
  return r;
}

async function finish(pod: V1Pod): Promise<void> {
  const key = keyOf(pod);
  if (finishing.has(key)) return;
  finishing.add(key);
  const runner = runners.get(key);
  const grace = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  try {
    if (runner) {
      log(`${runner.key}: deleting; SIGTERM, then SIGKILL after ${grace}s`);
      await runner.terminate(grace);
      pool.release(runner.ip);
    }
    await core.deleteNamespacedPod({
      name: pod.metadata!.name!,
      namespace: pod.metadata!.namespace!,
      // Options go in the body: the API server ignores query parameters when a body is sent.
      body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata!.uid } },
    });
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (code !== 404 && code !== 409) log(`${pod.metadata?.namespace}/${pod.metadata?.name}: final delete failed: ${(err as Error).message}`);
  } finally {
    runners.delete(key);
    finishing.delete(key);
    forgetServiceAccount(key);
  }
}

/** A pod whose sandbox an earlier simulator left running: its runner takes the processes over. */
function adoptLeftBehind(pod: V1Pod): void {
  const left = takeLeftBehind(pod);
  if (!left.holder && left.containers.size === 0) return;
  const held = pod.status?.podIP;
  const done = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
  if (!left.holder || !held || done || !pool.claim(held)) {
    // Not adoptable: the pod is started afresh, as kubelet re-creates a sandbox it cannot use.
    const why = !left.holder ? 'no sandbox left' : !held ? 'its address was never written to the pod status' : done ? `the pod has ${pod.status?.phase}` : `address ${held} is taken`;
    void stopLeftBehind([...(left.holder ? [left.holder] : []), ...left.containers.values()], `${why}; starting the pod afresh`);
    return;
  }
  pool.release(held); // runnerFor claims it again
  const runner = runnerFor(pod, left.holder);
  runners.set(keyOf(pod), runner);
  log(`${runner.key}: adopting its sandbox (pid ${left.holder.pid}) and ${left.containers.size} running container(s) on ${held}`);
  runner.adopt(left.containers).catch((err: Error) => log(`${runner.key}: adoption failed: ${err.message}`));
}

function onPod(pod: V1Pod): void {
  const key = keyOf(pod);
  if (!runners.has(key) && !finishing.has(key) && leftBehind.size > 0) adoptLeftBehind(pod);
  if (pod.metadata?.deletionTimestamp) {
    void finish(pod);
    return;
  }
  const existing = runners.get(key);
  if (existing) {
    existing.update(pod);
    return;
  }
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
  const runner = runnerFor(pod);
  runners.set(key, runner);
  runner.start().catch((err: Error) => log(`${runner.key}: start failed: ${err.message}`));
}

function onPodGone(pod: V1Pod): void {
  const key = keyOf(pod);
  const runner = runners.get(key);
  if (!runner || finishing.has(key)) return;
  runners.delete(key);
  forgetServiceAccount(key);
  log(`${runner.key}: removed from the API; killing its processes`);
  void runner.kill().then(() => pool.release(runner.ip));
}

const services = startInformer<V1Service>(kc, '/api/v1/services', () => core.listServiceForAllNamespaces(), {
  onError: (err, ms) => log(`service watch error (${(err as Error)?.message ?? err}); relisting in ${ms} ms`),
});
await services.synced;

const pods = startInformer<V1Pod>(kc, '/api/v1/pods', () => core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` }), {
  fieldSelector: `spec.nodeName=${nodeName}`,
  onError: (err, ms) => log(`pod watch error (${(err as Error)?.message ?? err}); relisting in ${ms} ms`),
});
pods.informer.on('add', onPod);
pods.informer.on('update', onPod);
pods.informer.on('delete', onPodGone);

await pods.synced;
// What is still on the list belongs to no pod of this node any more (deleted while no simulator ran).
await stopLeftBehind([...leftBehind.values()], 'their pods are no longer on this node');
leftBehind.clear();
log('node simulator ready');

let stopping = false;
async function shutdown(sig: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`${sig}: stopping ${runners.size} pod(s)`);
  clearInterval(beat);
  await Promise.allSettled([pods.stop(), services.stop()]);
  await Promise.allSettled([...runners.values()].map((r) => r.kill(2000)));
  log('node simulator stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
