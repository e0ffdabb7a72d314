// Which pod IPs kube-proxy (nftables mode) sends a Service's new connections to, read from its
// rules inside the cluster's namespace: a Service's endpoints are ready a moment before kube-proxy
// has programmed them, and connections opened in between are refused or all go to the first pods.
import { execArgs } from './control-plane.js';
import { runCommand } from './processes.js';

/** Port name → pod IPs of the TCP chains of `namespace/service` in `nft list table ip kube-proxy` output. */
export function serviceChains(table: string, namespace: string, service: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const re = new RegExp(`chain service-[A-Z0-9]+-${namespace}/${service}/tcp/(\\S+) \\{([^}]*(?:\\{[^}]*\\}[^}]*)?)\\}`, 'g');
  for (const m of table.matchAll(re)) out.set(m[1]!, [...m[2]!.matchAll(/__([0-9.]+)\/\d+/g)].map((x) => x[1]!));
  return out;
}

/** kube-proxy's endpoints for every TCP port of `namespace/service`, now. */
export async function kubeProxyEndpoints(namespace: string, service: string): Promise<Map<string, string[]>> {
  const table = await runCommand(execArgs(['nft', 'list', 'table', 'ip', 'kube-proxy']), { where: "inside the cluster's namespace" });
  return serviceChains(table, namespace, service);
}
