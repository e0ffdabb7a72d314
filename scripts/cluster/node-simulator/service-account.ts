// What kubelet's projected service-account token volume gives a pod, delivered the one way a
// local process can take it: a bound token from the TokenRequest API written into a kubeconfig
// of the pod's own, named by KUBECONFIG. @kubernetes/client-node's loadFromDefault() reads it,
// so `rainbow controller` in a pod acts with its ServiceAccount and the chart's RBAC.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { apiClient } from '../../../webhook/src/cluster/kube.js';

export async function serviceAccountEnv(kc: KubeConfig, pod: V1Pod, dir: string): Promise<Record<string, string>> {
  if (pod.spec?.automountServiceAccountToken === false) return {};
  const sa = pod.spec?.serviceAccountName ?? 'default';
  const ns = pod.metadata!.namespace!;
  const core = apiClient(kc, CoreV1Api);
  const token = await core.createNamespacedServiceAccountToken({
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
  const caData = cluster.caData;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'in-cluster',
    clusters: [{ name: 'local', cluster: { server: cluster.server, ...(caData ? { 'certificate-authority-data': caData } : { 'certificate-authority': cluster.caFile }) } }],
    users: [{ name: `system:serviceaccount:${ns}:${sa}`, user: { token: token.status!.token } }],
    contexts: [{ name: 'in-cluster', context: { cluster: 'local', user: `system:serviceaccount:${ns}:${sa}`, namespace: ns } }],
  };
  const podDir = path.join(dir, pod.metadata!.uid!);
  mkdirSync(podDir, { recursive: true, mode: 0o700 });
  const file = path.join(podDir, 'kubeconfig');
  writeFileSync(file, stringify(config), { mode: 0o600 });
  return { KUBECONFIG: file, POD_NAMESPACE: ns };
}
