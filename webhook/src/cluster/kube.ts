// Loading cluster credentials: --kubeconfig, else KUBECONFIG / ~/.kube/config, else in-cluster.
import { KubeConfig } from '@kubernetes/client-node';

export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) {
    throw new Error(
      `no Kubernetes cluster configured${file ? ` in ${file}` : ''}: pass --kubeconfig, set KUBECONFIG, or run in a pod with a ServiceAccount`,
    );
  }
  return kc;
}

/** HTTP status of a client-node ApiException, if it is one. */
export function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}
