// Every way a draining color's connected pod can go, against the real API server, the real
// ReplicaSet controller and real kubectl: a scale down (of the Deployment and of its ReplicaSet),
// a rollout restart and a new image, a pod DELETE and `kubectl drain`'s evictions. Each is refused
// while the pod holds a real TCP stream and goes through once it is drained, ranked or forced.
import { spawn } from 'node:child_process';
import type { V1Pod } from '@kubernetes/client-node';
import { bin, kubeconfigPath } from '../../scripts/cluster/paths.js';
import { clients, eventually, kubectl, testNamespace } from './support/cluster.js';
import { connectionsOf, openStream, waitAvailable, type Stream } from './support/controller.js';
import { startWebhook, type RegisteredWebhook } from './support/webhook.js';
import { appService, colorDeployment } from '../../scripts/cluster/app-objects.js';

const { core, apps } = clients();
const NODE = 'rainbow-node';
const DRAINING = 'a11ce5';
const SERVING = 'b0b0b0';
let ns: Awaited<ReturnType<typeof testNamespace>>;
let webhook: RegisteredWebhook;
let stream: Stream | undefined;

const k = (...args: string[]) => kubectl(['-n', ns.name, ...args]);

/** The color's running pods that are not being deleted, by name. */
async function runningPods(color: string): Promise<V1Pod[]> {
  const pods = (await core.listNamespacedPod({ namespace: ns.name, labelSelector: `rainbow.dev/color=${color}` })).items;
  return pods.filter((p) => p.status?.phase === 'Running' && p.status.podIP && !p.metadata?.deletionTimestamp).sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
}

/** The stream is still served: a new line arrives on it. */
async function stillStreaming(s: Stream): Promise<void> {
  const before = s.lines.length;
  await eventually('a new line on the held stream', async () => !s.socket.destroyed && s.lines.length > before, 10_000, 100);
}

beforeAll(async () => {
  ns = await testNamespace('guard');
  webhook = await startWebhook(ns.name);
  // The reporter counts the stream port only: the readiness probes' short HTTP connections on
  // 8080 would otherwise make an empty pod read 1 now and then.
  await apps.createNamespacedDeployment({ namespace: ns.name, body: colorDeployment('web', SERVING, { countedPorts: '8081' }) });
  await apps.createNamespacedDeployment({ namespace: ns.name, body: colorDeployment('web', DRAINING, { replicas: 2, countedPorts: '8081' }) });
  await waitAvailable(ns.name, `web-${SERVING}`);
  await waitAvailable(ns.name, `web-${DRAINING}`);
  await core.createNamespacedService({ namespace: ns.name, body: appService('web', SERVING) });
});
afterAll(async () => {
  stream?.socket.destroy();
  await kubectl(['uncordon', NODE]);
  await webhook?.stop();
  await ns?.remove();
});

test('a scale down is refused while it could remove the connected pod, and allowed once that pod ranks above the other', async () => {
  const [held, empty] = await runningPods(DRAINING);
  stream = await openStream(held!.status!.podIP!, 8081, 15_000, 'inside');
  await eventually('the stream is counted', async () => (await connectionsOf(ns.name, DRAINING)) === 1, 10_000);

  const refused = await k('scale', 'deployment', `web-${DRAINING}`, '--replicas=1');
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain(`Refusing to scale Deployment ${ns.name}/web-${DRAINING}`);
  expect(refused.stderr).toContain(`${held!.metadata!.name}: 1`);
  expect(refused.stderr).toContain('Scale to at least 2');
  expect(refused.stderr).toContain('controller.kubernetes.io/pod-deletion-cost');
  console.log(`$ kubectl scale deployment web-${DRAINING} --replicas=1\n${refused.stderr}`);

  // The ReplicaSet's own Scale, below what its Deployment wants, is the same removal.
  const rs = (await apps.listNamespacedReplicaSet({ namespace: ns.name, labelSelector: `rainbow.dev/color=${DRAINING}` })).items[0]!;
  const rsRefused = await k('scale', 'replicaset', rs.metadata!.name!, '--replicas=1');
  expect(rsRefused.code).not.toBe(0);
  expect(rsRefused.stderr).toContain(`Refusing to scale ReplicaSet ${ns.name}/${rs.metadata!.name}`);

  // Ranked above the empty pod, the connected one is not among those the ReplicaSet removes.
  expect((await k('annotate', 'pod', held!.metadata!.name!, 'controller.kubernetes.io/pod-deletion-cost=10')).code).toBe(0);
  await eventually('the scale down allowed once the webhook has seen the cost', async () => (await k('scale', 'deployment', `web-${DRAINING}`, '--replicas=1')).code === 0, 10_000, 250);
  await eventually('the empty pod removed', async () => (await runningPods(DRAINING)).map((p) => p.metadata!.name).join() === held!.metadata!.name, 30_000);
  expect(empty!.metadata!.name).not.toBe(held!.metadata!.name);
  await stillStreaming(stream);
});

