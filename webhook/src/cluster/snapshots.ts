// The few reads the admission policies need, done live against the API server: the app's
// Deployments and Services for the cutover; the namespace, the color's Deployment, Services and
// Pods for the delete guard. Everything here is a GET or a LIST with a label selector.
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../admission/review.js';
import { cutoverFetch, type AppSnapshot } from '../policies/cutover.js';
import { guardFetch, guardSelectors, type GuardSnapshot } from '../policies/delete-guard.js';
import { statusOf } from './kube.js';

export interface SnapshotReader {
  appSnapshot(req: AdmissionRequest): Promise<AppSnapshot>;
  /** Undefined when the request is not one the guard looks at. */
  guardSnapshot(req: AdmissionRequest): Promise<GuardSnapshot | undefined>;
}

export function liveSnapshots(kc: KubeConfig): SnapshotReader {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);

  const readDeployment = async (namespace: string, name: string): Promise<V1Deployment | null> => {
    try {
      return await apps.readNamespacedDeployment({ namespace, name });
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  };
  const namespacePhase = async (name: string): Promise<string | undefined> => {
    try {
      return (await core.readNamespace({ name })).status?.phase;
    } catch (err) {
      if (statusOf(err) === 404) return 'Terminating';
      throw err;
    }
  };

  return {
    async appSnapshot(req) {
      const f = cutoverFetch(req);
      if (!f) return { deployments: [], services: [] };
      const [deployments, services] = await Promise.all([
        apps.listNamespacedDeployment({ namespace: f.namespace, labelSelector: f.labelSelector }),
        core.listNamespacedService({ namespace: f.namespace, labelSelector: f.labelSelector }),
      ]);
      return { deployments: deployments.items, services: services.items };
    },

    async guardSnapshot(req) {
      const f = guardFetch(req);
      if (!f) return undefined;
      const [phase, deployment] = await Promise.all([
        namespacePhase(f.namespace),
        f.deploymentName ? readDeployment(f.namespace, f.deploymentName) : Promise.resolve(undefined),
      ]);
      const selectors = guardSelectors(req, deployment);
      if (!selectors) return { namespacePhase: phase, deployment, services: [], pods: [], now: new Date() };
      const [services, pods] = await Promise.all([
        core.listNamespacedService({ namespace: f.namespace, labelSelector: selectors.services }),
        core.listNamespacedPod({ namespace: f.namespace, labelSelector: selectors.pods }),
      ]);
      return { namespacePhase: phase, deployment, services: services.items, pods: pods.items, now: new Date() };
    },
  };
}
