// The objects of the scale benchmark, pure: what each rainbow app consists of (3 colors × 5 pods,
// chart-shaped: the demo app with the reporter as a native sidecar), the ReplicaSets and pods
// that the real deployment and ReplicaSet controllers adopt instead of making their own, the
// statuses a kubelet would write, the pods that are not rainbow's, and the Nodes they are bound
// to, which no kubelet runs.
import { createHash } from 'node:crypto';
import type { V1Deployment, V1Node, V1Pod, V1PodStatus, V1ReplicaSet, V1Service } from '@kubernetes/client-node';
import { appService, colorDeployment } from '../../cluster/app-objects.js';

export const PODS_PER_COLOR = 5;
/** Oldest first: draining (drain-started 2 h ago), kept (1 h ago, keep-colors 1), serving. */
export const APP_COLORS = ['c00001', 'c00002', 'c00003'] as const;
export const SERVING_COLOR = APP_COLORS[2];
/** An image no node here can run: a pod a controller might make on its own stays Pending on the node simulator. */
export const IMAGE = 'registry.invalid/rainbow-scale:1';
/** Nodes without a kubelet carry this taint, so that the scheduler never places a pod on them. */
export const NO_KUBELET_TAINT = 'rainbow.dev/no-kubelet';
export const BENCH_LABEL = 'rainbow.dev/bench';
/** The port the reporter counts (every pod reads the connections held on it in the cluster's namespace). */
export const COUNTED_PORT = 18081;

const pad = (n: number, width: number) => String(n).padStart(width, '0');

export interface Layout {
  /** Namespace prefix of this run (lowercase, DNS label). */
  prefix: string;
  appsPerNamespace: number;
}

export const appName = (i: number) => `app${pad(i, 4)}`;
export const namespaceOfApp = (l: Layout, i: number) => `${l.prefix}-${pad(Math.floor(i / l.appsPerNamespace), 3)}`;

/**
 * A pod's address: 127.<block>.<x>.<y>, unique per (block, serial), never 127.0.x.x (the cluster's
 * own loopback services) nor a last octet of 0 or 255. All of 127.0.0.0/8 is local in the cluster's
 * network namespace, so one reporter bound to 0.0.0.0 answers every pod.
 */
export function podIp(block: number, serial: number): string {
  if (!Number.isInteger(block) || block < 1 || block > 254) throw new RangeError(`podIp: block must be 1-254, got ${block}`);
  if (!Number.isInteger(serial) || serial < 0 || serial >= 256 * 253) throw new RangeError(`podIp: serial out of range: ${serial}`);
  return `127.${block}.${Math.floor(serial / 253)}.${(serial % 253) + 1}`;
}

/** Address blocks: rainbow apps' pods, foreign pods, the promoted app's new colors. */
export const IP_BLOCK = { apps: 1, foreign: 2, promotion: 3 } as const;

/** A stable pod-template-hash-like label value for a color (10 chars of [a-z0-9]). */
export function templateHash(app: string, color: string): string {
  return createHash('sha256').update(`${app}/${color}`).digest('hex').slice(0, 10);
}

export interface ColorSpec {
  app: string;
  color: string;
  namespace: string;
  /** Annotations of the Deployment (rainbow.dev/drain-started for previous colors). */
  annotations?: Record<string, string>;
}

/** The color's Deployment as chart/rainbow-app renders it (5 replicas; the reporter counts COUNTED_PORT). */
export function colorDeploymentOf(c: ColorSpec): V1Deployment {
  const d = colorDeployment(c.app, c.color, { replicas: PODS_PER_COLOR, image: IMAGE, countedPorts: String(COUNTED_PORT), annotations: c.annotations });
  d.metadata!.namespace = c.namespace;
  d.metadata!.labels = { ...d.metadata!.labels, [BENCH_LABEL]: 'scale' };
  return d;
}

/**
 * The ReplicaSet the deployment controller would make for the Deployment. It is created after its
 * pods, which exist as orphans matching its selector: the ReplicaSet controller adopts them rather
 * than creating pods, and the deployment controller then adopts the ReplicaSet (same template,
 * ignoring pod-template-hash) rather than creating one. (A ReplicaSet created first at 0 replicas
 * does not work: the ReplicaSet controller deletes the pods it owns above 0.)
 */
export function colorReplicaSetOf(c: ColorSpec): V1ReplicaSet {
  const d = colorDeploymentOf(c);
  const hash = templateHash(c.app, c.color);
  const template = structuredClone(d.spec!.template);
  template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, 'pod-template-hash': hash } };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `${d.metadata!.name}-${hash}`, namespace: c.namespace, labels: { ...template.metadata.labels } },
    spec: { replicas: PODS_PER_COLOR, selector: { matchLabels: { ...d.spec!.selector.matchLabels, 'pod-template-hash': hash } }, template },
  };
}

