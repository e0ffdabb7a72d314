import http, { type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { admissionRoute, type AdmissionHandler, type AdmissionRouteOptions, type ReviewObservation, type RejectionObservation } from '../../../webhook/src/admission/http.js';
import { allowed, denied, patched, withWarnings } from '../../../webhook/src/admission/responses.js';
import type { AdmissionRequest } from '../../../webhook/src/admission/review.js';
import { loadReview } from '../../support/builders.js';

const PATH = '/validate/deployments';
const DELETE_UID = 'c4e1f6a2-7b3d-4a9e-8f2c-1d5e9b0a7c36';

function appWith(handler: AdmissionHandler, opts?: AdmissionRouteOptions): RequestListener {
  return admissionRoute(handler, opts);
}

const body = (file = 'deployment-delete.json') => JSON.stringify(loadReview(file));
const post = (app: RequestListener, payload: string, type = 'application/json') =>
  request(app).post(PATH).set('Content-Type', type).send(payload);

function status(code: number, reason: string, message: string, uid?: string) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    message,
    reason,
    code,
    ...(uid ? { details: { uid } } : {}),
  };
}

describe('admissionRoute: answers', () => {
  it('passes the parsed request to the handler and echoes the UID', async () => {
    const seen: AdmissionRequest[] = [];
    const app = appWith((req) => {
      seen.push(req);
      return allowed(undefined, 'drained');
    });
    const res = await post(app, body());
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: DELETE_UID, allowed: true } });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.operation).toBe('DELETE');
    expect(seen[0]!.name).toBe('web-3c3fdc');
  });

  it('sends patches, warnings and denials as the API server expects them', async () => {
    const app = appWith((req) =>
      req.operation === 'UPDATE'
        ? withWarnings(patched({ a: 1 }, { a: 2 }), 'heads up')
        : denied('Refusing to delete Deployment shop/web-3c3fdc: busy', 403, 'connections'),
    );
    const up = await post(app, body('service-update-new-color.json'));
    expect(up.body.response).toEqual({
      uid: '8f3b2a6c-4d1e-4f8a-9b7c-2e5d6a1f0c93',
      allowed: true,
      patchType: 'JSONPatch',
      patch: Buffer.from(JSON.stringify([{ op: 'replace', path: '/a', value: 2 }])).toString('base64'),
      warnings: ['heads up'],
    });
    const del = await post(app, body());
    expect(del.status).toBe(200);
    expect(del.body.response).toEqual({
      uid: DELETE_UID,
      allowed: false,
      status: { status: 'Failure', code: 403, reason: 'Forbidden', message: 'Refusing to delete Deployment shop/web-3c3fdc: busy' },
    });
  });

  it('accepts application/json with a charset', async () => {
    const res = await post(appWith(() => allowed()), body(), 'application/json; charset=utf-8');
    expect(res.status).toBe(200);
    expect(res.body.response.uid).toBe(DELETE_UID);
  });
});

describe('admissionRoute: a plain node:http listener', () => {
  it('answers without express around it, with a JSON body and its length', async () => {
    const res = await request(admissionRoute(() => allowed())).post('/any/path?timeout=10s').set('Content-Type', 'application/json').send(body());
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
    expect(res.body).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: DELETE_UID, allowed: true } });
  });
});

