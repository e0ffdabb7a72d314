// Reading Kubernetes objects that come from two places: the API server's JSON in a review
// (timestamps are strings) and @kubernetes/client-node reads (timestamps are Dates).
import type { V1LabelSelector, V1ObjectMeta } from '@kubernetes/client-node';

export interface HasMetadata {
  metadata?: V1ObjectMeta;
}

export function labelOf(obj: HasMetadata | null | undefined, key: string): string | undefined {
  return obj?.metadata?.labels?.[key];
}

export function annotationOf(obj: HasMetadata | null | undefined, key: string): string | undefined {
  return obj?.metadata?.annotations?.[key];
}

export function isBeingDeleted(obj: HasMetadata | null | undefined): boolean {
  return obj?.metadata?.deletionTimestamp !== undefined && obj.metadata.deletionTimestamp !== null;
}

/** A timestamp from either source, or undefined when absent or unparsable. */
export function toDate(v: Date | string | undefined | null): Date | undefined {
  if (v === undefined || v === null) return undefined;
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Kubernetes label-selector semantics; an empty selector matches everything. */
export function matchesSelector(labels: Record<string, string> | undefined, selector: V1LabelSelector): boolean {
  const have = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (have[k] !== v) return false;
  }
  for (const expr of selector.matchExpressions ?? []) {
    const present = Object.prototype.hasOwnProperty.call(have, expr.key);
    const value = have[expr.key];
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In':
        if (!present || !values.includes(value!)) return false;
        break;
      case 'NotIn':
        if (present && values.includes(value!)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        // An operator we do not know selects nothing, as the API server would refuse it.
        return false;
    }
  }
  return true;
}

/**
 * An annotation that holds one JSON object (drain-settings, drain-forecast): the object, or why it
 * is not one.
 */
export function parseJsonObject(raw: string | undefined): { object?: Record<string, unknown>; error?: string } {
  if (raw === undefined) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return { error: 'not JSON' };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { error: 'not a JSON object' };
  return { object: v as Record<string, unknown> };
}
