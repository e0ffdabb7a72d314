// What the real API server sends for each way a color's pods can go, as `scripts/local-cluster
// record-reviews` recorded it (test/fixtures/admission/recorded/): every review passes the
// envelope checks, and the facts a guard of pods, evictions and scales has to build on hold —
// above all, which of them carry the labels an objectSelector needs.
import { readdirSync, readFileSync } from 'node:fs';
import { describeRequest, parseReview, type AdmissionRequest } from '../../../webhook/src/admission/review.js';

const dir = new URL('../../fixtures/admission/recorded/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

function request(file: string): AdmissionRequest {
  const r = parseReview(JSON.parse(readFileSync(new URL(file, dir), 'utf8')));
  if (!r.ok) throw new Error(`${file}: ${r.error.message}`);
  return r.request;
}
const labelsOf = (o: unknown) => (o as { metadata?: { labels?: Record<string, string> } } | null | undefined)?.metadata?.labels;

test.each(files)('the recorded review %s passes the envelope checks', (file) => {
  const r = request(file);
  expect(r.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  expect(describeRequest(r)).toContain(`${r.namespace}/${r.name}`);
});

test('a scale of a Deployment or ReplicaSet is a labelless Scale whose status.selector names the color', () => {
  for (const [file, resource] of [['deployment-scale-subresource.json', 'deployments'], ['replicaset-scale-subresource.json', 'replicasets']] as const) {
    const r = request(file);
    expect([r.kind.kind, r.resource.resource, r.subResource, r.operation]).toEqual(['Scale', resource, 'scale', 'UPDATE']);
    expect(labelsOf(r.object)).toBeUndefined();
    expect((r.object as { status: { selector: string } }).status.selector).toMatch(/(^|,)rainbow\.dev\/app=web(,|$)/);
    expect((r.object as { status: { selector: string } }).status.selector).toMatch(/rainbow\.dev\/color=3c3fdc/);
  }
});

test('an eviction is a labelless policy/v1 Eviction named after the pod, with no old object', () => {
  const r = request('pod-eviction.json');
  expect([r.kind, r.resource.resource, r.subResource, r.operation]).toEqual([{ group: 'policy', version: 'v1', kind: 'Eviction' }, 'pods', 'eviction', 'CREATE']);
  expect(labelsOf(r.object)).toBeUndefined();
  expect(r.oldObject ?? null).toBeNull();
  expect((r.object as { metadata: { name: string } }).metadata.name).toBe(r.name);
});

test('a pod DELETE carries the pod, with its color labels, as the old object', () => {
  const r = request('pod-delete.json');
  expect([r.kind.kind, r.resource.resource, r.subResource, r.operation]).toEqual(['Pod', 'pods', undefined, 'DELETE']);
  expect(labelsOf(r.oldObject)).toMatchObject({ 'rainbow.dev/app': 'web', 'rainbow.dev/color': '3c3fdc' });
  expect(r.options).toMatchObject({ kind: 'DeleteOptions' });
});

test('Deployment UPDATEs: a replica change keeps the template, a template change keeps the replicas', () => {
  type Dep = { spec: { replicas: number; template: unknown } };
  const replicas = request('deployment-update-replicas.json');
  const [newR, oldR] = [replicas.object as Dep, replicas.oldObject as Dep];
  expect([oldR.spec.replicas, newR.spec.replicas]).toEqual([3, 2]);
  expect(newR.spec.template).toEqual(oldR.spec.template);
  const template = request('deployment-update-template.json');
  const [newT, oldT] = [template.object as Dep, template.oldObject as Dep];
  expect(newT.spec.replicas).toBe(oldT.spec.replicas);
  expect(newT.spec.template).not.toEqual(oldT.spec.template);
});
