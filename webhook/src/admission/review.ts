// The admission.k8s.io/v1 AdmissionReview envelope, and the one place that checks it.
// Field names follow k8s.io/api/admission/v1 so that a review can be logged or replayed as is.

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
export const ADMISSION_KIND = 'AdmissionReview';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
const OPERATIONS: readonly Operation[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/**
 * An object as the API server sends it: already decoded and defaulted into its Go type, so
 * fields have their declared types, but timestamps are RFC 3339 strings (not `Date`s as in
 * @kubernetes/client-node's models) and, for mutating webhooks, values are not yet validated.
 */
export type RawObject = { [key: string]: unknown };

export interface AdmissionRequest {
  uid: string;
  /** Kind of the object sent (e.g. autoscaling/v1 Scale for `deployments/scale`). */
  kind: GroupVersionKind;
  resource: GroupVersionResource;
  subResource?: string;
  /** What the user asked for, before any conversion to the version the webhook registered. */
  requestKind?: GroupVersionKind;
  requestResource?: GroupVersionResource;
  requestSubResource?: string;
  /** Empty on CREATE with generateName. */
  name?: string;
  namespace?: string;
  operation: Operation;
  userInfo: UserInfo;
  /** null on DELETE. */
  object?: RawObject | null;
  /** null on CREATE and CONNECT; the object being deleted on DELETE. */
  oldObject?: RawObject | null;
  dryRun?: boolean;
  /** CreateOptions, UpdateOptions (also for PATCH) or DeleteOptions. */
  options?: RawObject | null;
}

/** The subset of metav1.Status an AdmissionResponse carries. */
export interface ResponseStatus {
  status?: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: ResponseStatus;
  /** base64 of a JSON Patch (RFC 6902). */
  patch?: string;
  patchType?: 'JSONPatch';
  auditAnnotations?: Record<string, string>;
  warnings?: string[];
}

export interface AdmissionReview {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: typeof ADMISSION_KIND;
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

export type ReviewErrorCode =
  | 'not-an-object'
  | 'api-version'
  | 'kind'
  | 'missing-request'
  | 'uid'
  | 'operation'
  | 'request-field';

export interface ReviewError {
  code: ReviewErrorCode;
  message: string;
  /** The request's UID when it could be read, so that even a rejection can name the review. */
  uid?: string;
}

export type ParseResult = { ok: true; request: AdmissionRequest } | { ok: false; error: ReviewError };

// Kubernetes UIDs are UUIDs, but nothing in the API promises that; accept any printable token
// of a sane length so that a review replayed by hand still works.
const UID_PATTERN = /^[\x21-\x7e]{1,128}$/;

function isRecord(v: unknown): v is RawObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  return `a ${typeof v}`;
}

function fail(code: ReviewErrorCode, message: string, uid?: string): ParseResult {
  return { ok: false, error: uid === undefined ? { code, message } : { code, message, uid } };
}

/**
 * Checks an AdmissionReview envelope as decoded from JSON. Returns the request, or an error whose
 * message says what is wrong and, where it is a configuration mistake, how to fix it.
 */
export function parseReview(body: unknown): ParseResult {
  if (!isRecord(body)) {
    return fail('not-an-object', `AdmissionReview must be a JSON object, got ${describe(body)}`);
  }
  const maybeUid = isRecord(body.request) && typeof body.request.uid === 'string' && UID_PATTERN.test(body.request.uid)
    ? body.request.uid
    : undefined;

  if (body.apiVersion !== ADMISSION_API_VERSION) {
    return fail(
      'api-version',
      `AdmissionReview apiVersion is ${describe(body.apiVersion)}; this webhook speaks only ${ADMISSION_API_VERSION} ` +
        `(set admissionReviewVersions: ["v1"] in the webhook configuration)`,
      maybeUid,
    );
  }
  if (body.kind !== ADMISSION_KIND) {
    return fail('kind', `kind is ${describe(body.kind)}; expected ${ADMISSION_KIND}`, maybeUid);
  }
  const r = body.request;
  if (!isRecord(r)) {
    return fail('missing-request', `AdmissionReview has no request object (request is ${describe(r)})`);
  }
  if (typeof r.uid !== 'string' || !UID_PATTERN.test(r.uid)) {
    return fail('uid', `AdmissionReview request.uid is ${describe(r.uid)}; expected a non-empty token of at most 128 printable characters`);
  }
  const uid = r.uid;
  if (typeof r.operation !== 'string' || !OPERATIONS.includes(r.operation as Operation)) {
    return fail('operation', `request.operation is ${describe(r.operation)}; expected one of ${OPERATIONS.join(', ')}`, uid);
  }

  const kind = parseGroupVersion(r.kind, 'kind');
  if (typeof kind === 'string') return fail('request-field', kind, uid);
  const resource = parseGroupVersion(r.resource, 'resource');
  if (typeof resource === 'string') return fail('request-field', resource, uid);

  const optionalStrings = ['subResource', 'requestSubResource', 'name', 'namespace'] as const;
  for (const field of optionalStrings) {
    if (r[field] !== undefined && typeof r[field] !== 'string') {
      return fail('request-field', `request.${field} is ${describe(r[field])}; expected a string`, uid);
    }
  }
  const optionalObjects = ['object', 'oldObject', 'options'] as const;
  for (const field of optionalObjects) {
    if (r[field] !== undefined && r[field] !== null && !isRecord(r[field])) {
      return fail('request-field', `request.${field} is ${describe(r[field])}; expected an object or null`, uid);
    }
  }
  if (r.dryRun !== undefined && typeof r.dryRun !== 'boolean') {
    return fail('request-field', `request.dryRun is ${describe(r.dryRun)}; expected true or false`, uid);
  }
  if (r.userInfo !== undefined && !isRecord(r.userInfo)) {
    return fail('request-field', `request.userInfo is ${describe(r.userInfo)}; expected an object`, uid);
  }

  let requestKind: GroupVersionKind | undefined;
  if (r.requestKind !== undefined) {
    const parsed = parseGroupVersion(r.requestKind, 'requestKind');
    if (typeof parsed === 'string') return fail('request-field', parsed, uid);
    requestKind = parsed as unknown as GroupVersionKind;
  }
  let requestResource: GroupVersionResource | undefined;
  if (r.requestResource !== undefined) {
    const parsed = parseGroupVersion(r.requestResource, 'requestResource');
    if (typeof parsed === 'string') return fail('request-field', parsed, uid);
    requestResource = parsed as unknown as GroupVersionResource;
  }

  const request: AdmissionRequest = {
    uid,
    kind: kind as unknown as GroupVersionKind,
    resource: resource as unknown as GroupVersionResource,
    operation: r.operation as Operation,
    userInfo: (r.userInfo as UserInfo | undefined) ?? {},
  };
  if (r.subResource !== undefined && r.subResource !== '') request.subResource = r.subResource as string;
  if (requestKind) request.requestKind = requestKind;
  if (requestResource) request.requestResource = requestResource;
  if (r.requestSubResource !== undefined && r.requestSubResource !== '') request.requestSubResource = r.requestSubResource as string;
  if (r.name !== undefined) request.name = r.name as string;
  if (r.namespace !== undefined) request.namespace = r.namespace as string;
  if (r.object !== undefined) request.object = r.object as RawObject | null;
  if (r.oldObject !== undefined) request.oldObject = r.oldObject as RawObject | null;
  if (r.dryRun !== undefined) request.dryRun = r.dryRun as boolean;
  if (r.options !== undefined) request.options = r.options as RawObject | null;
  return { ok: true, request };
}

// kind/requestKind carry {group, version, kind}; resource/requestResource {group, version, resource}.
function parseGroupVersion(v: unknown, field: 'kind' | 'requestKind' | 'resource' | 'requestResource'): RawObject | string {
  const last = field === 'kind' || field === 'requestKind' ? 'kind' : 'resource';
  if (!isRecord(v)) return `request.${field} is ${describe(v)}; expected {group, version, ${last}}`;
  // The core group is the empty string, so only its type is checked.
  if (typeof v.group !== 'string') return `request.${field}.group is ${describe(v.group)}; expected a string ("" for the core group)`;
  for (const key of ['version', last]) {
    if (typeof v[key] !== 'string' || v[key] === '') {
      return `request.${field}.${key} is ${describe(v[key])}; expected a non-empty string`;
    }
  }
  return { group: v.group, version: v.version, [last]: v[last] };
}

/** `Deployment default/web-3c3fdc` or `deployments/scale default/web-3c3fdc`, for messages and logs. */
export function describeRequest(req: AdmissionRequest): string {
  // For a subresource the kind is that of the payload (Scale), so name the resource instead.
  const what = req.subResource ? `${req.resource.resource}/${req.subResource}` : req.kind.kind;
  const where = req.namespace ? `${req.namespace}/` : '';
  return `${what} ${where}${req.name || '(unnamed)'}`;
}