/** Pod `index` of the color's ReplicaSet (not yet owned: the ReplicaSet controller adopts it), bound to `nodeName`. */
export function colorPodOf(rs: V1ReplicaSet, index: number, nodeName: string, annotations?: Record<string, string>): V1Pod {
  const t = rs.spec!.template!;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${rs.metadata!.name}-${podSuffix(index)}`,
      namespace: rs.metadata!.namespace,
      labels: { ...t.metadata!.labels },
      ...(annotations || t.metadata?.annotations ? { annotations: { ...t.metadata?.annotations, ...annotations } } : {}),
    },
    spec: { ...structuredClone(t.spec!), nodeName },
  };
}

/** Five lowercase alphanumerics, as the ReplicaSet controller's generated names end; distinct for distinct indexes. */
export function podSuffix(index: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  if (!Number.isInteger(index) || index < 0 || index >= alphabet.length ** 5) throw new RangeError(`podSuffix: index out of range: ${index}`);
  let n = index;
  let s = '';
  for (let i = 0; i < 5; i++) {
    s = alphabet[n % alphabet.length] + s;
    n = Math.floor(n / alphabet.length);
  }
  return s;
}

/** What a kubelet writes for a pod that runs and is Ready: phase, conditions, IPs and a status per container. */
export function runningStatus(pod: V1Pod, ip: string, hostIP: string, at: Date): V1PodStatus {
  const t = at.toISOString().replace(/\.\d+Z$/, 'Z') as unknown as Date;
  const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null as unknown as Date, lastTransitionTime: t });
  const running = (name: string, image: string, i: number) => ({
    name,
    image,
    imageID: `${image}@sha256:${createHash('sha256').update(image).digest('hex')}`,
    containerID: `rainbow-scale://${createHash('sha256').update(`${pod.metadata!.name}/${name}/${i}`).digest('hex').slice(0, 32)}`,
    ready: true,
    started: true,
    restartCount: 0,
    state: { running: { startedAt: t } },
  });
  const status: V1PodStatus = {
    phase: 'Running',
    conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(cond),
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP: ip,
    podIPs: [{ ip }],
    startTime: t,
    qosClass: pod.status?.qosClass ?? 'BestEffort',
    containerStatuses: (pod.spec?.containers ?? []).map((c, i) => running(c.name, c.image ?? '', i)),
  };
  const init = pod.spec?.initContainers ?? [];
  if (init.length > 0) status.initContainerStatuses = init.map((c, i) => running(c.name, c.image ?? '', 100 + i));
  return status;
}

/** A pod that is not rainbow's (no rainbow.dev labels): one container, bound to a node without kubelet. */
export function foreignPodOf(namespace: string, n: number, nodeName: string): V1Pod {
  const app = `other-${pad(Math.floor(n / 5), 4)}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${app}-${podSuffix(n)}`, namespace, labels: { app, 'app.kubernetes.io/name': app, [BENCH_LABEL]: 'foreign' } },
    spec: {
      nodeName,
      terminationGracePeriodSeconds: 30,
      containers: [
        {
          name: 'main',
          image: 'registry.invalid/other-app:1',
          ports: [{ name: 'http', containerPort: 8080 }],
          env: [{ name: 'APP', value: app }],
          readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
          resources: { requests: { cpu: '10m', memory: '32Mi' } },
        },
      ],
    },
  };
}

/** The app's Service (ClusterIP), selecting the serving color. */
export function appServiceOf(namespace: string, app: string, color: string): V1Service {
  const s = appService(app, color, {}, 'ClusterIP');
  s.metadata!.namespace = namespace;
  s.metadata!.labels = { ...s.metadata!.labels, [BENCH_LABEL]: 'scale' };
  return s;
}

/** A Node object no kubelet runs; tainted so that nothing is scheduled to it. Its status and Lease are the benchmark's. */
export function benchNodeOf(name: string): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', [BENCH_LABEL]: 'scale-node' } },
    spec: { taints: [{ key: NO_KUBELET_TAINT, value: 'true', effect: 'NoSchedule' }] },
  };
}

/** The colors of an app and their roles, and the Deployment annotations that make them so (drain-started). */
export function appColorSpecs(namespace: string, app: string, now: Date): ColorSpec[] {
  const stamp = (hoursAgo: number) => new Date(now.getTime() - hoursAgo * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  return [
    { app, namespace, color: APP_COLORS[0], annotations: { 'rainbow.dev/drain-started': stamp(2) } },
    { app, namespace, color: APP_COLORS[1], annotations: { 'rainbow.dev/drain-started': stamp(1) } },
    { app, namespace, color: APP_COLORS[2] },
  ];
}

/** The port of the reporter that answers pod `serial` among `reporters` (9471, 9472, …, in turn): its rainbow.dev/connections-port. */
export const reporterPort = (serial: number, reporters: number) => 9471 + (serial % reporters);
