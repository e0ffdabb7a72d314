// What the controller keeps of one app between reconciles; every reconcile step reads and
// updates this context, so the steps share no hidden state.
import type { AppColors, DrainObservation } from '../domain/color-states.js';
import type { ConnectionSample } from '../domain/drain-forecast.js';
import { newDedupe, type Dedupe } from './events.js';

export interface AppContext {
  /** appKey(namespace, app). */
  readonly key: string;
  readonly namespace: string;
  readonly app: string;
  /** What the drain checks read of each color. */
  observations: Map<string, DrainObservation>;
  /** Each previous color's complete counts, thinned (drain-check.ts appendSample): what its drain forecast reads. */
  series: Map<string, ConnectionSample[]>;
  /** Colors seen serving since this controller started (see PlanInput.served). */
  served: Set<string>;
  /** Deployment uid → time (ms) before which a refused delete is not retried. */
  holdDeletes: Map<string, number>;
  /** Warnings logged and Events announced, so that each goes out once. */
  dedupe: Dedupe;
  /** The states of the last plan. */
  colors?: AppColors;
}

export const appKey = (namespace: string, app: string): string => `${namespace}/${app}`;

export function newAppContext(namespace: string, app: string): AppContext {
  return { key: appKey(namespace, app), namespace, app, observations: new Map(), series: new Map(), served: new Set(), holdDeletes: new Map(), dedupe: newDedupe() };
}
