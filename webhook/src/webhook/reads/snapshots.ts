// The few reads the admission policies need: the app's Deployments and Services for the cutover;
// for the guard the namespace, the color's Deployment (or the scaled ReplicaSet and its owner, or
// the evicted pod), the app's Services and the color's Pods (or, for a pod, the app's Deployments). `snapshotReader` turns any ClusterReads into the snapshots the policies take; the reads
// come live from the API server (live-reads.ts: a GET or a labelled LIST per review) or from watch
// caches (cached-reads.ts: no API call per review once synced).
import type { V1Deployment, V1Pod, V1ReplicaSet, V1Service } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../../admission/review.js';
import { cutoverFetch, type AppSnapshot } from '../cutover.js';
import { guardFetch, guardScope, type GuardSnapshot } from '../guard.js';
import { controllerDeploymentRef } from '../guard-request.js';

export interface SnapshotReader {
  appSnapshot(req: AdmissionRequest): Promise<AppSnapshot>;
  /** Undefined when the request is not one the guard looks at. */
  guardSnapshot(req: AdmissionRequest): Promise<GuardSnapshot | undefined>;
}

/** What the policies read, by what the contract's labels say: rainbow.dev/app and rainbow.dev/color. */
export interface ClusterReads {
  /** Deployments labelled rainbow.dev/app=<app> in the namespace. */
  deploymentsOfApp(namespace: string, app: string): Promise<V1Deployment[]>;
  /** Services labelled rainbow.dev/app=<app> in the namespace. */
  servicesOfApp(namespace: string, app: string): Promise<V1Service[]>;
  /** Pods labelled rainbow.dev/app=<app>,rainbow.dev/color=<color> in the namespace, any phase. */
  podsOfColor(namespace: string, app: string, color: string): Promise<V1Pod[]>;
  /** One Deployment by name (labelled or not); null when there is none. */
  deployment(namespace: string, name: string): Promise<V1Deployment | null>;
  /** One ReplicaSet by name; null when there is none. */
  replicaSet(namespace: string, name: string): Promise<V1ReplicaSet | null>;
  /** One pod by name (labelled or not); null when there is none. */
  pod(namespace: string, name: string): Promise<V1Pod | null>;
  /** The namespace's status.phase; 'Terminating' when it is gone. */
  namespacePhase(name: string): Promise<string | undefined>;
}

export function snapshotReader(reads: ClusterReads): SnapshotReader {
  return {
    async appSnapshot(req) {
      const f = cutoverFetch(req);
      if (!f) return { deployments: [], services: [] };
      const [deployments, services] = await Promise.all([reads.deploymentsOfApp(f.namespace, f.app), reads.servicesOfApp(f.namespace, f.app)]);
      return { deployments, services };
    },

    async guardSnapshot(req) {
      const f = guardFetch(req);
      if (!f) return undefined;
      const [phase, named, replicaSet, pod] = await Promise.all([
        reads.namespacePhase(f.namespace),
        f.deploymentName ? reads.deployment(f.namespace, f.deploymentName) : Promise.resolve(undefined),
        f.replicaSetName ? reads.replicaSet(f.namespace, f.replicaSetName) : Promise.resolve(undefined),
        f.podName ? reads.pod(f.namespace, f.podName) : Promise.resolve(undefined),
      ]);
      // A ReplicaSet's Scale names only the ReplicaSet: its owner is known once it is read.
      const owner = named === undefined && replicaSet ? controllerDeploymentRef(replicaSet) : undefined;
      const deployment = owner ? await reads.deployment(f.namespace, owner.name) : named;
      const fetched = { namespacePhase: phase, deployment, replicaSet, pod };
      const scope = guardScope(req, fetched);
      if (!scope) return { ...fetched, services: [], pods: [], now: new Date() };
      const [services, pods, appDeployments] = await Promise.all([
        reads.servicesOfApp(f.namespace, scope.app),
        scope.reads === 'color-pods' ? reads.podsOfColor(f.namespace, scope.app, scope.color) : Promise.resolve([]),
        scope.reads === 'app-deployments' ? reads.deploymentsOfApp(f.namespace, scope.app) : Promise.resolve(undefined),
      ]);
      return { ...fetched, services, pods, ...(appDeployments ? { appDeployments } : {}), now: new Date() };
    },
  };
}
