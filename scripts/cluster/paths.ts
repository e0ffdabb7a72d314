// Where the local cluster keeps its tools, state and logs. Everything lives under
// <repo>/.local-cluster (ignored by git) except etcd's data, which goes to a temp folder.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root: this file is at scripts/cluster/ in source and dist/scripts/cluster/ once built. */
export const repoRoot = (() => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const parts = here.split(path.sep);
  const distAt = parts.lastIndexOf('dist');
  return distAt >= 0 ? parts.slice(0, distAt).join(path.sep) : path.resolve(here, '..', '..');
})();

export const stateDir = process.env.RAINBOW_CLUSTER_DIR ?? path.join(repoRoot, '.local-cluster');
/** The built tools are the repository's, whichever state folder a cluster uses. */
export const binDir = path.join(repoRoot, '.local-cluster', 'bin');
export const pkiDir = path.join(stateDir, 'pki');
export const logDir = path.join(stateDir, 'logs');
/** The admin kubeconfig for the host side: the API server through the cluster's host address. */
export const kubeconfigPath = path.join(stateDir, 'kubeconfig');
/** The admin kubeconfig for processes inside the cluster namespace: the API server on the Node's address. */
export const insideKubeconfigPath = path.join(stateDir, 'kubeconfig.inside');
export const statePath = path.join(stateDir, 'state.json');
export const toolsDir = path.join(repoRoot, 'scripts', 'cluster', 'tools');

export function bin(name: string): string {
  return path.join(binDir, name);
}
