// The webhook's watch-cache reads: what each read returns from the caches, when it goes to the
// API instead, and that the decisions made from shared cache objects leave them untouched.
import type { KubernetesObject, ObjectCache, V1Deployment, V1Namespace, V1Pod, V1Service } from '@kubernetes/client-node';
import { readsFromCaches, type ReadCaches } from '../../../webhook/src/webhook/reads/cached-reads.js';
import { snapshotReader, type ClusterReads } from '../../../webhook/src/webhook/reads/snapshots.js';
import { decideCutover } from '../../../webhook/src/webhook/cutover.js';
import { planDeleteGuard } from '../../../webhook/src/webhook/guard.js';
import { NEXT, NS, SERVING, deployment, loadRequest, pod, service } from '../../support/builders.js';

class MemoryCache<T extends KubernetesObject> implements ObjectCache<T> {
  constructor(private readonly items: T[]) {}
  get(name: string, namespace?: string): T | undefined {
    return this.items.find((o) => o.metadata?.name === name && (o.metadata?.namespace ?? '') === (namespace ?? ''));
  }
  list(namespace?: string): readonly T[] {
    return namespace ? this.items.filter((o) => o.metadata?.namespace === namespace) : [...this.items];
  }
}

/** Records every call that reached "the API". */
function recordingApi(): ClusterReads & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    deploymentsOfApp: async (ns, app) => (calls.push(`deploymentsOfApp ${ns} ${app}`), []),
    servicesOfApp: async (ns, app) => (calls.push(`servicesOfApp ${ns} ${app}`), []),
    podsOfColor: async (ns, app, color) => (calls.push(`podsOfColor ${ns} ${app} ${color}`), []),
    deployment: async (ns, name) => (calls.push(`deployment ${ns} ${name}`), null),
    replicaSet: async (ns, name) => (calls.push(`replicaSet ${ns} ${name}`), null),
    pod: async (ns, name) => (calls.push(`pod ${ns} ${name}`), null),
    namespacePhase: async (name) => (calls.push(`namespacePhase ${name}`), 'Active'),
  };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

const other = (o: { metadata?: { namespace?: string } }) => ({ ...o, metadata: { ...o.metadata, namespace: 'elsewhere' } });

function caches(): ReadCaches {
  const shop = (phase: string): V1Namespace => ({ metadata: { name: NS }, status: { phase } });
  return {
    deployments: new MemoryCache<V1Deployment>([
      deployment({ color: SERVING }),
      deployment({ color: NEXT, available: false }),
      deployment({ color: 'aaaaaa', app: 'api' }),
      other(deployment({ color: 'bbbbbb' })) as V1Deployment,
    ]),
    services: new MemoryCache<V1Service>([service({ color: SERVING }), service({ name: 'api', app: 'api', color: 'aaaaaa' }), other(service({ color: 'bbbbbb' })) as V1Service]),
    pods: new MemoryCache<V1Pod>([
      pod({ name: 'web-a', color: SERVING }),
      pod({ name: 'web-b', color: NEXT }),
      pod({ name: 'api-a', app: 'api', color: SERVING }),
      other(pod({ name: 'web-c', color: SERVING })) as V1Pod,
    ]),
    namespaces: new MemoryCache<V1Namespace>([shop('Active')]),
  };
}

const names = (items: readonly KubernetesObject[]) => items.map((o) => o.metadata?.name).sort();

describe('reads from watch caches', () => {
  it('answer every read from the caches by namespace and the rainbow labels, without calling the API', async () => {
    const api = recordingApi();
    const reads = readsFromCaches(caches(), api, () => true);
    expect(names(await reads.deploymentsOfApp(NS, 'web'))).toEqual([`web-${SERVING}`, `web-${NEXT}`].sort());
    expect(names(await reads.servicesOfApp(NS, 'web'))).toEqual(['web']);
    expect(names(await reads.podsOfColor(NS, 'web', SERVING))).toEqual(['web-a']);
    expect(names(await reads.podsOfColor(NS, 'api', SERVING))).toEqual(['api-a']);
    expect((await reads.deployment(NS, `web-${SERVING}`))?.metadata?.name).toBe(`web-${SERVING}`);
    expect(await reads.namespacePhase(NS)).toBe('Active');
    expect(await reads.deploymentsOfApp('empty', 'web')).toEqual([]);
    expect(api.calls).toEqual([]);
  });

  it('ask the API for what a cache cannot know: an unlabelled Deployment, a namespace not seen yet', async () => {
    const api = recordingApi();
    const reads = readsFromCaches(caches(), api, () => true);
    expect(await reads.deployment(NS, 'not-a-rainbow-deployment')).toBeNull();
    expect(await reads.namespacePhase('created-a-moment-ago')).toBe('Active');
    expect(api.calls).toEqual([`deployment ${NS} not-a-rainbow-deployment`, 'namespacePhase created-a-moment-ago']);
  });

  it('go to the API for a cache that has not listed yet or whose watch failed, and only for that one', async () => {
    const api = recordingApi();
    const down = new Set<keyof ReadCaches>(['pods', 'namespaces']);
    const reads = readsFromCaches(caches(), api, (c) => !down.has(c));
    await reads.servicesOfApp(NS, 'web');
    await reads.podsOfColor(NS, 'web', SERVING);
    await reads.namespacePhase(NS);
    expect(api.calls).toEqual([`podsOfColor ${NS} web ${SERVING}`, `namespacePhase ${NS}`]);
    down.clear();
    await reads.podsOfColor(NS, 'web', SERVING);
    expect(api.calls).toHaveLength(2);
  });

  it('give the policies snapshots they decide from without modifying the shared objects', async () => {
    const c = caches();
    for (const cache of Object.values(c) as Array<ObjectCache<KubernetesObject>>) deepFreeze(cache.list());
    const reader = snapshotReader(readsFromCaches(c, recordingApi(), () => true));

    const update = loadRequest('service-update-new-color.json');
    const app = await reader.appSnapshot(update);
    expect(names(app.deployments)).toEqual([`web-${SERVING}`, `web-${NEXT}`].sort());
    const cutover = decideCutover(update, app);
    expect(cutover.allowed).toBe(true);
    expect(cutover.warnings?.join('\n')).toContain(`still serving ${SERVING}`);

    for (const file of ['deployment-delete.json', 'deployment-scale-zero.json']) {
      const req = loadRequest(file);
      const snapshot = await reader.guardSnapshot(req);
      expect(snapshot).toMatchObject({ namespacePhase: 'Active' });
      expect(names(snapshot!.pods)).toEqual(['web-a']);
      const plan = planDeleteGuard(req, snapshot!);
      expect(plan.kind).toBe('decided'); // SERVING is serving: refused without asking pods
      if (plan.kind === 'decided') expect(plan.decision.allowed).toBe(false);
    }
  });
});
