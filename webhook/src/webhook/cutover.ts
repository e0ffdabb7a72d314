// Cutover: which color a Service labelled rainbow.dev/app may select (README, "How it fits together").
//
//  1. Requested color = spec.selector[rainbow.dev/color]; if absent, the app's serving color.
//  2. Requested color Available, or cutover: immediate → select it, clear pending.
//  3. Else, if a color is serving and Available, or still has pods that serve (one of them crashed
//     or is being replaced) → keep it, set pending to the requested one, warn.
//  4. Else (first deploy, nothing serving) → select the requested color.
//
// The caller lists, in the Service's namespace, the Deployments and Services labelled
// rainbow.dev/app=<app> (cutoverFetch tells which) and passes them as an AppSnapshot.
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { ANNOTATION_CUTOVER, ANNOTATION_PENDING_COLOR, LABEL_APP, LABEL_COLOR } from '../domain/contract.js';
import type { AdmissionRequest } from '../admission/review.js';
import { allowed, patched, withWarnings, type Decision } from '../admission/responses.js';
import {
  appOf,
  colorOfDeployment,
  colorOfService,
  deploymentOfColor,
  isDeploymentAvailable,
  newestFirst,
  readServiceSettings,
  servingPods,
  unavailability,
} from '../domain/availability.js';
import { annotationOf } from '../domain/objects.js';

export interface AppSnapshot {
  /** Deployments in the Service's namespace labelled rainbow.dev/app=<app>. */
  deployments: V1Deployment[];
  /** Services in the namespace labelled rainbow.dev/app=<app>; the one under review is skipped by name. */
  services: V1Service[];
}

export interface CutoverFetch {
  namespace: string;
  /** Read the Deployments and Services labelled rainbow.dev/app=<app>. */
  app: string;
}

function reviewedService(req: AdmissionRequest): V1Service | undefined {
  if (req.resource.group !== '' || req.resource.resource !== 'services' || req.subResource) return undefined;
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return undefined;
  return (req.object ?? undefined) as V1Service | undefined;
}

/** What to list before decideCutover; undefined when the decision needs nothing from the cluster. */
export function cutoverFetch(req: AdmissionRequest): CutoverFetch | undefined {
  const svc = reviewedService(req);
  const app = svc && appOf(svc);
  if (!svc || !app || !hasRainbowSelector(svc)) return undefined;
  return { namespace: req.namespace || svc.metadata?.namespace || 'default', app };
}

/** A selector that names our app or color; any other Service routes on its own terms. */
function hasRainbowSelector(svc: V1Service): boolean {
  const sel = svc.spec?.selector;
  return sel !== undefined && sel !== null && (LABEL_COLOR in sel || LABEL_APP in sel);
}

interface Serving {
  color: string;
  source: string;
}

/**
 * The color the app serves now: this Service's previous selector (UPDATE), the other Services'
 * selectors (an Available color first), else the newest Available Deployment.
 */
function servingColor(app: string, previous: string | undefined, others: V1Service[], deployments: V1Deployment[]): Serving | undefined {
  if (previous) return { color: previous, source: 'its previous selector' };
  const fromOthers = othersServing(app, others, deployments);
  if (fromOthers) return fromOthers;
  const newest = newestFirst(deployments.filter((d) => appOf(d) === app && isDeploymentAvailable(d)))[0];
  const color = newest && colorOfDeployment(newest);
  return color ? { color, source: `the newest Available Deployment, ${newest.metadata?.name}` } : undefined;
}

function othersServing(app: string, others: V1Service[], deployments: V1Deployment[]): Serving | undefined {
  const candidates = [...others]
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))
    .flatMap((s) => {
      const color = colorOfService(s);
      return color ? [{ color, source: `Service ${s.metadata?.name}` }] : [];
    });
  return candidates.find((c) => isDeploymentAvailable(deploymentOfColor(deployments, app, c.color))) ?? candidates[0];
}

