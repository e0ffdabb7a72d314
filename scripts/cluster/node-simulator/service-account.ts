// What kubelet's projected service-account volume gives a pod: a bound token from the TokenRequest
// API, the cluster CA and the namespace, as files. The pod sandbox mounts this folder at
// /var/run/secrets/kubernetes.io/serviceaccount, so in-cluster clients (client-go,
// @kubernetes/client-node's loadFromDefault) act with the pod's ServiceAccount and RBAC.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { apiClient } from '../../../webhook/src/kube/client.js';

/** Writes the pod's token, ca.crt and namespace into `dir`; nothing when automount is off. */
export async function writeServiceAccount(kc: KubeConfig, pod: V1Pod, dir: string): Promise<void> {
  if (pod.spec?.automountServiceAccountToken === false) return;
  const sa = pod.spec?.serviceAccountName ?? 'default';
  const ns = pod.metadata!.namespace!;
  const token = await apiClient(kc, CoreV1Api).createNamespacedServiceAccountToken({
    name: sa,
    namespace: ns,
    body: {
      spec: {
        audiences: [],
        expirationSeconds: 24 * 3600,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name!, uid: pod.metadata!.uid! },
      },
    },
  });
  const cluster = kc.getCurrentCluster()!;
  const ca = cluster.caData ? Buffer.from(cluster.caData, 'base64').toString('utf8') : readFileSync(cluster.caFile!, 'utf8');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  // Written aside and renamed, so a reader never sees half a token.
  const put = (name: string, content: string) => {
    const tmp = path.join(dir, `.${name}.tmp`);
    writeFileSync(tmp, content, { mode: 0o644 });
    renameSync(tmp, path.join(dir, name));
  };
  put('ca.crt', ca);
  put('namespace', ns);
  put('token', token.status!.token);
}
