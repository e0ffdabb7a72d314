// Which pods are asked for their connections, and where: one rule for the guard, the
// controller's drain checks and `rainbow status`, so that all of them ask the same pods alike.
import type { V1Pod } from '@kubernetes/client-node';
import { ANNOTATION_CONNECTIONS_PATH, ANNOTATION_CONNECTIONS_PORT, DEFAULTS } from '../domain/contract.js';
import { annotationOf, isBeingDeleted, type HasMetadata } from '../domain/objects.js';
import type { PodTarget } from './ask-pods.js';

/** Only pods that run and can be reached are asked; the others hold no connections to protect. */
export function isAskable(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && !isBeingDeleted(pod) && Boolean(pod.status?.podIP);
}

/**
 * Where to ask a pod for its count: rainbow.dev/connections-port/-path on the pod, else on its
 * workload, else 9471 /connections. Unusable values fall back to the defaults, with a warning.
 */
export function podTarget(pod: V1Pod, workload: HasMetadata | undefined, warnings: string[] = []): PodTarget {
  const name = pod.metadata?.name ?? '(unnamed)';
  const portRaw = annotationOf(pod, ANNOTATION_CONNECTIONS_PORT) ?? annotationOf(workload, ANNOTATION_CONNECTIONS_PORT);
  const pathRaw = annotationOf(pod, ANNOTATION_CONNECTIONS_PATH) ?? annotationOf(workload, ANNOTATION_CONNECTIONS_PATH);
  let port: number = DEFAULTS.connectionsPort;
  if (portRaw !== undefined) {
    const n = Number(portRaw.trim());
    if (/^\d+$/.test(portRaw.trim()) && n >= 1 && n <= 65535) port = n;
    else warnings.push(`pod ${name}: ${ANNOTATION_CONNECTIONS_PORT}=${JSON.stringify(portRaw)} is not a port; asking ${DEFAULTS.connectionsPort}`);
  }
  let path: string = DEFAULTS.connectionsPath;
  if (pathRaw !== undefined) {
    if (pathRaw.startsWith('/') && !/\s/.test(pathRaw)) path = pathRaw;
    else warnings.push(`pod ${name}: ${ANNOTATION_CONNECTIONS_PATH}=${JSON.stringify(pathRaw)} is not a path; asking ${DEFAULTS.connectionsPath}`);
  }
  return { name, ip: pod.status?.podIP ?? '', port, path };
}