export function decideCutover(req: AdmissionRequest, snapshot: AppSnapshot): Decision {
  const svc = reviewedService(req);
  if (!svc) return allowed(undefined, 'not-applicable');
  const app = appOf(svc);
  if (!app) return allowed(undefined, 'not-rainbow');
  if (!hasRainbowSelector(svc)) return allowed(undefined, 'no-rainbow-selector');

  const name = svc.metadata?.name || req.name || '(generated)';
  const namespace = req.namespace || svc.metadata?.namespace || 'default';
  const read = readServiceSettings(svc);
  const settings = read.settings;
  const warnings = Object.values(read.warnings);
  const old = req.operation === 'UPDATE' ? ((req.oldObject ?? undefined) as V1Service | undefined) : undefined;
  const previous = old ? colorOfService(old) : undefined;
  const others = snapshot.services.filter((s) => s.metadata?.name !== name && appOf(s) === app);
  const deployments = snapshot.deployments.filter((d) => appOf(d) === app);
  const watch = `Watch: kubectl rainbow status ${app} -n ${namespace}`;

  // Rule 1.
  let requested = colorOfService(svc);
  if (!requested) {
    const serving = servingColor(app, previous, others, deployments);
    if (!serving) {
      return withWarnings(
        allowed(undefined, 'no-color'),
        ...warnings,
        `Service ${name}: spec.selector has no ${LABEL_COLOR} and app ${app} has no serving color yet, so it selects the pods of every color. Set spec.selector.${LABEL_COLOR} to the color to serve`,
      );
    }
    requested = serving.color;
    warnings.push(`Service ${name}: spec.selector has no ${LABEL_COLOR}; filled in ${requested}, the color app ${app} serves (from ${serving.source})`);
  }

  const why = unavailability(deploymentOfColor(deployments, app, requested));
  let target = requested;
  let pending: string | undefined;
  let reason: string;

  if (why === undefined) {
    reason = 'available'; // Rule 2.
  } else if (settings.cutover === 'immediate') {
    reason = 'immediate'; // Rule 2.
    warnings.push(`Service ${name}: switching to color ${requested} although it ${why} (${ANNOTATION_CUTOVER}: immediate)`);
  } else {
    // Rule 3. On CREATE there is no old selector; the app's other Services stand in for it
    // (a Service re-created or added while a rollout is pending should not point at a color that
    // cannot serve when another one can).
    const hold = req.operation === 'UPDATE' ? (previous ?? othersServing(app, others, deployments)?.color) : othersServing(app, others, deployments)?.color;
    const held = hold === undefined ? undefined : deploymentOfColor(deployments, app, hold);
    if (hold && hold !== requested && (isDeploymentAvailable(held) || servingPods(held) > 0)) {
      target = hold;
      pending = requested;
      reason = 'pending';
      const partly = isDeploymentAvailable(held) ? '' : ` (${servingPods(held)} of its pods serve; it ${unavailability(held)})`;
      warnings.push(
        `Service ${name}: color ${requested} ${why}; still serving ${hold}${partly}. rainbow-controller will switch when ${requested} is Available. ${watch}`,
      );
    } else {
      reason = 'nothing-serving'; // Rule 4.
      warnings.push(`Service ${name}: color ${requested} ${why} and no other color of app ${app} is Available; selecting it now. ${watch}`);
    }
  }

  const pendingBefore = annotationOf(svc, ANNOTATION_PENDING_COLOR);
  if (pendingBefore !== undefined && pending === undefined && pendingBefore !== target) {
    warnings.push(
      `Service ${name}: dropped pending color ${pendingBefore}, because this update selects ${target}. To switch to ${pendingBefore}, apply the Service with ${LABEL_COLOR}: ${pendingBefore}`,
    );
  }

  // Copies along the changed paths only: the rest is shared with `svc`, which the patch's diff
  // then skips without walking (a Service's managedFields alone can be kilobytes).
  const after: V1Service = { ...svc, spec: { ...svc.spec, selector: { ...svc.spec?.selector, [LABEL_COLOR]: target } } };
  const annotations = svc.metadata?.annotations;
  if (pending !== undefined) {
    after.metadata = { ...svc.metadata, annotations: { ...annotations, [ANNOTATION_PENDING_COLOR]: pending } };
  } else if (annotations && ANNOTATION_PENDING_COLOR in annotations) {
    const { [ANNOTATION_PENDING_COLOR]: _dropped, ...rest } = annotations;
    after.metadata = { ...svc.metadata, annotations: rest };
  }
  return withWarnings(patched(svc, after, undefined, reason), ...warnings);
}
