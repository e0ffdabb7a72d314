// ClusterReads from watch caches: four resilient informers (Deployments, Services and Pods that
// carry rainbow.dev/app, and Namespaces) hold what the policies read, so once they have synced a
// review costs no API call. Until then, and for what a cache cannot know (a Deployment without
// the app label, e.g. the target of a scale to 0; a namespace created a moment ago), the reads go
// to the fallback, the live API.
//
// How stale can a cache be? A watch event arrives milliseconds after the write. In that window
// the cutover may not see a Deployment created by the same `helm upgrade` yet: it then treats the
// color as not Available and keeps the serving one (pending-color), the safe side. The guard may
// not see a Service that just moved away (it refuses, the safe side) or a pod created within the
// window (one that cannot have been Ready, let alone hold connections, so nothing is lost).
import { AppsV1Api, CoreV1Api, type KubeConfig, type KubernetesListObject, type KubernetesObject, type ObjectCache, type V1Deployment, type V1Namespace, type V1Pod, type V1Service } from '@kubernetes/client-node';
import { LABEL_APP, LABEL_COLOR } from '../../domain/contract.js';
import { startInformer, type ResilientInformer } from '../../kube/informer.js';
import type { ClusterReads } from './snapshots.js';
import { apiClient } from '../../kube/client.js';

export interface ReadCaches {
  deployments: ObjectCache<V1Deployment>;
  services: ObjectCache<V1Service>;
  pods: ObjectCache<V1Pod>;
  namespaces: ObjectCache<V1Namespace>;
}

function labelled<T extends KubernetesObject>(items: readonly T[], want: Record<string, string>): T[] {
  const pairs = Object.entries(want);
  return items.filter((o) => pairs.every(([k, v]) => o.metadata?.labels?.[k] === v));
}

/**
 * Reads answered by a cache while `usable(cache)` holds (it has listed and its watch has not
 * failed since), by `fallback` otherwise. Objects are the caches' own: the policies never modify
 * what they read.
 */
export function readsFromCaches(caches: ReadCaches, fallback: ClusterReads, usable: (cache: keyof ReadCaches) => boolean): ClusterReads {
  return {
    async deploymentsOfApp(namespace, app) {
      if (!usable('deployments')) return fallback.deploymentsOfApp(namespace, app);
      return labelled(caches.deployments.list(namespace), { [LABEL_APP]: app });
    },
    async servicesOfApp(namespace, app) {
      if (!usable('services')) return fallback.servicesOfApp(namespace, app);
      return labelled(caches.services.list(namespace), { [LABEL_APP]: app });
    },
    async podsOfColor(namespace, app, color) {
      if (!usable('pods')) return fallback.podsOfColor(namespace, app, color);
      return labelled(caches.pods.list(namespace), { [LABEL_APP]: app, [LABEL_COLOR]: color });
    },
    async deployment(namespace, name) {
      const cached = usable('deployments') ? caches.deployments.get(name, namespace) : undefined;
      return cached ?? fallback.deployment(namespace, name);
    },
    // Not watched: only a scale of a ReplicaSet's Scale subresource reads one.
    replicaSet: (namespace, name) => fallback.replicaSet(namespace, name),
    async pod(namespace, name) {
      const cached = usable('pods') ? caches.pods.get(name, namespace) : undefined;
      return cached ?? fallback.pod(namespace, name);
    },
    async namespacePhase(name) {
      const cached = usable('namespaces') ? caches.namespaces.get(name) : undefined;
      return cached ? cached.status?.phase : fallback.namespacePhase(name);
    },
  };
}

export interface CachedReads extends ClusterReads {
  /** Resolves once every watch has listed; until a cache has, its reads go to the fallback. */
  synced: Promise<void>;
  stop(): Promise<void>;
}

export interface CachedReadsOptions {
  /** A list or watch failed: that cache's reads go to the fallback until it watches again (retry in `retryInMs`). */
  onError?: (resource: string, err: unknown, retryInMs: number) => void;
  /** That cache's watch is established again: its reads come from it again. */
  onRecovered?: (resource: string) => void;
}

export function startCachedReads(kc: KubeConfig, fallback: ClusterReads, opts: CachedReadsOptions = {}): CachedReads {
  const core = apiClient(kc, CoreV1Api);
  const apps = apiClient(kc, AppsV1Api);
  const watch = <T extends KubernetesObject>(resource: string, path: string, list: () => Promise<KubernetesListObject<T>>, labelSelector?: string) =>
    startInformer<T>(kc, path, list, {
      labelSelector,
      onError: (err, ms) => opts.onError?.(resource, err, ms),
      onRecovered: () => opts.onRecovered?.(resource),
    });
  const appLabel = LABEL_APP;
  const podLabels = `${LABEL_APP},${LABEL_COLOR}`;
  const deployments = watch<V1Deployment>('Deployment', '/apis/apps/v1/deployments', () => apps.listDeploymentForAllNamespaces({ labelSelector: appLabel }), appLabel);
  const services = watch<V1Service>('Service', '/api/v1/services', () => core.listServiceForAllNamespaces({ labelSelector: appLabel }), appLabel);
  const pods = watch<V1Pod>('Pod', '/api/v1/pods', () => core.listPodForAllNamespaces({ labelSelector: podLabels }), podLabels);
  const namespaces = watch<V1Namespace>('Namespace', '/api/v1/namespaces', () => core.listNamespace());
  const informers: { [K in keyof ReadCaches]: ResilientInformer<KubernetesObject> } = { deployments, services, pods, namespaces };
  const all = Object.values(informers);
  const reads = readsFromCaches(
    { deployments: deployments.informer, services: services.informer, pods: pods.informer, namespaces: namespaces.informer },
    fallback,
    (cache) => informers[cache].healthy(),
  );
  return {
    ...reads,
    synced: Promise.all(all.map((i) => i.synced)).then(() => undefined),
    async stop() {
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}
