// ClusterReads straight from the API server: each call is one GET or one LIST with a label
// selector. Exact, and the fallback of the cached reads until their watches have synced.
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { LABEL_APP, LABEL_COLOR } from '../../domain/contract.js';
import { apiClient, statusOf } from '../../kube/client.js';
import type { ClusterReads } from './snapshots.js';

/** A review has the webhook's timeoutSeconds (10 s by default) in all: a read gives up well inside it. */
const LIVE_READ_TIMEOUT_MS = 5_000;

/** A GET's object, or null when there is none (404). */
async function orNull<T>(get: Promise<T>): Promise<T | null> {
  try {
    return await get;
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw err;
  }
}

export function liveReads(kc: KubeConfig): ClusterReads {
  const core = apiClient(kc, CoreV1Api, LIVE_READ_TIMEOUT_MS);
  const apps = apiClient(kc, AppsV1Api, LIVE_READ_TIMEOUT_MS);
  return {
    async deploymentsOfApp(namespace, app) {
      return (await apps.listNamespacedDeployment({ namespace, labelSelector: `${LABEL_APP}=${app}` })).items;
    },
    async servicesOfApp(namespace, app) {
      return (await core.listNamespacedService({ namespace, labelSelector: `${LABEL_APP}=${app}` })).items;
    },
    async podsOfColor(namespace, app, color) {
      return (await core.listNamespacedPod({ namespace, labelSelector: `${LABEL_APP}=${app},${LABEL_COLOR}=${color}` })).items;
    },
    deployment: (namespace, name) => orNull(apps.readNamespacedDeployment({ namespace, name })),
    replicaSet: (namespace, name) => orNull(apps.readNamespacedReplicaSet({ namespace, name })),
    pod: (namespace, name) => orNull(core.readNamespacedPod({ namespace, name })),
    // A namespace that is gone is as good as terminating.
    namespacePhase: async (name) => ((await orNull(core.readNamespace({ name }))) ?? { status: { phase: 'Terminating' } }).status?.phase,
  };
}
