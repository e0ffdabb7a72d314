import { readdirSync } from 'node:fs';
import { describeRequest, parseReview } from '../../../webhook/src/admission/review.js';
import { loadReview, loadRequest } from '../../support/builders.js';

const fixtures = readdirSync(new URL('../../fixtures/admission/', import.meta.url)).filter((f) => f.endsWith('.json'));

function errorOf(body: unknown) {
  const r = parseReview(body);
  if (r.ok) throw new Error('expected an error');
  return r.error;
}

describe('parseReview', () => {
  it('has recorded fixtures to read', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(8);
  });

  it.each(fixtures)('accepts the recorded review %s', (file) => {
    const raw = loadReview(file);
    const r = parseReview(raw);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.request.uid).toBe(raw.request!.uid);
    expect(r.request.operation).toBe(raw.request!.operation);
    expect(r.request.namespace).toBe('shop');
    expect(r.request.userInfo.username).toBeTruthy();
  });

  it('keeps every field of a scale-subresource request', () => {
    const req = loadRequest('deployment-scale-zero.json');
    expect(req).toEqual({
      uid: 'a3f7c1e9-6b2d-4e8a-9c5f-7d1b3e5a9c47',
      kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      subResource: 'scale',
      requestKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
      requestResource: { group: 'apps', version: 'v1', resource: 'deployments' },
      requestSubResource: 'scale',
      name: 'web-3c3fdc',
      namespace: 'shop',
      operation: 'UPDATE',
      userInfo: { username: 'kubernetes-admin', groups: ['kubeadm:cluster-admins', 'system:authenticated'] },
      object: expect.objectContaining({ kind: 'Scale', spec: {} }),
      oldObject: expect.objectContaining({ kind: 'Scale', spec: { replicas: 2 } }),
      dryRun: false,
      options: { kind: 'UpdateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'kubectl-scale' },
    });
  });

  it('keeps object: null on DELETE', () => {
    const req = loadRequest('deployment-delete.json');
    expect(req.object).toBeNull();
    expect(req.oldObject).toEqual(expect.objectContaining({ kind: 'Deployment' }));
  });

  it('refuses a body that is not an object', () => {
    expect(errorOf([1, 2])).toEqual({ code: 'not-an-object', message: 'AdmissionReview must be a JSON object, got an array' });
    expect(errorOf(null)).toEqual({ code: 'not-an-object', message: 'AdmissionReview must be a JSON object, got null' });
    expect(errorOf('hi').message).toBe('AdmissionReview must be a JSON object, got "hi"');
  });

  it('refuses admission.k8s.io/v1beta1 and says how to fix the configuration, echoing the uid', () => {
    const body = { ...loadReview('deployment-delete.json'), apiVersion: 'admission.k8s.io/v1beta1' };
    expect(errorOf(body)).toEqual({
      code: 'api-version',
      message:
        'AdmissionReview apiVersion is "admission.k8s.io/v1beta1"; this webhook speaks only admission.k8s.io/v1 (set admissionReviewVersions: ["v1"] in the webhook configuration)',
      uid: 'c4e1f6a2-7b3d-4a9e-8f2c-1d5e9b0a7c36',
    });
    expect(errorOf({ kind: 'AdmissionReview', request: {} }).message).toMatch(/^AdmissionReview apiVersion is missing;/);
  });

  it('refuses another kind', () => {
    const body = { ...loadReview('deployment-delete.json'), kind: 'TokenReview' };
    expect(errorOf(body)).toEqual({
      code: 'kind',
      message: 'kind is "TokenReview"; expected AdmissionReview',
      uid: 'c4e1f6a2-7b3d-4a9e-8f2c-1d5e9b0a7c36',
    });
  });

  it('refuses a review without a request (a response sent back to us, say)', () => {
    expect(errorOf({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'x', allowed: true } })).toEqual({
      code: 'missing-request',
      message: 'AdmissionReview has no request object (request is missing)',
    });
  });

  it('refuses a missing, empty or invalid uid', () => {
    const review = (uid: unknown) => {
      const body = loadReview('deployment-delete.json') as unknown as { request: Record<string, unknown> };
      if (uid === undefined) delete body.request.uid;
      else body.request.uid = uid;
      return body;
    };
    expect(errorOf(review(undefined))).toEqual({
      code: 'uid',
      message: 'AdmissionReview request.uid is missing; expected a non-empty token of at most 128 printable characters',
    });
    expect(errorOf(review('')).code).toBe('uid');
    expect(errorOf(review('has space')).code).toBe('uid');
    expect(errorOf(review(42)).message).toBe(
      'AdmissionReview request.uid is a number; expected a non-empty token of at most 128 printable characters',
    );
    expect(errorOf(review('x'.repeat(129))).code).toBe('uid');
  });

  it('refuses an unknown operation and malformed kind/resource, naming the field', () => {
    const edit = (f: (r: Record<string, unknown>) => void) => {
      const body = loadReview('deployment-delete.json') as unknown as { request: Record<string, unknown> };
      f(body.request);
      return errorOf(body);
    };
    expect(edit((r) => (r.operation = 'PATCH'))).toEqual({
      code: 'operation',
      message: 'request.operation is "PATCH"; expected one of CREATE, UPDATE, DELETE, CONNECT',
      uid: 'c4e1f6a2-7b3d-4a9e-8f2c-1d5e9b0a7c36',
    });
    expect(edit((r) => delete r.kind).message).toBe('request.kind is missing; expected {group, version, kind}');
    expect(edit((r) => (r.resource = { group: 'apps', version: 'v1' })).message).toBe(
      'request.resource.resource is missing; expected a non-empty string',
    );
    expect(edit((r) => (r.resource = { version: 'v1', resource: 'pods' })).message).toBe(
      'request.resource.group is missing; expected a string ("" for the core group)',
    );
    expect(edit((r) => (r.object = 'nope')).message).toBe('request.object is "nope"; expected an object or null');
    expect(edit((r) => (r.dryRun = 'false')).message).toBe('request.dryRun is "false"; expected true or false');
    expect(edit((r) => (r.namespace = 7)).message).toBe('request.namespace is a number; expected a string');
  });

  it('accepts the core group as ""', () => {
    expect(loadRequest('service-update-new-color.json').kind).toEqual({ group: '', version: 'v1', kind: 'Service' });
  });
});

describe('describeRequest', () => {
  it('names the object, and the resource for a subresource', () => {
    expect(describeRequest(loadRequest('deployment-delete.json'))).toBe('Deployment shop/web-3c3fdc');
    expect(describeRequest(loadRequest('deployment-scale-zero.json'))).toBe('deployments/scale shop/web-3c3fdc');
  });
});
