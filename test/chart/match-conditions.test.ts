// The Service webhook's matchConditions, as `helm template` renders them, evaluated by a CEL
// interpreter against the cutover itself: whenever the API server would skip the webhook, the
// cutover had nothing to change. The e2e test (test/e2e/webhook.test.ts) shows the real API server
// evaluating the same expression.
import { evaluate } from '@marcbachmann/cel-js';
import fc from 'fast-check';
import type { V1MutatingWebhookConfiguration, V1Service } from '@kubernetes/client-node';

import type { AdmissionRequest, RawObject } from '../../webhook/src/admission/review.js';
import { patchOperations } from '../../webhook/src/admission/responses.js';
import { decideCutover } from '../../webhook/src/webhook/cutover.js';
import { readServiceSettings } from '../../webhook/src/domain/availability.js';
import { deployment, NS } from '../support/builders.js';
import { render } from './render.js';

let expression: string;
beforeAll(async () => {
  const r = await render('rainbow-system');
  const conditions = r.get<V1MutatingWebhookConfiguration>('MutatingWebhookConfiguration', 'rainbow').webhooks![0]!.matchConditions!;
  expect(conditions.map((c) => c.name)).toEqual(['cutover-can-act']);
  expression = conditions[0]!.expression;
});

const calls = (operation: 'CREATE' | 'UPDATE', object: V1Service, oldObject?: V1Service): boolean =>
  evaluate(expression, { request: { operation }, object, oldObject: oldObject ?? null }) as boolean;

function request(operation: 'CREATE' | 'UPDATE', object: V1Service, oldObject?: V1Service): AdmissionRequest {
  return {
    uid: 'u',
    kind: { group: '', version: 'v1', kind: 'Service' },
    resource: { group: '', version: 'v1', resource: 'services' },
    name: object.metadata?.name,
    namespace: NS,
    operation,
    userInfo: { username: 'test' },
    object: object as unknown as RawObject,
    oldObject: (oldObject ?? null) as unknown as RawObject | null,
  };
}

interface Shape {
  app?: string;
  selector?: { app?: string; color?: string };
  annotations: Record<string, string>;
}

const svc = (s: Shape): V1Service => {
  const selector: Record<string, string> = {};
  if (s.selector?.app) selector['rainbow.dev/app'] = s.selector.app;
  if (s.selector?.color) selector['rainbow.dev/color'] = s.selector.color;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'web',
      namespace: NS,
      ...(s.app ? { labels: { 'rainbow.dev/app': s.app } } : {}),
      ...(Object.keys(s.annotations).length ? { annotations: s.annotations } : {}),
    },
    spec: { ...(s.selector ? { selector } : {}), ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  };
};

const colors = fc.constantFrom('aaaaaa', 'bbbbbb', 'cccccc');
const shape: fc.Arbitrary<Shape> = fc.record({
  app: fc.option(fc.constantFrom('web', 'shop'), { nil: undefined }),
  selector: fc.option(fc.record({ app: fc.option(fc.constant('web'), { nil: undefined }), color: fc.option(colors, { nil: undefined }) }), { nil: undefined }),
  annotations: fc.record(
    {
      'rainbow.dev/cutover': fc.constantFrom('ready', 'immediate', 'sometimes'),
      'rainbow.dev/keep-colors': fc.constantFrom('0', '1', 'many'),
      'rainbow.dev/drain-grace': fc.constantFrom('5s', '60s', 'soon'),
      'rainbow.dev/shrink': fc.constantFrom('true', 'false', 'yes please'),
      'rainbow.dev/pending-color': colors,
      'example.com/owner': fc.constantFrom('team-a', 'team-b'),
      'kubectl.kubernetes.io/last-applied-configuration': fc.constantFrom('{}', '{"a":1}'),
    },
    { requiredKeys: [] },
  ),
});

/** An update: most keep what matters and change something else, so both answers of the condition are common. */
const update = shape.chain((old) =>
  fc.oneof(
    fc.constant(old),
    fc.record({ owner: fc.constantFrom('team-a', 'team-c'), applied: fc.constantFrom('{}', '{"b":2}') }).map(({ owner, applied }) => ({
      ...old,
      annotations: { ...old.annotations, 'example.com/owner': owner, 'kubectl.kubernetes.io/last-applied-configuration': applied },
    })),
    shape,
  ).map((now) => ({ old, now })),
);

const snapshot = fc
  .record({ aaaaaa: fc.boolean(), bbbbbb: fc.boolean(), cccccc: fc.boolean() })
  .map((available) => ({
    deployments: Object.entries(available).map(([color, a], i) => deployment({ color, available: a, created: `2025-11-2${i}T09:00:00Z` })),
    services: [],
  }));

describe('the Service webhook is called only when the cutover can act', () => {
  it('skips an update only when the cutover would change nothing and has no new setting to warn about', () => {
    fc.assert(
      fc.property(update, snapshot, ({ old, now }, snap) => {
        const [before, after] = [svc(old), svc(now)];
        if (calls('UPDATE', after, before)) return;
        const decision = decideCutover(request('UPDATE', after, before), snap);
        expect(patchOperations(decision)).toEqual([]);
        expect(readServiceSettings(after).warnings).toEqual(readServiceSettings(before).warnings);
      }),
      { numRuns: 3000 },
    );
  });

  it('calls it for every CREATE', () => {
    fc.assert(fc.property(shape, (s) => expect(calls('CREATE', svc(s))).toBe(true)));
  });

  const base: Shape = { app: 'web', selector: { app: 'web', color: 'aaaaaa' }, annotations: { 'rainbow.dev/drain-grace': '60s' } };
  it.each<[string, boolean, Shape]>([
    ['an annotation of someone else changes', false, { ...base, annotations: { ...base.annotations, 'example.com/owner': 'b' } }],
    ['Helm re-applies the Service unchanged', false, base],
    ['the color changes', true, { ...base, selector: { app: 'web', color: 'bbbbbb' } }],
    ['the color is left out', true, { ...base, selector: { app: 'web' } }],
    ['a pending color is there', true, { ...base, annotations: { ...base.annotations, 'rainbow.dev/pending-color': 'bbbbbb' } }],
    ['a setting changes', true, { ...base, annotations: { 'rainbow.dev/drain-grace': '5m' } }],
    ['a setting is added', true, { ...base, annotations: { ...base.annotations, 'rainbow.dev/cutover': 'immediate' } }],
    ['a setting is removed', true, { ...base, annotations: {} }],
    ['the app label changes', true, { ...base, app: 'shop' }],
  ])('when %s, it is called: %s', (_, expected, now) => {
    expect(calls('UPDATE', svc(now), svc(base))).toBe(expected);
  });
});
