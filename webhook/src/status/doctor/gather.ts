// The reads behind `rainbow doctor`, with the caller's credentials: kube-system's datapath
// configuration, the rainbow apps in scope with `rainbow status`'s counts, their NetworkPolicies
// and BackendConfigs, and rainbow-system's own objects. A refused read is recorded, never thrown.
import {
  AdmissionregistrationV1Api,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  NetworkingV1Api,
  type KubeConfig,
  type V1NetworkPolicy,
} from '@kubernetes/client-node';
import { LABEL_APP } from '../../domain/contract.js';
import { apiClient, apiErrorMessage, statusOf } from '../../kube/client.js';
import { statusOfObjects } from '../collect.js';
import type { StatusReport } from '../model.js';
import { appViews, found, type DoctorInput, type Read, type ReadTarget } from './input.js';
import { backendConfigNames } from './load-balancers.js';
import { LEASE, webhookTarget } from './rainbow-system.js';
import { cliVersion } from './version.js';

export const DEFAULT_RELEASE = 'rainbow';
export const DEFAULT_SYSTEM_NAMESPACE = 'rainbow-system';

export interface GatherOptions {
  /** Apps' namespace; undefined: every namespace. */
  namespace?: string;
  /** The rainbow-system Helm release. */
  release?: string;
  /** Where rainbow-system runs; default: the webhook configurations' Service namespace, else rainbow-system. */
  systemNamespace?: string;
  podTimeoutMs?: number;
  direct?: boolean;
  now?: () => Date;
}

/** chart/rainbow-system's fullname: the release name when it contains "rainbow", else `<release>-rainbow`. */
export function chartFullname(release: string): string {
  const name = release.includes('rainbow') ? release : `${release}-rainbow`;
  return name.slice(0, 40).replace(/-+$/, '');
}

/** One request as a Read: 404 is absent, 401/403 forbidden, anything else failed. */
export async function read<T>(target: ReadTarget, call: () => Promise<T>): Promise<Read<T>> {
  try {
    return found(await call());
  } catch (err) {
    const code = statusOf(err);
    if (code === 404) return { status: 'absent', target };
    if (code === 401 || code === 403) return { status: 'forbidden', target, message: apiErrorMessage(err) };
    return { status: 'failed', target, message: apiErrorMessage(err) };
  }
}

const map = <T, U>(r: Read<T>, f: (v: T) => U): Read<U> => (r.status === 'found' ? found(f(r.value)) : r);

