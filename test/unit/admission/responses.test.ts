import fastJsonPatch from 'fast-json-patch';
import {
  allowed,
  denied,
  errored,
  patchOperations,
  patched,
  toAdmissionResponse,
  withWarnings,
} from '../../../webhook/src/admission/responses.js';

describe('response helpers', () => {
  it('allowed', () => {
    expect(allowed()).toEqual({ allowed: true });
    expect(allowed('fine', 'drained')).toEqual({ allowed: true, status: { code: 200, message: 'fine' }, reason: 'drained' });
  });

  it('denied defaults to 403 Forbidden and keeps the metrics reason apart', () => {
    expect(denied('no')).toEqual({ allowed: false, status: { status: 'Failure', code: 403, reason: 'Forbidden', message: 'no' } });
    expect(denied('bad', 400, 'bad-input')).toEqual({
      allowed: false,
      status: { status: 'Failure', code: 400, reason: 'BadRequest', message: 'bad' },
      reason: 'bad-input',
    });
    expect(denied('odd', 418).status).toEqual({ status: 'Failure', code: 418, message: 'odd' });
  });

  it('errored', () => {
    expect(errored(500, new Error('boom'))).toEqual({
      allowed: false,
      status: { status: 'Failure', code: 500, reason: 'InternalError', message: 'boom' },
      reason: 'error',
    });
    expect(errored(503, 'down').status?.message).toBe('down');
  });

  it('patched with no difference is a plain allow', () => {
    const obj = { metadata: { name: 'web' } };
    expect(patched(obj, structuredClone(obj))).toEqual({ allowed: true });
    expect(patched(obj, structuredClone(obj), undefined, 'available')).toEqual({ allowed: true, reason: 'available' });
  });

  it('patched encodes a JSON Patch in base64, escaping / in keys, that turns before into after', () => {
    const before = { metadata: { annotations: { 'rainbow.dev/pending-color': 'b2c3d4', keep: 'x' } }, spec: { selector: { a: '1' } } };
    const after = { metadata: { annotations: { keep: 'x' } }, spec: { selector: { a: '1', 'rainbow.dev/color': '3c3fdc' } } };
    const d = patched(before, after);
    expect(d.allowed).toBe(true);
    expect(d.patchType).toBe('JSONPatch');
    expect(d.patch).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const ops = patchOperations(d).sort((a, b) => a.path.localeCompare(b.path));
    expect(ops).toEqual([
      { op: 'remove', path: '/metadata/annotations/rainbow.dev~1pending-color' },
      { op: 'add', path: '/spec/selector/rainbow.dev~1color', value: '3c3fdc' },
    ]);
    expect(fastJsonPatch.applyPatch(structuredClone(before), patchOperations(d), true).newDocument).toEqual(after);
  });

  it('withWarnings appends, skips blanks and duplicates, and does not mutate', () => {
    const d = allowed();
    const w = withWarnings(d, 'one', undefined, '', 'two', 'one');
    expect(w).toEqual({ allowed: true, warnings: ['one', 'two'] });
    expect(d).toEqual({ allowed: true });
    expect(withWarnings(w, 'three').warnings).toEqual(['one', 'two', 'three']);
    expect(withWarnings(d)).toBe(d);
  });

  it('toAdmissionResponse carries the uid and drops the metrics reason', () => {
    const d = withWarnings(patched({ a: 1 }, { a: 2 }, undefined, 'pending'), 'careful');
    expect(toAdmissionResponse('u-1', d)).toEqual({
      uid: 'u-1',
      allowed: true,
      patch: d.patch,
      patchType: 'JSONPatch',
      warnings: ['careful'],
    });
    expect(toAdmissionResponse('u-2', denied('no', 403, 'serving'))).toEqual({
      uid: 'u-2',
      allowed: false,
      status: { status: 'Failure', code: 403, reason: 'Forbidden', message: 'no' },
    });
  });
});
