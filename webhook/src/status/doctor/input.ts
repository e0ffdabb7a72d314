// What `rainbow doctor` read from the cluster, as plain objects: every read says whether it found
// the object, found nothing (404), was refused (RBAC) or failed, so the checks stay pure.
import type {
  V1Deployment,
  V1EndpointSlice,
  V1Lease,
  V1MutatingWebhookConfiguration,
  V1NetworkPolicy,
  V1Service,
  V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';
import { appSettings } from '../../domain/color-states.js';
import { appOf } from '../../domain/availability.js';
import { appsOf, type StatusReport } from '../model.js';
import { formatDuration } from '../../domain/durations.js';

/** One API request: what a refusal or a failure names. */
export interface ReadTarget {
  verb: 'get' | 'list';
  /** Plural resource, with its group when it has one: `configmaps`, `felixconfigurations.crd.projectcalico.org`. */
  resource: string;
  namespace?: string;
  name?: string;
}

export type Read<T> =
  | { status: 'found'; value: T }
  | { status: 'absent'; target: ReadTarget }
  | { status: 'forbidden'; target: ReadTarget; message: string }
  | { status: 'failed'; target: ReadTarget; message: string };

export const found = <T>(value: T): Read<T> => ({ status: 'found', value });

/** `get configmaps kube-proxy in kube-system`, `list networkpolicies in every namespace`. */
export function describeTarget(t: ReadTarget): string {
  const where = t.namespace === undefined ? (t.verb === 'list' ? ' in every namespace' : '') : ` in ${t.namespace}`;
  return `${t.verb} ${t.resource}${t.name ? ` ${t.name}` : ''}${where}`;
}

/** The rainbow-system release doctor looks at. */
export interface RainbowInput {
  /** The chart's fullname: the webhook configurations' name, the prefix of its Deployments. */
  fullname: string;
  /** Where the webhook and controller run (their Deployments, the Lease). */
  namespace: string;
  namespaceLabels: Read<Record<string, string>>;
  mutating: Read<V1MutatingWebhookConfiguration>;
  validating: Read<V1ValidatingWebhookConfiguration>;
  /** The webhook Service's EndpointSlices; undefined when no entry names a Service (webhook by URL, or no configuration). */
  endpointSlices?: Read<V1EndpointSlice[]>;
  lease: Read<V1Lease>;
  webhookDeployment: Read<V1Deployment>;
  controllerDeployment: Read<V1Deployment>;
}

export interface DoctorInput {
  now: Date;
  /** This CLI's version (package.json). */
  cliVersion: string;
  /** Namespace of the apps checked; undefined: every namespace. */
  namespace?: string;
  kubeProxy: {
    /** kube-system/kube-proxy ConfigMap's data (kubeadm writes config.conf there). */
    configMap: Read<Record<string, string>>;
    /** Command and args of every container of the kube-system/kube-proxy DaemonSet. */
    daemonSetArgs: Read<string[]>;
  };
  /** kube-system/cilium-config ConfigMap's data. */
  ciliumConfig: Read<Record<string, string>>;
  /** The FelixConfiguration `default` (crd.projectcalico.org/v1); absent also when Calico's CRDs are not installed. */
  felixConfiguration: Read<{ spec?: Record<string, unknown> }>;
  /** Services and Deployments labelled rainbow.dev/app in scope. */
  services: Read<V1Service[]>;
  deployments: Read<V1Deployment[]>;
  /** `rainbow status`'s report (its connection counts). */
  status: Read<StatusReport>;
  /** Per app namespace. */
  networkPolicies: Record<string, Read<V1NetworkPolicy[]>>;
  /** Per `namespace/name`: BackendConfigs (cloud.google.com/v1) that rainbow Services name. */
  backendConfigs: Record<string, Read<{ spec?: Record<string, unknown> }>>;
  rainbow: RainbowInput;
}

export interface AppView {
  namespace: string;
  app: string;
  services: V1Service[];
  deployments: V1Deployment[];
  maxDrainSeconds: number;
}

/** The apps in what was read, sorted, each with its objects and the max-drain its Services set. */
export function appViews(input: Pick<DoctorInput, 'services' | 'deployments'>): AppView[] {
  const services = input.services.status === 'found' ? input.services.value : [];
  const deployments = input.deployments.status === 'found' ? input.deployments.value : [];
  return appsOf([...services, ...deployments]).map(({ namespace, app }) => {
    const mine = <T extends V1Service | V1Deployment>(list: readonly T[]) => list.filter((o) => o.metadata?.namespace === namespace && appOf(o) === app);
    const appServices = mine(services);
    return { namespace, app, services: appServices, deployments: mine(deployments), maxDrainSeconds: appSettings(appServices).settings.maxDrainSeconds };
  });
}

/** Durations as Go writes them, shortened: `24h`, `1h30m`, `5m`, `45s`. */
export function span(totalSeconds: number): string {
  return formatDuration(Math.round(totalSeconds));
}