export async function gatherDoctorInput(kc: KubeConfig, opts: GatherOptions = {}): Promise<DoctorInput> {
  const core = apiClient(kc, CoreV1Api);
  const apps = apiClient(kc, AppsV1Api);
  const custom = apiClient(kc, CustomObjectsApi);
  const admission = apiClient(kc, AdmissionregistrationV1Api);
  const networking = apiClient(kc, NetworkingV1Api);
  const discovery = apiClient(kc, DiscoveryV1Api);
  const coordination = apiClient(kc, CoordinationV1Api);
  const ns = opts.namespace;
  const fullname = chartFullname(opts.release ?? DEFAULT_RELEASE);
  const labelSelector = LABEL_APP;
  const ks = 'kube-system';

  const [configMap, daemonSet, cilium, felix, services, deployments, pods, mutating, validating] = await Promise.all([
    read({ verb: 'get', resource: 'configmaps', namespace: ks, name: 'kube-proxy' }, () => core.readNamespacedConfigMap({ namespace: ks, name: 'kube-proxy' })),
    read({ verb: 'get', resource: 'daemonsets.apps', namespace: ks, name: 'kube-proxy' }, () => apps.readNamespacedDaemonSet({ namespace: ks, name: 'kube-proxy' })),
    read({ verb: 'get', resource: 'configmaps', namespace: ks, name: 'cilium-config' }, () => core.readNamespacedConfigMap({ namespace: ks, name: 'cilium-config' })),
    read({ verb: 'get', resource: 'felixconfigurations.crd.projectcalico.org', name: 'default' }, async () =>
      (await custom.getClusterCustomObject({ group: 'crd.projectcalico.org', version: 'v1', plural: 'felixconfigurations', name: 'default' })) as { spec?: Record<string, unknown> }),
    read({ verb: 'list', resource: 'services', ...(ns ? { namespace: ns } : {}) }, async () =>
      (ns ? await core.listNamespacedService({ namespace: ns, labelSelector }) : await core.listServiceForAllNamespaces({ labelSelector })).items),
    read({ verb: 'list', resource: 'deployments.apps', ...(ns ? { namespace: ns } : {}) }, async () =>
      (ns ? await apps.listNamespacedDeployment({ namespace: ns, labelSelector }) : await apps.listDeploymentForAllNamespaces({ labelSelector })).items),
    read({ verb: 'list', resource: 'pods', ...(ns ? { namespace: ns } : {}) }, async () =>
      (ns ? await core.listNamespacedPod({ namespace: ns, labelSelector }) : await core.listPodForAllNamespaces({ labelSelector })).items),
    read({ verb: 'get', resource: 'mutatingwebhookconfigurations.admissionregistration.k8s.io', name: fullname }, () => admission.readMutatingWebhookConfiguration({ name: fullname })),
    read({ verb: 'get', resource: 'validatingwebhookconfigurations.admissionregistration.k8s.io', name: fullname }, () => admission.readValidatingWebhookConfiguration({ name: fullname })),
  ]);

  const target = webhookTarget({ mutating, validating });
  const systemNamespace = opts.systemNamespace ?? target?.service?.namespace ?? DEFAULT_SYSTEM_NAMESPACE;
  const views = appViews({ services, deployments });
  const appNamespaces = [...new Set(views.filter((v) => v.deployments.length > 0).map((v) => v.namespace))].sort();
  const wanted = new Map<string, { namespace: string; name: string }>();
  for (const v of views) for (const s of v.services) for (const name of backendConfigNames(s).names) wanted.set(`${v.namespace}/${name}`, { namespace: v.namespace, name });

  // The connection counts come from the lists above: `rainbow status`'s report without reading them again.
  const statusTarget = { verb: 'list', resource: 'services, deployments.apps and pods', ...(ns ? { namespace: ns } : {}) } as const;
  const unread = [services, deployments, pods].find((r) => r.status !== 'found');
  const statusRead: Promise<Read<StatusReport>> =
    services.status === 'found' && deployments.status === 'found' && pods.status === 'found'
      ? read(statusTarget, () =>
          statusOfObjects(kc, { services: services.value, deployments: deployments.value, pods: pods.value }, { podTimeoutMs: opts.podTimeoutMs ?? 2000, direct: Boolean(opts.direct), ...(opts.now ? { now: opts.now } : {}) }),
        )
      : Promise.resolve({ ...(unread as Exclude<Read<unknown>, { status: 'found' }>), target: statusTarget });

  const [namespaceLabels, lease, webhookDeployment, controllerDeployment, endpointSlices, policies, backendConfigs, status] = await Promise.all([
    read({ verb: 'get', resource: 'namespaces', name: systemNamespace }, async () => (await core.readNamespace({ name: systemNamespace })).metadata?.labels ?? {}),
    read({ verb: 'get', resource: 'leases.coordination.k8s.io', namespace: systemNamespace, name: LEASE }, () => coordination.readNamespacedLease({ namespace: systemNamespace, name: LEASE })),
    read({ verb: 'get', resource: 'deployments.apps', namespace: systemNamespace, name: `${fullname}-webhook` }, () => apps.readNamespacedDeployment({ namespace: systemNamespace, name: `${fullname}-webhook` })),
    read({ verb: 'get', resource: 'deployments.apps', namespace: systemNamespace, name: `${fullname}-controller` }, () => apps.readNamespacedDeployment({ namespace: systemNamespace, name: `${fullname}-controller` })),
    target?.service
      ? read({ verb: 'list', resource: 'endpointslices.discovery.k8s.io', namespace: target.service.namespace }, async () =>
          (await discovery.listNamespacedEndpointSlice({ namespace: target.service!.namespace, labelSelector: `kubernetes.io/service-name=${target.service!.name}` })).items)
      : Promise.resolve(undefined),
    readPolicies(networking, ns, appNamespaces),
    Promise.all(
      [...wanted].map(async ([key, { namespace, name }]) => [
        key,
        await read({ verb: 'get', resource: 'backendconfigs.cloud.google.com', namespace, name }, async () =>
          (await custom.getNamespacedCustomObject({ group: 'cloud.google.com', version: 'v1', namespace, plural: 'backendconfigs', name })) as { spec?: Record<string, unknown> }),
      ] as const),
    ),
    statusRead,
  ]);

  return {
    now: opts.now?.() ?? new Date(),
    cliVersion: cliVersion(),
    ...(ns ? { namespace: ns } : {}),
    kubeProxy: {
      configMap: map(configMap, (c) => c.data ?? {}),
      daemonSetArgs: map(daemonSet, (d) => (d.spec?.template?.spec?.containers ?? []).flatMap((c) => [...(c.command ?? []), ...(c.args ?? [])])),
    },
    ciliumConfig: map(cilium, (c) => c.data ?? {}),
    felixConfiguration: felix,
    services,
    deployments,
    status,
    networkPolicies: policies,
    backendConfigs: Object.fromEntries(backendConfigs),
    rainbow: {
      fullname,
      namespace: systemNamespace,
      namespaceLabels,
      mutating,
      validating,
      ...(endpointSlices ? { endpointSlices } : {}),
      lease,
      webhookDeployment,
      controllerDeployment,
    },
  };
}

/** One list in the namespace shown, or one across all namespaces, split per app namespace. */
async function readPolicies(networking: NetworkingV1Api, ns: string | undefined, appNamespaces: string[]): Promise<Record<string, Read<V1NetworkPolicy[]>>> {
  if (appNamespaces.length === 0) return {};
  const all = await read({ verb: 'list', resource: 'networkpolicies.networking.k8s.io', ...(ns ? { namespace: ns } : {}) }, async () =>
    (ns ? await networking.listNamespacedNetworkPolicy({ namespace: ns }) : await networking.listNetworkPolicyForAllNamespaces()).items);
  return Object.fromEntries(appNamespaces.map((n) => [n, map(all, (items) => items.filter((p) => p.metadata?.namespace === n))]));
}
