// What every e2e test needs: API clients for the local cluster, a namespace of its own, and
// kubectl/helm from .local-cluster/bin.
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, KubeConfig, AdmissionregistrationV1Api, CoordinationV1Api } from '@kubernetes/client-node';
import { kubeconfigPath } from '../../../scripts/cluster/paths.js';
import { runTool, type ToolResult } from '../../../scripts/cluster/run-tool.js';
import { eventually } from '../../../scripts/cluster/poll.js';


export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

export function clients(kc = kubeConfig()) {
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    discovery: kc.makeApiClient(DiscoveryV1Api),
    admission: kc.makeApiClient(AdmissionregistrationV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
  };
}

export type CommandResult = ToolResult;

/** Runs a tool from .local-cluster/bin against the local cluster; never throws on a non-zero exit. */
export const tool = runTool;

export const kubectl = (args: string[], opts?: { input?: string; timeoutMs?: number }) => tool('kubectl', args, opts);
export const helm = (args: string[], opts?: { timeoutMs?: number }) => tool('helm', args, opts);

/** Creates a fresh namespace for one test file; `remove()` deletes it and waits until it is gone. */
export async function testNamespace(prefix: string, labels: Record<string, string> = {}) {
  const { core } = clients();
  const name = `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  await core.createNamespace({ body: { metadata: { name, labels: { 'rainbow.dev/e2e': 'true', ...labels } } } });
  return {
    name,
    async remove(): Promise<void> {
      try {
        await core.deleteNamespace({ name });
      } catch {
        return;
      }
      await eventually(`namespace ${name} deleted`, async () => {
        try {
          await core.readNamespace({ name });
          return false;
        } catch {
          return true;
        }
      }, 120_000);
    },
  };
}

export { eventually };

/**
 * The environment of `scripts/local-cluster` for another cluster, in `dir`: without the
 * RAINBOW_CLUSTER_HOST that a shell's `eval "$(scripts/local-cluster env)"` set for the first one.
 */
export function otherClusterEnv(dir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { RAINBOW_CLUSTER_HOST: _first, ...inherited } = process.env;
  return { ...inherited, RAINBOW_CLUSTER_DIR: dir, ...extra };
}
