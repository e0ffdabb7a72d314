// The controller's reads and writes, behind two small interfaces so that the loop can be driven
// without a cluster: an ObjectSource (the app's Services and Deployments, kept current by watches)
// and a ControllerApi (pod lists, patches, deletes, Events).
import {
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type KubeConfig,
  type KubernetesObject,
  type V1Deployment,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import { startInformer, type ResilientInformer } from '../kube/informer.js';
import { apiClient, apiErrorMessage, statusOf } from '../kube/client.js';
import { LABEL_APP } from '../domain/contract.js';
import { FIELD_MANAGER, withoutManager } from './field-ownership.js';

export type ObjectEvent = 'add' | 'update' | 'delete';

export interface SourceHandlers {
  onService(svc: V1Service, event: ObjectEvent): void;
  onDeployment(d: V1Deployment, event: ObjectEvent): void;
  /** A watch failed; the source retries by itself. */
  onError?(kind: 'Service' | 'Deployment', err: unknown, retryInMs: number): void;
  /** A watch that failed is established again. */
  onRecovered?(kind: 'Service' | 'Deployment'): void;
}

/** Services and Deployments labelled rainbow.dev/app, as last seen. */
export interface ObjectSource {
  /** Starts watching; resolves once every watch has listed once (the caches are complete). */
  start(handlers: SourceHandlers): Promise<void>;
  services(namespace?: string): V1Service[];
  deployments(namespace?: string): V1Deployment[];
  stop(): Promise<void>;
}

export interface ControllerApi {
  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]>;
  /** JSON merge patch (RFC 7386): `null` removes a key. */
  patchService(namespace: string, name: string, patch: object): Promise<void>;
  /**
   * JSON merge patch. A patch of `spec` (the shrink and its restore change spec.replicas, a field the
   * app's chart sets) leaves the field to its owner: see field-ownership.ts.
   */
  patchDeployment(namespace: string, name: string, patch: object): Promise<void>;
  /** JSON merge patch of a pod (the controller writes only controller.kubernetes.io/pod-deletion-cost). */
  patchPod(namespace: string, name: string, patch: object): Promise<void>;
  /** propagationPolicy Background; with `uid`, only that incarnation of the Deployment. */
  deleteDeployment(namespace: string, name: string, uid?: string): Promise<void>;
  createEvent(namespace: string, event: CoreV1Event): Promise<void>;
}

/** 403 with an admission webhook's denial (rather than missing RBAC). */
export function isAdmissionDenial(err: unknown): boolean {
  return statusOf(err) === 403 && /admission webhook .* denied the request/i.test(apiErrorMessage(err));
}

export function kubeControllerApi(kc: KubeConfig): ControllerApi {
  const core = apiClient(kc, CoreV1Api);
  const apps = apiClient(kc, AppsV1Api);
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
  /**
   * See field-ownership.ts: after a write of fields the app's chart sets, drop rainbow-controller's
   * managedFields entry, so that Helm's next server-side apply takes them back without a conflict.
   */
  const disown = async (patched: KubernetesObject, write: (body: object[]) => Promise<unknown>): Promise<void> => {
    const managedFields = withoutManager(patched.metadata?.managedFields);
    if (!managedFields) return;
    try {
      await write([
        { op: 'test', path: '/metadata/resourceVersion', value: patched.metadata?.resourceVersion },
        { op: 'replace', path: '/metadata/managedFields', value: managedFields },
      ]);
    } catch (err) {
      // 409/422: the object changed in between (e.g. Helm applied it); whoever wrote last owns it.
      if (statusOf(err) !== 409 && statusOf(err) !== 422) throw err;
    }
  };
  return {
    async listPods(namespace, labelSelector) {
      return (await core.listNamespacedPod({ namespace, labelSelector })).items;
    },
    async patchService(namespace, name, body) {
      const patched = await core.patchNamespacedService({ namespace, name, body, fieldManager: FIELD_MANAGER }, merge);
      // The selector.
      await disown(patched, (ops) => core.patchNamespacedService({ namespace, name, fieldManager: FIELD_MANAGER, body: ops }, jsonPatch));
    },
    async patchDeployment(namespace, name, body) {
      const patched = await apps.patchNamespacedDeployment({ namespace, name, body, fieldManager: FIELD_MANAGER }, merge);
      // spec.replicas, after a shrink or its restore; annotations alone are rainbow's own.
      if ('spec' in body) await disown(patched, (ops) => apps.patchNamespacedDeployment({ namespace, name, fieldManager: FIELD_MANAGER, body: ops }, jsonPatch));
    },
    async patchPod(namespace, name, body) {
      await core.patchNamespacedPod({ namespace, name, body, fieldManager: FIELD_MANAGER }, merge);
    },
    async deleteDeployment(namespace, name, uid) {
      await apps.deleteNamespacedDeployment({
        namespace,
        name,
        propagationPolicy: 'Background',
        body: { propagationPolicy: 'Background', ...(uid ? { preconditions: { uid } } : {}) },
      });
    },
    async createEvent(namespace, body) {
      await core.createNamespacedEvent({ namespace, body });
    },
  };
}

