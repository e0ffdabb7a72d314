// Which namespace a status view reads, from -n/--namespace, -A/--all-namespaces and the kubeconfig
// context, as kubectl chooses it.
import type { KubeConfig } from '@kubernetes/client-node';
import { UsageError } from '../runtime/flags.js';

export interface NamespaceFlags {
  namespace?: string;
  'all-namespaces'?: boolean;
}

/** Refuses -n with -A; called with the other flag checks, before any kubeconfig is read. */
export function checkNamespaceFlags(prog: string, flags: NamespaceFlags): void {
  if (flags['all-namespaces'] && flags.namespace) throw new UsageError(`${prog}: --namespace and --all-namespaces exclude each other`);
}

/** The namespace to read; undefined means every namespace. */
export function namespaceScope(flags: NamespaceFlags, kc: KubeConfig): string | undefined {
  if (flags['all-namespaces']) return undefined;
  return flags.namespace ?? (kc.getContextObject(kc.getCurrentContext())?.namespace || 'default');
}
