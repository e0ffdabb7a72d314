// The node simulator: plays kubelet for one Node of the local cluster, inside the cluster's network
// namespace. Started by `scripts/local-cluster up`; stops every pod on SIGTERM.
import { rmSync } from 'node:fs';
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
import { forgetPodProcess, recordPodProcess } from './pod-processes.js';
import { apiClient } from '../../../webhook/src/kube/client.js';
import { rainbowCommand } from '../rainbow-command.js';
import { runCommand } from '../processes.js';

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

function runnerFor(pod: V1Pod): PodRunner {
  const held = pod.status?.podIP;
  const ip = held && pool.claim(held) ? held : pool.allocate();
  const ns = pod.metadata!.namespace!;
  const saDir = path.join(serviceAccountDir, keyOf(pod));
  const sandbox = new PodSandbox(keyOf(pod), `${ns}/${pod.metadata!.name}`, { ip, bits: pool.bits, gateway: pool.gateway }, saDir, { record: recordPodProcess, forget: forgetPodProcess });
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

function onPod(pod: V1Pod): void {
  const key = keyOf(pod);
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