describe('admissionRoute: cancellation', () => {
  it('aborts the handler\'s signal when the API server drops the request, and not after an answer', async () => {
    let aborted: (why: unknown) => void = () => undefined;
    const abortedWith = new Promise<unknown>((resolve) => (aborted = resolve));
    const signals: AbortSignal[] = [];
    const server = http.createServer(
      admissionRoute(async (_req, signal) => {
        signals.push(signal!);
        if (signals.length === 1) {
          signal!.addEventListener('abort', () => aborted(signal!.reason));
          await abortedWith;
        }
        return allowed();
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      // The API server gives up: the connection closes while the handler works.
      const dropped = http.request({ host: '127.0.0.1', port, method: 'POST', path: PATH, headers: { 'Content-Type': 'application/json' } });
      dropped.on('error', () => undefined);
      dropped.end(body());
      await new Promise<void>((resolve) => {
        const wait = setInterval(() => signals.length > 0 && (clearInterval(wait), resolve()), 5);
      });
      dropped.destroy();
      expect(String(await abortedWith)).toContain('closed the connection before the answer');

      const res = await request(server).post(PATH).set('Content-Type', 'application/json').send(body());
      expect(res.body.response.allowed).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
      expect(signals[1]!.aborted).toBe(false);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('admissionRoute: malformed input gets a 4xx with a message, never a crash', () => {
  const never: AdmissionHandler = () => {
    throw new Error('the handler must not be called');
  };

  it('refuses GET on the POST route with 405 and Allow: POST', async () => {
    const res = await request(appWith(never)).get(PATH);
    expect(res.status).toBe(405);
    expect(res.headers['allow']).toBe('POST');
    expect(res.body).toEqual(
      status(405, 'MethodNotAllowed', 'GET is not allowed here; the API server POSTs an AdmissionReview (admission.k8s.io/v1)'),
    );
  });

  it('refuses another content type with 415', async () => {
    const res = await post(appWith(never), body(), 'text/plain');
    expect(res.status).toBe(415);
    expect(res.body).toEqual(
      status(415, 'UnsupportedMediaType', 'Content-Type is "text/plain"; an AdmissionReview must be sent as application/json'),
    );
    const form = await post(appWith(never), 'a=b', 'application/x-www-form-urlencoded');
    expect(form.status).toBe(415);
  });

  it('refuses a compressed body with 415', async () => {
    const res = await request(appWith(never)).post(PATH).set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send('not really gzip');
    expect(res.status).toBe(415);
    expect(res.body).toEqual(status(415, 'UnsupportedMediaType', 'Content-Encoding "gzip" is not supported; send the AdmissionReview uncompressed'));
  });

  it('refuses bad JSON with 400', async () => {
    const res = await post(appWith(never), '{"apiVersion": "admission.k8s.io/v1", ');
    expect(res.status).toBe(400);
    expect(res.body.reason).toBe('BadRequest');
    expect(res.body.message).toMatch(/^request body is not valid JSON: /);
  });

  it('refuses an empty body with 400', async () => {
    const res = await post(appWith(never), '');
    expect(res.status).toBe(400);
    expect(res.body).toEqual(status(400, 'BadRequest', 'request body is empty; expected an AdmissionReview (admission.k8s.io/v1)'));
  });

  it('refuses a wrong apiVersion with 400, naming the UID', async () => {
    const review = { ...loadReview('deployment-delete.json'), apiVersion: 'admission.k8s.io/v1beta1' };
    const res = await post(appWith(never), JSON.stringify(review));
    expect(res.status).toBe(400);
    expect(res.body).toEqual(
      status(
        400,
        'BadRequest',
        'AdmissionReview apiVersion is "admission.k8s.io/v1beta1"; this webhook speaks only admission.k8s.io/v1 (set admissionReviewVersions: ["v1"] in the webhook configuration)',
        DELETE_UID,
      ),
    );
  });

  it('refuses a wrong kind with 400', async () => {
    const res = await post(appWith(never), JSON.stringify({ ...loadReview('deployment-delete.json'), kind: 'Status' }));
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('kind is "Status"; expected AdmissionReview');
  });

  it('refuses a review without a request with 400', async () => {
    const res = await post(appWith(never), JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }));
    expect(res.status).toBe(400);
    expect(res.body).toEqual(status(400, 'BadRequest', 'AdmissionReview has no request object (request is missing)'));
  });

  it('refuses a request without a UID with 400', async () => {
    const review = loadReview('deployment-delete.json') as unknown as { request: Record<string, unknown> };
    delete review.request.uid;
    const res = await post(appWith(never), JSON.stringify(review));
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('AdmissionReview request.uid is missing; expected a non-empty token of at most 128 printable characters');
  });

  it('refuses a body over 3 MiB with 413, saying the limit', async () => {
    const review = loadReview('deployment-delete.json') as unknown as { request: { oldObject: { metadata: { annotations: Record<string, string> } } } };
    review.request.oldObject.metadata.annotations['padding'] = 'x'.repeat(4 * 1024 * 1024);
    const payload = JSON.stringify(review);
    const res = await post(appWith(never), payload);
    expect(res.status).toBe(413);
    expect(res.body).toEqual(
      status(413, 'RequestEntityTooLarge', `AdmissionReview body is ${Buffer.byteLength(payload)} bytes; the limit is 3 MiB (3145728 bytes)`),
    );
  });

  it('takes a smaller limit from the options', async () => {
    const res = await post(appWith(never, { limitBytes: 1024 }), body());
    expect(res.status).toBe(413);
    expect(res.body.message).toMatch(/; the limit is 1 KiB \(1024 bytes\)$/);
  });

  it('reports each rejection to onRejected', async () => {
    const rejected: RejectionObservation[] = [];
    const app = appWith(never, { onRejected: (o) => rejected.push(o) });
    await post(app, 'nope', 'text/plain');
    await post(app, JSON.stringify({ ...loadReview('deployment-delete.json'), kind: 'Nope' }));
    expect(rejected).toEqual([
      { httpStatus: 415, message: 'Content-Type is "text/plain"; an AdmissionReview must be sent as application/json' },
      { httpStatus: 400, message: 'kind is "Nope"; expected AdmissionReview', uid: DELETE_UID },
    ]);
  });
});

describe('admissionRoute: handler failures', () => {
  it('turns a thrown error into allowed=false with code 500, keeps the UID, and keeps answering', async () => {
    let calls = 0;
    const app = appWith(() => {
      calls += 1;
      if (calls === 1) throw new Error('cluster unreachable');
      return allowed();
    });
    const res = await post(app, body());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: {
        uid: DELETE_UID,
        allowed: false,
        status: {
          status: 'Failure',
          code: 500,
          reason: 'InternalError',
          message: 'rainbow webhook failed on Deployment shop/web-3c3fdc: cluster unreachable',
        },
      },
    });
    const again = await post(app, body('deployment-scale-zero.json'));
    expect(again.status).toBe(200);
    expect(again.body.response).toEqual({ uid: 'a3f7c1e9-6b2d-4e8a-9c5f-7d1b3e5a9c47', allowed: true });
  });

  it('does the same for a rejected promise and for a handler that returns no decision', async () => {
    const rejects = await post(appWith(async () => Promise.reject(new Error('timeout listing pods'))), body('deployment-scale-zero.json'));
    expect(rejects.body.response.status.message).toBe('rainbow webhook failed on deployments/scale shop/web-3c3fdc: timeout listing pods');
    expect(rejects.body.response.uid).toBe('a3f7c1e9-6b2d-4e8a-9c5f-7d1b3e5a9c47');

    const nothing = await post(appWith((() => undefined) as unknown as AdmissionHandler), body());
    expect(nothing.body.response).toEqual({
      uid: DELETE_UID,
      allowed: false,
      status: {
        status: 'Failure',
        code: 500,
        reason: 'InternalError',
        message: 'rainbow webhook failed on Deployment shop/web-3c3fdc: handler returned undefined instead of a decision',
      },
    });
  });
});

describe('admissionRoute: observation hook', () => {
  it('reports each answered review', async () => {
    const seen: ReviewObservation[] = [];
    const app = appWith(() => denied('busy', 403, 'connections'), { onReview: (o) => seen.push(o) });
    await post(app, body('deployment-delete-dry-run.json'));
    expect(seen).toHaveLength(1);
    const { durationSeconds, ...rest } = seen[0]!;
    expect(rest).toEqual({
      kind: 'Deployment',
      operation: 'DELETE',
      namespace: 'shop',
      name: 'web-3c3fdc',
      uid: 'e7a9c3b1-2f4d-4b6e-9a8c-3f1e5d7b9a02',
      dryRun: true,
      allowed: false,
      reason: 'connections',
      code: 403,
    });
    expect(durationSeconds).toBeGreaterThanOrEqual(0);
    expect(durationSeconds).toBeLessThan(5);
  });

  it('includes the subresource and the error of a failed handler', async () => {
    const seen: ReviewObservation[] = [];
    const boom = new Error('boom');
    const app = appWith(() => { throw boom; }, { onReview: (o) => seen.push(o) });
    await post(app, body('deployment-scale-zero.json'));
    expect(seen[0]).toEqual(expect.objectContaining({ kind: 'Scale', subResource: 'scale', allowed: false, reason: 'error', code: 500, error: boom }));
  });

  it('does not let a throwing observer break the answer', async () => {
    const app = appWith(() => allowed(), {
      onReview: () => {
        throw new Error('metrics broke');
      },
    });
    const res = await post(app, body());
    expect(res.status).toBe(200);
    expect(res.body.response).toEqual({ uid: DELETE_UID, allowed: true });
  });
});
