// Asking a color's pods for their connections, shared by the controller's drain check and
// `rainbow status`. Which pods are asked and where is the delete guard's rule (running, not being
// deleted, with an IP; port and path from the pod's annotations, else its Deployment's, else
// DESIGN's defaults), so the controller's "0" means what the guard will find.
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { AskPodsOptions, PodReport, PodTarget } from '../connections/ask-pods.js';
import { LABEL_COLOR } from '../contract.js';
import { isAskable, podTarget } from '../policies/delete-guard.js';
import { labelOf, matchesSelector } from '../policies/objects.js';
import type { ProbeResult } from './planner.js';

export type AskPodsFn = (targets: readonly PodTarget[], opts?: AskPodsOptions) => Promise<PodReport[]>;

export { podTarget };

/** The askable pods of a color: its label, and its Deployment's selector when known. */
export function colorTargets(pods: readonly V1Pod[], color: string, deployment: V1Deployment | undefined): PodTarget[] {
  const selector = deployment?.spec?.selector;
  return pods
    .filter((p) => labelOf(p, LABEL_COLOR) === color && isAskable(p) && (!selector || matchesSelector(p.metadata?.labels, selector)))
    .map((p) => podTarget(p, deployment))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** A color's total from its pods' reports; any pod without a count makes the total unknown. */
export function summarize(targets: readonly PodTarget[], reports: readonly PodReport[]): ProbeResult & { errors: string[] } {
  const byName = new Map(reports.map((r) => [r.name, r]));
  let count = 0;
  const errors: string[] = [];
  for (const t of targets) {
    const r = byName.get(t.name);
    if (!r) errors.push(`pod ${t.name}: no answer`);
    else if (!r.ok) errors.push(r.error);
    else count += r.established;
  }
  const result: ProbeResult & { errors: string[] } = { count, errors };
  if (errors.length > 0) result.unknown = errors.length === 1 ? errors[0]! : `${errors[0]} (and ${errors.length - 1} more pod${errors.length > 2 ? 's' : ''})`;
  return result;
}

/** Ask the pods of several colors in one batch; one result per color. */
export async function probeColors(
  pods: readonly V1Pod[],
  colors: ReadonlyArray<{ color: string; deployment?: V1Deployment }>,
  ask: AskPodsFn,
  opts: AskPodsOptions = {},
): Promise<Map<string, ProbeResult & { errors: string[] }>> {
  const perColor = colors.map((c) => ({ color: c.color, targets: colorTargets(pods, c.color, c.deployment) }));
  const all = perColor.flatMap((c) => c.targets);
  const reports = all.length > 0 ? await ask(all, opts) : [];
  const out = new Map<string, ProbeResult & { errors: string[] }>();
  for (const c of perColor) out.set(c.color, summarize(c.targets, reports));
  return out;
}
