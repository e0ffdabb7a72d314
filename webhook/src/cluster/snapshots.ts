// The few reads the admission policies need: the app's Deployments and Services for the cutover;
// the namespace, the color's Deployment, the app's Services and the color's Pods for the delete
// guard. `snapshotReader` turns any ClusterReads into the snapshots the policies take; the reads
// come live from the API server (live-reads.ts: a GET or a labelled LIST per review) or from watch
// caches (cached-reads.ts: no API call per review once synced).
import type { V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../admission/review.js';
import { cutoverFetch, type AppSnapshot } from '../policies/cutover.js';
import { guardFetch, guardScope, type GuardSnapshot } from '../policies/delete-guard.js';

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
      const [phase, deployment] = await Promise.all([
        reads.namespacePhase(f.namespace),
        f.deploymentName ? reads.deployment(f.namespace, f.deploymentName) : Promise.resolve(undefined),
      ]);
      const scope = guardScope(req, deployment);
      if (!scope) return { namespacePhase: phase, deployment, services: [], pods: [], now: new Date() };
      const [services, pods] = await Promise.all([
        reads.servicesOfApp(f.namespace, scope.app),
        reads.podsOfColor(f.namespace, scope.app, scope.color),
      ]);
      return { namespacePhase: phase, deployment, services, pods, now: new Date() };
    },
  };
}