test('a rollout restart or a new image of the draining color is refused; the serving color rolls as usual', async () => {
  const restart = await k('rollout', 'restart', `deployment/web-${DRAINING}`);
  expect(restart.code).not.toBe(0);
  expect(restart.stderr).toContain(`Refusing to change the pod template of Deployment ${ns.name}/web-${DRAINING}`);
  expect(restart.stderr).toContain('replaces every pod');
  const image = await k('set', 'image', `deployment/web-${DRAINING}`, 'app=rainbow:other');
  expect(image.code).not.toBe(0);
  expect(image.stderr).toContain('1 established connection still open');
  expect((await k('rollout', 'restart', `deployment/web-${SERVING}`)).code).toBe(0);
  await stillStreaming(stream!);
});

test('a pod DELETE is refused while connected; an empty pod of the same color goes', async () => {
  const [held] = await runningPods(DRAINING);
  const refused = await k('delete', 'pod', held!.metadata!.name!, '--wait=false');
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain(`Refusing to delete pod ${ns.name}/${held!.metadata!.name}`);
  expect(refused.stderr).toContain(`kubectl annotate pod ${held!.metadata!.name} -n ${ns.name} rainbow.dev/force-delete=true`);
  const dry = await k('delete', 'pod', held!.metadata!.name!, '--dry-run=server');
  expect(dry.code).not.toBe(0);
  expect(dry.stderr).toContain('1 established connection');
  await stillStreaming(stream!);

  // An empty pod of the same color goes: scale up, wait for it, delete it.
  expect((await k('scale', 'deployment', `web-${DRAINING}`, '--replicas=2')).code).toBe(0);
  await eventually('a second pod running', async () => (await runningPods(DRAINING)).length === 2, 30_000);
  const other = (await runningPods(DRAINING)).find((p) => p.metadata!.name !== held!.metadata!.name)!;
  const gone = await k('delete', 'pod', other.metadata!.name!, '--wait=false');
  expect(gone.stderr).toBe('');
  expect(gone.code).toBe(0);
});

test('kubectl drain retries the eviction of the connected pod (429) and succeeds once its client has gone', async () => {
  const [held] = await runningPods(DRAINING);
  const args = ['drain', NODE, `--pod-selector=rainbow.dev/color=${DRAINING}`, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=120s'];
  const drain = spawn(bin('kubectl'), args, { env: { ...process.env, KUBECONFIG: kubeconfigPath }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  drain.stdout.on('data', (d) => (output += d));
  drain.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number>((resolve) => drain.once('exit', (code) => resolve(code ?? 1)));
  try {
    await eventually('kubectl drain retrying', async () => /will retry after/.test(output) && output.includes('Not evicting pod'), 30_000, 200);
    expect(output).toContain(held!.metadata!.name);
    await stillStreaming(stream!);
    expect((await runningPods(DRAINING)).map((p) => p.metadata!.name)).toContain(held!.metadata!.name);

    stream!.socket.destroy();
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<number>((resolve) => (timer = setTimeout(() => resolve(-1), 60_000)))]);
    clearTimeout(timer);
    expect([code, output]).toEqual([0, expect.stringContaining(`pod/${held!.metadata!.name} evicted`)]);
    console.log(`$ kubectl ${args.join(' ')}\n${output}`);
  } finally {
    drain.kill();
    await kubectl(['uncordon', NODE]);
  }
});
