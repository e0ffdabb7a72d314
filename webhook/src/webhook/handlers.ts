// The two admission handlers: read what the pure policy needs, decide, and (for the guard) ask
// the color's pods for their connections in between. No writes to the cluster, dry-run or not.
import type { AdmissionHandler } from '../admission/http.js';
import { askPods, type PodReport } from '../net/ask-pods.js';
import type { SnapshotReader } from './reads/snapshots.js';
import { decideCutover } from './cutover.js';
import { decideFromCounts, planDeleteGuard } from './guard.js';

export interface GuardOptions {
  onUnknown: 'deny' | 'allow';
  /** Per-pod timeout of a /connections request. */
  podTimeoutMs: number;
  /** Pods asked at once. */
  concurrency: number;
  /** Overall budget for asking pods; must stay well inside the webhook's timeoutSeconds. */
  budgetMs: number;
  /** Called with every pod that could not be asked (metrics). */
  onPodError?: (report: Extract<PodReport, { ok: false }>) => void;
}

export function cutoverHandler(reader: SnapshotReader): AdmissionHandler {
  return async (req) => decideCutover(req, await reader.appSnapshot(req));
}

export function deleteGuardHandler(reader: SnapshotReader, opts: GuardOptions): AdmissionHandler {
  return async (req, dropped) => {
    const snapshot = await reader.guardSnapshot(req);
    const plan = planDeleteGuard(req, snapshot ?? { services: [], pods: [], now: new Date() });
    if (plan.kind === 'decided') return plan.decision;
    if (plan.pods.length === 0) return decideFromCounts(plan, [], { onUnknown: opts.onUnknown });
    const reports = await askPods(plan.pods, {
      concurrency: opts.concurrency,
      timeoutMs: opts.podTimeoutMs,
      // The budget, or sooner if the API server has given up on the review.
      signal: dropped ? AbortSignal.any([dropped, AbortSignal.timeout(opts.budgetMs)]) : AbortSignal.timeout(opts.budgetMs),
    });
    for (const r of reports) if (!r.ok) opts.onPodError?.(r);
    return decideFromCounts(plan, reports, { onUnknown: opts.onUnknown });
  };
}
