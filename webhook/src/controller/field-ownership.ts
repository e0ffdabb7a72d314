// Why the controller gives up ownership of what it writes on a Service: Helm 4 applies charts with
// server-side apply. When rainbow-controller changes the Service's selector (a promotion), the API
// server records rainbow-controller as the field's manager, and the app team's next
// `helm upgrade`/`helm rollback` would fail with "conflict with rainbow-controller: .spec.selector"
// unless they pass --force-conflicts. So right after each Service patch the controller removes its
// own managedFields entry (a second, managedFields-only write, which the API server takes as given):
// the selector is then owned by nobody, and Helm's next apply claims it without a conflict. The
// same goes for a Deployment's spec.replicas, which the chart sets and the controller changes when
// it shrinks a draining color or restores it (`helm rollback` to a shrunk color applies it again).
import type { V1ManagedFieldsEntry } from '@kubernetes/client-node';

export const FIELD_MANAGER = 'rainbow-controller';

/**
 * managedFields without `manager`'s entries, or undefined when it holds none (nothing to do).
 * An emptied list is written as `[{}]`: the API server reads an empty list as "not sent".
 */
export function withoutManager(entries: readonly V1ManagedFieldsEntry[] | undefined, manager = FIELD_MANAGER): V1ManagedFieldsEntry[] | undefined {
  const all = entries ?? [];
  const kept = all.filter((e) => e.manager !== manager);
  if (kept.length === all.length) return undefined;
  return kept.length > 0 ? kept : [{} as V1ManagedFieldsEntry];
}