/**
 * Watches (resilient informers) on Services and Deployments labelled rainbow.dev/app, in every
 * namespace or in each of `namespaces`.
 */
export function informerSource(kc: KubeConfig, namespaces: readonly string[] = []): ObjectSource {
  const core = apiClient(kc, CoreV1Api);
  const apps = apiClient(kc, AppsV1Api);
  const labelSelector = LABEL_APP;
  const serviceInformers: Array<ResilientInformer<V1Service>> = [];
  const deploymentInformers: Array<ResilientInformer<V1Deployment>> = [];

  const collect = <T extends KubernetesObject>(informers: Array<ResilientInformer<T>>, namespace?: string): T[] =>
    informers.flatMap((i) => [...i.informer.list(namespace)]);

  return {
    async start(h) {
      const scopes = namespaces.length > 0 ? [...namespaces] : [undefined];
      for (const ns of scopes) {
        serviceInformers.push(
          startInformer<V1Service>(
            kc,
            ns ? `/api/v1/namespaces/${ns}/services` : '/api/v1/services',
            () => (ns ? core.listNamespacedService({ namespace: ns, labelSelector }) : core.listServiceForAllNamespaces({ labelSelector })),
            { labelSelector, onError: (err, ms) => h.onError?.('Service', err, ms), onRecovered: () => h.onRecovered?.('Service') },
          ),
        );
        deploymentInformers.push(
          startInformer<V1Deployment>(
            kc,
            ns ? `/apis/apps/v1/namespaces/${ns}/deployments` : '/apis/apps/v1/deployments',
            () => (ns ? apps.listNamespacedDeployment({ namespace: ns, labelSelector }) : apps.listDeploymentForAllNamespaces({ labelSelector })),
            { labelSelector, onError: (err, ms) => h.onError?.('Deployment', err, ms), onRecovered: () => h.onRecovered?.('Deployment') },
          ),
        );
      }
      for (const i of serviceInformers) {
        i.informer.on('add', (o) => h.onService(o, 'add'));
        i.informer.on('update', (o) => h.onService(o, 'update'));
        i.informer.on('delete', (o) => h.onService(o, 'delete'));
      }
      for (const i of deploymentInformers) {
        i.informer.on('add', (o) => h.onDeployment(o, 'add'));
        i.informer.on('update', (o) => h.onDeployment(o, 'update'));
        i.informer.on('delete', (o) => h.onDeployment(o, 'delete'));
      }
      await Promise.all([...serviceInformers, ...deploymentInformers].map((i) => i.synced));
    },
    services: (namespace) => collect(serviceInformers, namespace),
    deployments: (namespace) => collect(deploymentInformers, namespace),
    async stop() {
      await Promise.all([...serviceInformers, ...deploymentInformers].map((i) => i.stop()));
    },
  };
}
