// Asking a color's pods for their connections, shared by the controller's drain check and
// `rainbow status`. Which pods are asked and where is the delete guard's rule (running, not being
// deleted, with an IP; port and path from the pod's annotations, else its Deployment's, else
// the defaults), so the controller's "0" means what the guard will find. Beside the total,
// a probe describes every active pod of the color (removal-order.ts: the pods a scale-down can
// remove) with its count, its removal rank and its deletion cost, for the shrink.
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { AskPodsOptions, PodReport, PodTarget } from './ask-pods.js';
import { ANNOTATION_POD_DELETION_COST, LABEL_COLOR } from '../domain/contract.js';
import { isAskable, podTarget } from './pod-targets.js';
import { annotationOf, labelOf, matchesSelector } from '../domain/objects.js';
import { isActivePod, removalRank } from '../domain/removal-order.js';
import type { PodObservation, ProbeResult } from '../domain/color-states.js';

export type AskPodsFn = (targets: readonly PodTarget[], opts?: AskPodsOptions) => Promise<PodReport[]>;

export { podTarget };

/** The pods of a color: its label, and its Deployment's selector when known. */
function colorPods(pods: readonly V1Pod[], color: string, deployment: V1Deployment | undefined): V1Pod[] {
  const selector = deployment?.spec?.selector;
  return pods.filter((p) => labelOf(p, LABEL_COLOR) === color && (!selector || matchesSelector(p.metadata?.labels, selector)));
}

/** The askable pods of a color: its label, and its Deployment's selector when known. */
export function colorTargets(pods: readonly V1Pod[], color: string, deployment: V1Deployment | undefined): PodTarget[] {
  return colorPods(pods, color, deployment)
    .filter(isAskable)
    .map((p) => podTarget(p, deployment))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export type Summary = ProbeResult & {
  errors: string[];
  /** Per pod that answered: its name → its established connections. */
  perPod: Record<string, number>;
  /** Per pod that did not: its name → why. */
  failed: Record<string, string>;
};

/** A color's total from its pods' reports; any pod without a count makes the total unknown. */
export function summarize(targets: readonly PodTarget[], reports: readonly PodReport[]): Summary {
  const byName = new Map(reports.map((r) => [r.name, r]));
  let count = 0;
  const errors: string[] = [];
  const perPod: Record<string, number> = {};
  const failed: Record<string, string> = {};
  for (const t of targets) {
    const r = byName.get(t.name);
    const error = !r ? `pod ${t.name}: no answer` : !r.ok ? r.error : undefined;
    if (error !== undefined) {
      errors.push(error);
      failed[t.name] = error;
    } else if (r?.ok) {
      count += r.established;
      perPod[t.name] = r.established;
    }
  }
  const result: Summary = { count, errors, perPod, failed };
  if (errors.length > 0) result.unknown = errors.length === 1 ? errors[0]! : `${errors[0]} (and ${errors.length - 1} more pod${errors.length > 2 ? 's' : ''})`;
  return result;
}

/**
 * Every active pod of a color with what the shrink needs: its count from `summary` (none for a pod
 * that could not be asked, or is not running yet), its removal rank and its deletion cost as listed.
 */
export function podObservations(pods: readonly V1Pod[], color: string, deployment: V1Deployment | undefined, summary: Pick<Summary, 'perPod' | 'failed'>): PodObservation[] {
  return colorPods(pods, color, deployment)
    .filter(isActivePod)
    .map((p): PodObservation => {
      const rank = removalRank(p);
      const o: PodObservation = { name: rank.name, rank };
      const n = summary.perPod[rank.name];
      if (n !== undefined) o.connections = n;
      else o.unknown = summary.failed[rank.name] ?? (isAskable(p) ? 'not asked' : `not running yet (phase ${p.status?.phase ?? 'unknown'}${p.status?.podIP ? '' : ', no IP'})`);
      const cost = annotationOf(p, ANNOTATION_POD_DELETION_COST);
      if (cost !== undefined) o.costAnnotation = cost;
      return o;
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Ask the pods of several colors in one batch; one result per color, with its pods. */
export async function probeColors(
  pods: readonly V1Pod[],
  colors: ReadonlyArray<{ color: string; deployment?: V1Deployment }>,
  ask: AskPodsFn,
  opts: AskPodsOptions = {},
): Promise<Map<string, Summary>> {
  const perColor = colors.map((c) => ({ ...c, targets: colorTargets(pods, c.color, c.deployment) }));
  const all = perColor.flatMap((c) => c.targets);
  const reports = all.length > 0 ? await ask(all, opts) : [];
  const out = new Map<string, Summary>();
  for (const c of perColor) {
    const summary = summarize(c.targets, reports);
    summary.pods = podObservations(pods, c.color, c.deployment, summary);
    out.set(c.color, summary);
  }
  return out;
}
