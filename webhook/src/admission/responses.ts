// What a handler returns, and the helpers that build it (after controller-runtime's
// admission.Allowed/Denied/Patched/Errored). The HTTP adapter adds the UID.
import fastJsonPatch from 'fast-json-patch';
import type { Operation as PatchOperation } from 'fast-json-patch';
import type { AdmissionResponse, ResponseStatus } from './review.js';

const { compare } = fastJsonPatch;

export type { PatchOperation };

export interface Decision {
  allowed: boolean;
  status?: ResponseStatus;
  /** base64 of a JSON Patch; set only together with patchType. */
  patch?: string;
  patchType?: 'JSONPatch';
  /** Shown by kubectl as `Warning: …`. Keep each to one line; the API server truncates long ones. */
  warnings?: string[];
  /**
   * Short, low-cardinality label for metrics and logs (e.g. 'serving', 'connections',
   * 'unknown-pod'). Never sent to the API server.
   */
  reason?: string;
}

// metav1.StatusReason for the codes a webhook answers or rejects with, so that clients see the usual reasons.
const STATUS_REASONS: Record<number, string> = {
  400: 'BadRequest',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** The metav1.StatusReason of an HTTP code; undefined for codes without one. */
export function statusReason(code: number): string | undefined {
  return STATUS_REASONS[code];
}

function withReason<T extends Decision>(d: T, reason: string | undefined): T {
  return reason === undefined ? d : { ...d, reason };
}

export function allowed(message?: string, reason?: string): Decision {
  const d: Decision = { allowed: true };
  if (message !== undefined) d.status = { code: 200, message };
  return withReason(d, reason);
}

/** `reason` is the metrics label; the Status reason is derived from the code. */
export function denied(message: string, code = 403, reason?: string): Decision {
  const status: ResponseStatus = { status: 'Failure', code, message };
  const known = statusReason(code);
  if (known) status.reason = known;
  return withReason({ allowed: false, status }, reason);
}

/** The handler could not decide; the API server applies the webhook's failurePolicy. */
export function errored(code: number, err: unknown): Decision {
  const message = err instanceof Error ? err.message : String(err);
  return denied(message, code, 'error');
}

/**
 * Allowed, with the JSON Patch that turns `before` into `after`. Build `after` as a modified deep
 * copy of `before` (delete keys rather than set them to undefined); `compare` escapes `/` in
 * keys as `~1`, so annotation keys like `rainbow.dev/pending-color` come out right.
 */
export function patched(before: unknown, after: unknown, message?: string, reason?: string): Decision {
  const ops = compare(before as object, after as object);
  if (ops.length === 0) return allowed(message, reason);
  return {
    ...allowed(message, reason),
    patch: Buffer.from(JSON.stringify(ops), 'utf8').toString('base64'),
    patchType: 'JSONPatch',
  };
}

/** The operations of a decision's patch (empty when there is none); for tests and logs. */
export function patchOperations(d: Pick<Decision, 'patch'>): PatchOperation[] {
  if (!d.patch) return [];
  return JSON.parse(Buffer.from(d.patch, 'base64').toString('utf8')) as PatchOperation[];
}

export function withWarnings<T extends Decision>(d: T, ...warnings: Array<string | undefined>): T {
  const add = warnings.filter((w): w is string => typeof w === 'string' && w.trim() !== '');
  if (add.length === 0) return d;
  const all = [...(d.warnings ?? [])];
  for (const w of add) if (!all.includes(w)) all.push(w);
  return { ...d, warnings: all };
}

/** The wire form; `reason` stays on our side. */
export function toAdmissionResponse(uid: string, d: Decision): AdmissionResponse {
  const resp: AdmissionResponse = { uid, allowed: d.allowed };
  if (d.status) resp.status = { ...d.status };
  if (d.patch) {
    resp.patch = d.patch;
    resp.patchType = 'JSONPatch';
  }
  if (d.warnings && d.warnings.length > 0) resp.warnings = [...d.warnings];
  return resp;
}
