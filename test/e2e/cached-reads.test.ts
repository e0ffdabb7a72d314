// The webhook's watch caches on the real API server: once synced they hold what a live GET/LIST
// returns, follow changes, and fall back to the API for what they do not watch.
import type { KubernetesObject } from '@kubernetes/client-node';
import { startCachedReads, type CachedReads } from '../../webhook/src/webhook/reads/cached-reads.js';
import { liveReads } from '../../webhook/src/webhook/reads/live-reads.js';
import type { ClusterReads } from '../../webhook/src/webhook/reads/snapshots.js';
import { colorDeployment, appService } from '../../scripts/cluster/app-objects.js';
import { clients, eventually, kubeConfig, testNamespace } from './support/cluster.js';

const kc = kubeConfig();
const { core, apps } = clients(kc);
let ns: Awaited<ReturnType<typeof testNamespace>>;
let cached: CachedReads;
const live = liveReads(kc);
const watchErrors: string[] = [];

beforeAll(async () => {
  ns = await testNamespace('cache');
  cached = startCachedReads(kc, live, { onError: (resource, err) => watchErrors.push(`${resource}: ${String(err)}`) });
  await cached.synced;
});
afterAll(async () => {
  await cached?.stop();
  await ns?.remove();
});

/** name@resourceVersion of each object, sorted: equal means the same objects at the same versions. */
const versions = (items: readonly KubernetesObject[]) => items.map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort();

async function view(reads: ClusterReads, app: string, color: string) {
  const d = await reads.deployment(ns.name, `${app}-${color}`);
  return {
    deployments: versions(await reads.deploymentsOfApp(ns.name, app)),
    services: versions(await reads.servicesOfApp(ns.name, app)),
    pods: versions(await reads.podsOfColor(ns.name, app, color)),
    deployment: d ? versions([d]) : null,
    phase: await reads.namespacePhase(ns.name),
  };
}

/** The caches converge on what the API returns (a watch event trails its write by milliseconds). */
async function converged(app: string, color: string) {
  return eventually(`caches agree with the API for ${app}-${color}`, async () => {
    const [c, l] = [await view(cached, app, color), await view(live, app, color)];
    return JSON.stringify(c) === JSON.stringify(l) ? c : undefined;
  }, 30_000);
}

test('hold what the API returns, through creates, status updates, pods starting and deletes', async () => {
  await apps.createNamespacedDeployment({ namespace: ns.name, body: colorDeployment('web', 'c0ffee') });
  await core.createNamespacedService({ namespace: ns.name, body: appService('web', 'c0ffee') });
  await apps.createNamespacedDeployment({ namespace: ns.name, body: colorDeployment('api', 'c0ffee') });

  const started = await eventually('web-c0ffee has a pod', async () => {
    const v = await converged('web', 'c0ffee');
    return v.pods.length === 1 ? v : undefined;
  }, 60_000);
  expect(started).toMatchObject({ deployments: [expect.stringMatching(/^web-c0ffee@/)], services: [expect.stringMatching(/^web@/)], phase: 'Active' });
  expect(started.deployment).toEqual(started.deployments);

  await apps.deleteNamespacedDeployment({ namespace: ns.name, name: 'web-c0ffee' });
  const gone = await eventually('web-c0ffee gone from the caches', async () => {
    const v = await converged('web', 'c0ffee');
    return v.deployment === null && v.pods.length === 0 ? v : undefined;
  }, 60_000);
  expect(gone.deployments).toEqual([]);
  expect(gone.services).toHaveLength(1);
  expect(watchErrors).toEqual([]);
});

test('read a Deployment without the app label from the API (a scale to 0 of any Deployment names it)', async () => {
  const plain = colorDeployment('plain', 'f00d00');
  plain.metadata!.labels = { team: 'other' };
  await apps.createNamespacedDeployment({ namespace: ns.name, body: plain });
  expect((await cached.deployment(ns.name, 'plain-f00d00'))?.metadata?.labels).toEqual({ team: 'other' });
  expect(await cached.deploymentsOfApp(ns.name, 'plain')).toEqual([]);
});
