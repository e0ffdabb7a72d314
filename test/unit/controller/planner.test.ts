import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import {
  FORECAST_REWRITE_MIN_MS,
  forecastMessage,
  forecastWorthWriting,
  planApp,
  planForecasts,
  type Action,
} from '../../../webhook/src/controller/planner.js';
import { forecastDrain, type ConnectionSample } from '../../../webhook/src/domain/drain-forecast.js';
import { formatForecastAnnotation, publishForecast, type PublishedForecast } from '../../../webhook/src/domain/forecast-annotation.js';
import { appSettings, colorStates, formatDrainStarted, nextObservation, parseDrainStarted, type DrainObservation, type PodObservation } from '../../../webhook/src/domain/color-states.js';
import { NS, deployment, service } from '../../support/builders.js';

const T0 = Date.parse('2025-11-26T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000);
const iso = (s: number) => formatDrainStarted(at(s));
const H = 3600;

// Colors, oldest first: aaaaaa (day 1) … eeeeee (day 5).
const created = (day: number) => `2025-11-2${day}T09:00:00Z`;
const dep = (color: string, day: number, o: Parameters<typeof deployment>[0] | object = {}) => deployment({ color, created: created(day), ...o });
const stamped = (color: string, day: number, drainStarted: string, o: object = {}) => dep(color, day, { annotations: { 'rainbow.dev/drain-started': drainStarted }, ...o });

function plan(services: V1Service[], deployments: V1Deployment[], drain: Record<string, DrainObservation> = {}, now = at(0)): Action[] {
  return planApp({ app: 'web', namespace: NS, services, deployments, drain: new Map(Object.entries(drain)), now });
}
const states = (services: V1Service[], deployments: V1Deployment[], drain: Record<string, DrainObservation> = {}, now = at(0)) =>
  Object.fromEntries(colorStates({ app: 'web', namespace: NS, services, deployments, drain: new Map(Object.entries(drain)), now }).colors.map((c) => [c.color, c.state]));
/** The actions that act; the controller's own bookkeeping on the Deployments (record-color, and what a stamp carries of it) is tested on its own below. */
const acting = (actions: Action[]) =>
  actions.filter((a) => a.type !== 'ask-pods' && a.type !== 'warn' && a.type !== 'record-color').map((a) => {
    if (a.type !== 'stamp-drain-started' || !a.annotations) return a;
    const { annotations: _record, ...rest } = a;
    return rest;
  });
const ofType = <T extends Action['type']>(actions: Action[], type: T) => actions.filter((a): a is Extract<Action, { type: T }> => a.type === type);
const deletes = (actions: Action[]) => ofType(actions, 'delete').map((a) => `${a.color}:${a.reason}${a.force ? ':force' : ''}`);
const zero = (since: number, observed = since): DrainObservation => ({ lastCount: 0, zeroSince: at(since), observedAt: at(observed) });
const busy = (n: number): DrainObservation => ({ lastCount: n, observedAt: at(0) });
const keep = (n: number | string) => ({ 'rainbow.dev/keep-colors': String(n) });

describe('promotion', () => {
  it('switches the Service to the pending color once its Deployment is Available, from the Service it serves', () => {
    const svc = service({ color: 'aaaaaa', pending: 'bbbbbb' });
    svc.metadata!.resourceVersion = '41';
    const actions = plan([svc], [dep('aaaaaa', 1), dep('bbbbbb', 2)]);
    expect(ofType(actions, 'promote')).toEqual([
      { type: 'promote', service: 'web', from: 'aaaaaa', to: 'bbbbbb', resourceVersion: '41', deployment: { name: 'web-bbbbbb', namespace: NS, uid: 'uid-web-bbbbbb' } },
    ]);
  });

  it('waits while the pending color is not Available (or has no Deployment, or is being deleted)', () => {
    const svc = service({ color: 'aaaaaa', pending: 'bbbbbb' });
    expect(ofType(plan([svc], [dep('aaaaaa', 1), dep('bbbbbb', 2, { available: false })]), 'promote')).toEqual([]);
    expect(ofType(plan([svc], [dep('aaaaaa', 1)]), 'promote')).toEqual([]);
    expect(ofType(plan([svc], [dep('aaaaaa', 1), dep('bbbbbb', 2, { deleting: true })]), 'promote')).toEqual([]);
    expect(ofType(plan([svc], [dep('aaaaaa', 1), dep('bbbbbb', 2, { generation: 3, observedGeneration: 2 })]), 'promote')).toEqual([]);
    expect(states([svc], [dep('aaaaaa', 1), dep('bbbbbb', 2, { available: false })])).toEqual({ aaaaaa: 'serving', bbbbbb: 'pending' });
  });

  it('a pending color without a Deployment is listed as pending', () => {
    expect(states([service({ color: 'aaaaaa', pending: 'bbbbbb' })], [dep('aaaaaa', 1)])).toEqual({ aaaaaa: 'serving', bbbbbb: 'pending' });
  });

  it('a Service with no color yet gets one (no from)', () => {
    const [p] = ofType(plan([service({ pending: 'bbbbbb' })], [dep('bbbbbb', 2)]), 'promote');
    expect(p).toMatchObject({ to: 'bbbbbb' });
    expect(p!.from).toBeUndefined();
  });

  it('a pending annotation naming the color already served is only cleared', () => {
    const actions = plan([service({ color: 'aaaaaa', pending: 'aaaaaa' })], [dep('aaaaaa', 1)]);
    expect(acting(actions)).toEqual([{ type: 'clear-pending', service: 'web', color: 'aaaaaa' }]);
  });

  it('promotes each Service on its own: one serves the new color, the other is pending it', () => {
    const a = service({ name: 'web', color: 'aaaaaa', pending: 'bbbbbb' });
    const b = service({ name: 'web-canary', color: 'bbbbbb' });
    const deps = [stamped('aaaaaa', 1, iso(-10)), dep('bbbbbb', 2, { available: false })];
    // Not Available: nothing moves, and bbbbbb is serving (web-canary) — never touched.
    // aaaaaa serves web and carries a stale drain-started: it is cleared, nothing else.
    expect(acting(plan([a, b], deps)).map((x) => `${x.type}:${'color' in x ? x.color : ''}`)).toEqual(['clear-drain-started:aaaaaa']);
    expect(states([a, b], deps)).toEqual({ aaaaaa: 'serving', bbbbbb: 'serving' });
    const ready = [dep('aaaaaa', 1), dep('bbbbbb', 2)];
    expect(ofType(plan([a, b], ready), 'promote').map((p) => `${p.service}:${p.from}->${p.to}`)).toEqual(['web:aaaaaa->bbbbbb']);
    expect(ofType(plan([a, b], ready), 'delete')).toEqual([]);
  });

  it('promotions come before anything else', () => {
    const actions = acting(
      plan([service({ color: 'bbbbbb', pending: 'cccccc', annotations: keep(0) })], [stamped('aaaaaa', 1, iso(-3 * 24 * H)), dep('bbbbbb', 2), dep('cccccc', 3)], {}, at(0)),
    );
    expect(actions.map((a) => a.type)).toEqual(['promote', 'delete']);
  });
});

describe('stamping drain-started', () => {
  it('stamps a color that serves nothing and is pending for nothing, and does nothing else to it yet', () => {
    const actions = plan([service({ color: 'bbbbbb', annotations: keep(0) })], [dep('aaaaaa', 1), dep('bbbbbb', 2)], { aaaaaa: zero(-1000) }, at(0));
    expect(acting(actions)).toEqual([
      { type: 'stamp-drain-started', color: 'aaaaaa', deployment: { name: 'web-aaaaaa', namespace: NS, uid: 'uid-web-aaaaaa' }, at: at(0) },
    ]);
  });

  it('stamps kept colors too (their max-drain clock starts when they stop serving)', () => {
    expect(ofType(plan([service({ color: 'bbbbbb' })], [dep('aaaaaa', 1), dep('bbbbbb', 2)]), 'stamp-drain-started').map((a) => a.color)).toEqual(['aaaaaa']);
  });

  it('never stamps serving or pending colors, and removes a stale stamp from them (rollback)', () => {
    const actions = plan(
      [service({ color: 'aaaaaa', pending: 'bbbbbb' })],
      [stamped('aaaaaa', 1, iso(-50 * H)), stamped('bbbbbb', 2, iso(-50 * H), { available: false })],
    );
    expect(ofType(actions, 'stamp-drain-started')).toEqual([]);
    expect(ofType(actions, 'clear-drain-started').map((a) => `${a.color}=${a.value}`)).toEqual([`aaaaaa=${iso(-50 * H)}`, `bbbbbb=${iso(-50 * H)}`]);
    expect(ofType(actions, 'delete')).toEqual([]);
  });

  it('restamps a malformed drain-started, with a warning, and does not delete on that round', () => {
    const actions = plan([service({ color: 'bbbbbb', annotations: keep(0) })], [stamped('aaaaaa', 1, 'yesterday'), dep('bbbbbb', 2)], { aaaaaa: zero(-10 * H) }, at(0));
    expect(ofType(actions, 'stamp-drain-started')).toEqual([expect.objectContaining({ color: 'aaaaaa', at: at(0), replaces: 'yesterday' })]);
    expect(ofType(actions, 'warn').map((w) => w.message)).toEqual([expect.stringContaining('"yesterday" is not an RFC 3339 time')]);
    expect(ofType(actions, 'delete')).toEqual([]);
  });

  it('a Deployment being deleted is left alone', () => {
    const actions = plan([service({ color: 'bbbbbb', annotations: keep(0) })], [dep('aaaaaa', 1, { deleting: true }), dep('bbbbbb', 2)]);
    expect(acting(actions)).toEqual([]);
    expect(states([service({ color: 'bbbbbb' })], [dep('aaaaaa', 1, { deleting: true }), dep('bbbbbb', 2)])).toEqual({ bbbbbb: 'serving', aaaaaa: 'deleting' });
  });
});

describe('keep-colors', () => {
  // eeeeee serves; dddddd … aaaaaa are previous, newest first; all drained long ago.
  const deps = () => [
    stamped('aaaaaa', 1, iso(-5 * H)),
    stamped('bbbbbb', 2, iso(-4 * H)),
    stamped('cccccc', 3, iso(-3 * H)),
    stamped('dddddd', 4, iso(-2 * H)),
    dep('eeeeee', 5),
  ];
  const drained = { aaaaaa: zero(-H), bbbbbb: zero(-H), cccccc: zero(-H), dddddd: zero(-H) };
  const withKeep = (n: number | string | undefined) => plan([service({ color: 'eeeeee', annotations: n === undefined ? {} : keep(n) })], deps(), drained);

  it('keeps the newest one by default and deletes the other drained colors', () => {
    expect(deletes(withKeep(undefined))).toEqual(['cccccc:drained', 'bbbbbb:drained', 'aaaaaa:drained']);
    expect(states([service({ color: 'eeeeee' })], deps(), drained)).toEqual({ eeeeee: 'serving', dddddd: 'kept', cccccc: 'drained', bbbbbb: 'drained', aaaaaa: 'drained' });
  });

  it('keep-colors 0 deletes every drained previous color', () => {
    expect(deletes(withKeep(0))).toEqual(['dddddd:drained', 'cccccc:drained', 'bbbbbb:drained', 'aaaaaa:drained']);
  });

  it('keep-colors 2 keeps the two newest', () => {
    expect(deletes(withKeep(2))).toEqual(['bbbbbb:drained', 'aaaaaa:drained']);
  });

  it('keep-colors larger than the number of colors keeps them all, even past max-drain', () => {
    const actions = plan([service({ color: 'eeeeee', annotations: { ...keep(10), 'rainbow.dev/max-drain': '1h' } })], deps(), drained);
    expect(deletes(actions)).toEqual([]);
    expect(Object.values(states([service({ color: 'eeeeee', annotations: keep(10) })], deps(), drained)).filter((s) => s === 'kept')).toHaveLength(4);
  });

  it('kept colors are never deleted, not even past max-drain with connections', () => {
    const actions = plan([service({ color: 'eeeeee', annotations: { 'rainbow.dev/max-drain': '1h' } })], deps(), { ...drained, dddddd: busy(7) });
    expect(deletes(actions)).not.toContain('dddddd:max-drain');
    expect(deletes(actions)).toEqual(['cccccc:drained', 'bbbbbb:drained', 'aaaaaa:drained']);
  });

  it('order is by when a color stopped serving (the rollback target is what served last), not by name or creation', () => {
    // zzzzzz is the older Deployment but served until an hour ago (a rollback brought it back).
    const d = [stamped('zzzzzz', 1, iso(-H)), stamped('aaaaaa', 3, iso(-5 * H)), dep('eeeeee', 5)];
    expect(states([service({ color: 'eeeeee' })], d, { zzzzzz: zero(-H), aaaaaa: zero(-H) })).toEqual({ eeeeee: 'serving', zzzzzz: 'kept', aaaaaa: 'drained' });
  });

  it('with equal drain-started, the newer Deployment is kept', () => {
    const d = [stamped('zzzzzz', 1, iso(-H)), stamped('aaaaaa', 3, iso(-H)), dep('eeeeee', 5)];
    expect(states([service({ color: 'eeeeee' })], d, { zzzzzz: zero(-H), aaaaaa: zero(-H) })).toEqual({ eeeeee: 'serving', aaaaaa: 'kept', zzzzzz: 'drained' });
  });

  it('a pending color is not a previous color and does not take a keep slot', () => {
    const d = [stamped('aaaaaa', 1, iso(-H)), dep('bbbbbb', 2), dep('cccccc', 3, { available: false })];
    expect(states([service({ color: 'bbbbbb', pending: 'cccccc' })], d, { aaaaaa: zero(-H) })).toEqual({ bbbbbb: 'serving', cccccc: 'pending', aaaaaa: 'kept' });
  });

  it('an unusable keep-colors falls back to the default with a warning', () => {
    const actions = withKeep('lots');
    expect(deletes(actions)).toEqual(['cccccc:drained', 'bbbbbb:drained', 'aaaaaa:drained']);
    expect(ofType(actions, 'warn').map((w) => w.message)).toEqual([expect.stringContaining('rainbow.dev/keep-colors="lots"')]);
  });
});

describe('drain-grace', () => {
  const svc = () => service({ color: 'bbbbbb', annotations: { ...keep(0), 'rainbow.dev/drain-grace': '60s' } });
  const deps = () => [stamped('aaaaaa', 1, iso(-H)), dep('bbbbbb', 2)];

  it('deletes exactly when the color has read 0 for drain-grace (zeroSince + grace <= now)', () => {
    expect(deletes(plan([svc()], deps(), { aaaaaa: zero(-60) }, at(0)))).toEqual(['aaaaaa:drained']);
    expect(deletes(plan([svc()], deps(), { aaaaaa: zero(-59.999) }, at(0)))).toEqual([]);
    expect(deletes(plan([svc()], deps(), { aaaaaa: zero(-59) }, at(0)))).toEqual([]);
  });

  it('the drained delete is not forced and says why', () => {
    const [d] = ofType(plan([svc()], deps(), { aaaaaa: zero(-60) }, at(0)), 'delete');
    expect(d).toMatchObject({ reason: 'drained', force: false, connections: 0, deployment: { name: 'web-aaaaaa' } });
    expect(d!.message).toBe(`color aaaaaa has read 0 established connections since ${iso(-60)} (drain-grace 1m); deleting Deployment web-aaaaaa`);
  });

  it('counts from drain-started when the color already read 0 while serving', () => {
    const d = [stamped('aaaaaa', 1, iso(-30)), dep('bbbbbb', 2)];
    expect(deletes(plan([svc()], d, { aaaaaa: zero(-3600) }, at(0)))).toEqual([]);
    expect(deletes(plan([svc()], d, { aaaaaa: zero(-3600) }, at(30)))).toEqual(['aaaaaa:drained']);
  });

  it('drain-grace 0 deletes at the first 0', () => {
    const s = service({ color: 'bbbbbb', annotations: { ...keep(0), 'rainbow.dev/drain-grace': '0s' } });
    expect(deletes(plan([s], deps(), { aaaaaa: zero(0) }, at(0)))).toEqual(['aaaaaa:drained']);
  });

  it('connections, or no probe yet, mean draining: no delete', () => {
    expect(deletes(plan([svc()], deps(), { aaaaaa: busy(3) }, at(0)))).toEqual([]);
    expect(deletes(plan([svc()], deps(), {}, at(0)))).toEqual([]);
    expect(states([svc()], deps(), { aaaaaa: busy(3) })).toEqual({ bbbbbb: 'serving', aaaaaa: 'draining' });
    expect(states([svc()], deps(), {})).toEqual({ bbbbbb: 'serving', aaaaaa: 'draining' });
  });

  it('a pod that cannot be asked is not 0: never deleted as drained', () => {
    const unknown: DrainObservation = { lastCount: 0, unknown: 'pod web-aaaaaa-x: connection refused', zeroSince: at(-3600), observedAt: at(0) };
    expect(deletes(plan([svc()], deps(), { aaaaaa: unknown }, at(0)))).toEqual([]);
    expect(states([svc()], deps(), { aaaaaa: unknown })).toEqual({ bbbbbb: 'serving', aaaaaa: 'draining' });
  });

  it('read 0 but not for long enough is "drained" yet not deleted', () => {
    expect(states([svc()], deps(), { aaaaaa: zero(-10) })).toEqual({ bbbbbb: 'serving', aaaaaa: 'drained' });
    const c = colorStates({ app: 'web', namespace: NS, services: [svc()], deployments: deps(), drain: new Map([['aaaaaa', zero(-10)]]), now: at(0) }).colors[1]!;
    expect(c.deletableAt).toEqual(at(50));
  });

  it('zeroSince after now (the clock went backwards) does not delete', () => {
    expect(deletes(plan([svc()], deps(), { aaaaaa: zero(120) }, at(0)))).toEqual([]);
  });

  it('a color without drain-started is stamped, never deleted, even drained for ages', () => {
    expect(deletes(plan([svc()], [dep('aaaaaa', 1), dep('bbbbbb', 2)], { aaaaaa: zero(-10 * H) }, at(0)))).toEqual([]);
  });
});

describe('max-drain', () => {
  const svc = (maxDrain = '48h', extra: Record<string, string> = {}) => service({ color: 'bbbbbb', annotations: { ...keep(0), 'rainbow.dev/max-drain': maxDrain, ...extra } });
  const deps = (started = iso(-48 * H)) => [stamped('aaaaaa', 1, started), dep('bbbbbb', 2)];

  it('deletes with force exactly at drain-started + max-drain, with connections', () => {
    expect(ofType(plan([svc()], deps(), { aaaaaa: busy(5) }, at(0)), 'delete')).toEqual([
      expect.objectContaining({ color: 'aaaaaa', reason: 'max-drain', force: true, connections: 5 }),
    ]);
    expect(deletes(plan([svc()], deps(), { aaaaaa: busy(5) }, at(-0.001)))).toEqual([]);
  });

  it('says so, with the connections it cuts', () => {
    const [d] = ofType(plan([svc()], deps(), { aaaaaa: busy(5) }, at(60)), 'delete');
    expect(d!.message).toBe(
      `color aaaaaa has been out of service since ${iso(-48 * H)} (48h1m), past max-drain 48h, with 5 established connections at the last count; ` +
        'deleting Deployment web-aaaaaa anyway (open connections are cut)',
    );
  });

  it('applies also when the pods cannot be asked, or were never asked', () => {
    const unknown: DrainObservation = { lastCount: 0, unknown: 'pod x: timeout' };
    expect(deletes(plan([svc()], deps(), { aaaaaa: unknown }, at(0)))).toEqual(['aaaaaa:max-drain:force']);
    expect(deletes(plan([svc()], deps(), {}, at(0)))).toEqual(['aaaaaa:max-drain:force']);
  });

  it('prefers an unforced delete when the color is drained anyway', () => {
    expect(deletes(plan([svc()], deps(), { aaaaaa: zero(-H) }, at(0)))).toEqual(['aaaaaa:drained']);
  });

  it('drain-started in the future: no deadline before that time, and a warning', () => {
    const actions = plan([svc('1h')], deps(iso(2 * H)), { aaaaaa: zero(-H) }, at(0));
    expect(deletes(actions)).toEqual([]);
    expect(ofType(actions, 'warn').map((w) => w.message)).toEqual([expect.stringContaining('is in the future')]);
    // …and not before it plus drain-grace, even though the color read 0 since earlier.
    expect(deletes(plan([svc('1h')], deps(iso(2 * H)), { aaaaaa: zero(-H) }, at(2 * H + 59)))).toEqual([]);
    expect(deletes(plan([svc('1h')], deps(iso(2 * H)), { aaaaaa: zero(-H) }, at(2 * H + 60)))).toEqual(['aaaaaa:drained']);
  });

  it('drain-started a few seconds ahead (skew within tolerance) does not warn', () => {
    expect(ofType(plan([svc()], deps(iso(30)), {}, at(0)), 'warn')).toEqual([]);
  });

  it('with several Services the longest max-drain wins (the delete guard agrees)', () => {
    const s1 = service({ name: 'web', color: 'bbbbbb', annotations: { ...keep(0), 'rainbow.dev/max-drain': '1h' } });
    const s2 = service({ name: 'web-grpc', color: 'bbbbbb', annotations: { ...keep(0), 'rainbow.dev/max-drain': '72h' } });
    expect(deletes(plan([s1, s2], deps(), { aaaaaa: busy(1) }, at(0)))).toEqual([]);
    expect(deletes(plan([s1, s2], deps(), { aaaaaa: busy(1) }, at(24 * H)))).toEqual(['aaaaaa:max-drain:force']);
  });

  it('drain deadline is drain-started + max-drain', () => {
    const c = colorStates({ app: 'web', namespace: NS, services: [svc()], deployments: deps(iso(-H)), drain: new Map(), now: at(0) }).colors[1]!;
    expect(c.drainDeadline).toEqual(at(47 * H));
  });
});

describe('several Services', () => {
  it('takes the most conservative settings: largest keep-colors, longest drain-grace and max-drain, shrink only if all agree', () => {
    const { settings } = appSettings([
      service({ name: 'a', annotations: { 'rainbow.dev/keep-colors': '0', 'rainbow.dev/drain-grace': '5m', 'rainbow.dev/max-drain': '1h' } }),
      service({ name: 'b', annotations: { 'rainbow.dev/keep-colors': '3', 'rainbow.dev/drain-grace': '10s', 'rainbow.dev/max-drain': '72h', 'rainbow.dev/shrink': 'false' } }),
    ]);
    expect(settings).toEqual({ keepColors: 3, drainGraceSeconds: 300, maxDrainSeconds: 72 * H, shrink: false });
  });

  it('a Service without annotations brings the defaults into the comparison', () => {
    const { settings } = appSettings([service({ name: 'a', annotations: { 'rainbow.dev/keep-colors': '0' } }), service({ name: 'b' })]);
    expect(settings).toEqual({ keepColors: 1, drainGraceSeconds: 60, maxDrainSeconds: 48 * H, shrink: true });
  });

  it('a color serving any Service is serving', () => {
    const s = [service({ name: 'a', color: 'bbbbbb', annotations: keep(0) }), service({ name: 'b', color: 'aaaaaa', annotations: keep(0) })];
    const d = [stamped('aaaaaa', 1, iso(-100 * H)), dep('bbbbbb', 2)];
    expect(states(s, d)).toEqual({ aaaaaa: 'serving', bbbbbb: 'serving' });
    expect(deletes(plan(s, d, { aaaaaa: zero(-H) }))).toEqual([]);
  });

  it('other apps in the lists are ignored', () => {
    const s = [service({ color: 'bbbbbb', annotations: keep(0) }), service({ app: 'shop', name: 'shop', color: 'aaaaaa' })];
    const d = [stamped('aaaaaa', 1, iso(-H)), dep('bbbbbb', 2), deployment({ app: 'shop', color: 'aaaaaa' })];
    expect(deletes(plan(s, d, { aaaaaa: zero(-H) }))).toEqual(['aaaaaa:drained']);
  });
});

describe('safety when nothing is known to serve', () => {
  it('an app without a Service: no stamp, no delete, a warning', () => {
    const actions = plan([], [stamped('aaaaaa', 1, iso(-100 * H)), dep('bbbbbb', 2)], { aaaaaa: zero(-H), bbbbbb: zero(-H) });
    expect(acting(actions)).toEqual([]);
    expect(ofType(actions, 'warn').map((w) => w.message)).toEqual([expect.stringContaining('no Service')]);
  });

  it('a Service that selects no color: every color serves it', () => {
    const s = [service({ annotations: keep(0) })];
    const d = [stamped('aaaaaa', 1, iso(-100 * H)), dep('bbbbbb', 2)];
    expect(states(s, d)).toEqual({ bbbbbb: 'serving', aaaaaa: 'serving' });
    const actions = plan(s, d, { aaaaaa: zero(-H) });
    expect(acting(actions)).toEqual([]);
    expect(ofType(actions, 'warn').map((w) => w.message)).toEqual([expect.stringContaining('select')]);
  });
});

describe('ask-pods', () => {
  it('probes every color with a live Deployment', () => {
    const actions = plan([service({ color: 'bbbbbb', pending: 'cccccc' })], [dep('aaaaaa', 1), dep('bbbbbb', 2), dep('cccccc', 3, { available: false }), dep('dddddd', 4, { deleting: true })]);
    expect(ofType(actions, 'ask-pods').map((a) => a.color).sort()).toEqual(['aaaaaa', 'bbbbbb', 'cccccc']);
  });
});

describe('nextObservation', () => {
  it('starts zeroSince at the first 0 and keeps it while 0 continues', () => {
    const a = nextObservation(undefined, { count: 0 }, at(0));
    expect(a).toEqual({ lastCount: 0, zeroSince: at(0), observedAt: at(0) });
    expect(nextObservation(a, { count: 0 }, at(10))).toEqual({ lastCount: 0, zeroSince: at(0), observedAt: at(10) });
  });

  it('a connection resets it', () => {
    const a = nextObservation(undefined, { count: 0 }, at(0));
    const b = nextObservation(a, { count: 2 }, at(10));
    expect(b).toEqual({ lastCount: 2, observedAt: at(10) });
    expect(nextObservation(b, { count: 0 }, at(20)).zeroSince).toEqual(at(20));
  });

  it('an unknown probe resets it (unknown ≠ 0)', () => {
    const a = nextObservation(undefined, { count: 0 }, at(0));
    const b = nextObservation(a, { count: 0, unknown: 'pod x: timeout' }, at(10));
    expect(b).toEqual({ lastCount: 0, unknown: 'pod x: timeout', observedAt: at(10) });
    expect(nextObservation(b, { count: 0 }, at(20)).zeroSince).toEqual(at(20));
  });

  it('if the clock went back before zeroSince, counting restarts at now', () => {
    const a = nextObservation(undefined, { count: 0 }, at(100));
    expect(nextObservation(a, { count: 0 }, at(50)).zeroSince).toEqual(at(50));
  });
});

describe('drain-started values', () => {
  it('parses RFC 3339 only', () => {
    expect(parseDrainStarted('2025-11-26T10:02:11Z').at).toEqual(new Date('2025-11-26T10:02:11Z'));
    expect(parseDrainStarted('2025-11-26T12:02:11.5+02:00').at).toEqual(new Date('2025-11-26T10:02:11.500Z'));
    expect(parseDrainStarted('Tuesday').malformed).toBe(true);
    expect(parseDrainStarted('1764151331').malformed).toBe(true);
    expect(parseDrainStarted('2025-13-45T99:00:00Z').malformed).toBe(true);
    expect(parseDrainStarted(undefined)).toEqual({ malformed: false });
  });

  it('writes whole seconds in UTC', () => {
    expect(formatDrainStarted(new Date('2025-11-26T10:02:11.789Z'))).toBe('2025-11-26T10:02:11Z');
  });
});

describe('new colors (deployed ahead of their switch)', () => {
  const svcOn = (color: string, extra: object = {}) => service({ color, annotations: { ...keep(0), 'rainbow.dev/drain-grace': '60s' }, ...extra });
  const statesWith = (services: V1Service[], deployments: V1Deployment[], drain: Record<string, DrainObservation>, served: string[] = []) =>
    Object.fromEntries(
      colorStates({ app: 'web', namespace: NS, services, deployments, drain: new Map(Object.entries(drain)), served: new Set(served), now: at(0) }).colors.map((c) => [c.color, c.state]),
    );
  const planWith = (services: V1Service[], deployments: V1Deployment[], drain: Record<string, DrainObservation>, served: string[] = []) =>
    planApp({ app: 'web', namespace: NS, services, deployments, drain: new Map(Object.entries(drain)), served: new Set(served), now: at(0) });

  it('a Deployment newer than the serving color that nothing has asked for is new: never stamped or deleted', () => {
    const deps = [dep('aaaaaa', 1), dep('bbbbbb', 2)];
    expect(statesWith([svcOn('aaaaaa')], deps, { bbbbbb: zero(-H) })).toEqual({ aaaaaa: 'serving', bbbbbb: 'new' });
    const actions = planWith([svcOn('aaaaaa')], deps, { bbbbbb: zero(-H) });
    expect(ofType(actions, 'stamp-drain-started')).toEqual([]);
    expect(deletes(actions)).toEqual([]);
    expect(ofType(actions, 'ask-pods').map((a) => a.color).sort()).toEqual(['aaaaaa', 'bbbbbb']);
  });

  it('a new color does not push the kept previous color out', () => {
    const deps = [stamped('aaaaaa', 1, iso(-H)), dep('bbbbbb', 2), dep('cccccc', 3)];
    const svc = service({ color: 'bbbbbb', annotations: { ...keep(1) } });
    expect(statesWith([svc], deps, { aaaaaa: zero(-H), cccccc: zero(-H) })).toEqual({ bbbbbb: 'serving', aaaaaa: 'kept', cccccc: 'new' });
  });

  it('a Deployment older than the serving color is a previous color even without a stamp (it gets one)', () => {
    const deps = [dep('aaaaaa', 1), dep('bbbbbb', 2)];
    expect(statesWith([svcOn('bbbbbb')], deps, {})).toEqual({ bbbbbb: 'serving', aaaaaa: 'draining' });
    expect(ofType(planWith([svcOn('bbbbbb')], deps, {}), 'stamp-drain-started').map((a) => a.color)).toEqual(['aaaaaa']);
  });

  it('after a rollback the newer color that served is a previous color (seen serving), stamped at once', () => {
    // The Service went back from bbbbbb to aaaaaa; the controller saw bbbbbb serve.
    const deps = [dep('aaaaaa', 1), dep('bbbbbb', 2)];
    expect(statesWith([svcOn('aaaaaa')], deps, {}, ['bbbbbb', 'aaaaaa'])).toEqual({ aaaaaa: 'serving', bbbbbb: 'draining' });
    expect(ofType(planWith([svcOn('aaaaaa')], deps, {}, ['bbbbbb']), 'stamp-drain-started').map((a) => a.color)).toEqual(['bbbbbb']);
  });

  it('a color created in the same second as the serving one is new unless it served (no guessing the order)', () => {
    const deps = [dep('aaaaaa', 1), dep('bbbbbb', 1)];
    expect(statesWith([svcOn('aaaaaa')], deps, {})).toEqual({ aaaaaa: 'serving', bbbbbb: 'new' });
  });

  it('a stamped color is previous whatever its age', () => {
    const deps = [dep('aaaaaa', 1), stamped('bbbbbb', 2, iso(-H))];
    expect(statesWith([svcOn('aaaaaa')], deps, { bbbbbb: zero(-H) })).toEqual({ aaaaaa: 'serving', bbbbbb: 'drained' });
  });
});

describe('shrinking a draining color', () => {
  // bbbbbb serves; aaaaaa (4 pods) stopped serving 120 s ago; drain-grace 60 s; nothing kept.
  const settings = (extra: Record<string, string> = {}) => ({ ...keep(0), 'rainbow.dev/drain-grace': '60s', ...extra });
  const svc = (extra: Record<string, string> = {}) => service({ color: 'bbbbbb', annotations: settings(extra) });
  const draining = (o: { started?: number; replicas?: number; annotations?: Record<string, string> } = {}) => {
    const d = stamped('aaaaaa', 1, iso(o.started ?? -120), { replicas: o.replicas ?? 4, ...(o.annotations ? { annotations: { 'rainbow.dev/drain-started': iso(o.started ?? -120), ...o.annotations } } : {}) });
    d.metadata!.resourceVersion = '77';
    return d;
  };
  const deps = (o: Parameters<typeof draining>[0] = {}) => [draining(o), dep('bbbbbb', 2)];
  /** A counted pod whose deletion cost reads `cost` (default: its count, i.e. already current). */
  const p = (name: string, connections: number | undefined, cost = connections ?? 0, rank: Partial<PodObservation['rank']> = {}): PodObservation => ({
    name,
    ...(connections !== undefined ? { connections } : { unknown: `pod ${name}: connection refused` }),
    rank: { name, assigned: true, phase: 2, ready: true, deletionCost: cost, ...rank },
    ...(cost !== 0 ? { costAnnotation: String(cost) } : {}),
  });
  const observed = (pods: PodObservation[], extra: Partial<DrainObservation> = {}): DrainObservation => {
    const lastCount = pods.reduce((n, x) => n + (x.connections ?? 0), 0);
    const o: DrainObservation = { lastCount, observedAt: at(0), pods, ...extra };
    if (lastCount === 0 && !o.unknown) o.zeroSince ??= at(0);
    return o;
  };
  const onePodBusy = () => observed([p('web-aaaaaa-1', 3), p('web-aaaaaa-2', 0), p('web-aaaaaa-3', 0), p('web-aaaaaa-4', 0)]);
  const round = (services: V1Service[], deployments: V1Deployment[], drain: Record<string, DrainObservation>, now = at(0), served: string[] = []) =>
    planApp({ app: 'web', namespace: NS, services, deployments, drain: new Map(Object.entries(drain)), served: new Set(served), now, drainRound: true });
  const shrinkOf = (actions: Action[]) => ofType(actions, 'shrink').map((a) => `${a.color}:${a.from}->${a.to}`);
  const heldOf = (actions: Action[]) => ofType(actions, 'shrink-held').map((a) => a.reason);
  const costsOf = (actions: Action[]) => ofType(actions, 'set-deletion-cost').flatMap((a) => a.pods.map((x) => `${a.color}/${x.name}=${x.cost}`));

  it('writes each counted pod its connection count as deletion cost, only where it differs', () => {
    const obs = observed([p('web-aaaaaa-1', 3, 0), p('web-aaaaaa-2', 0), p('web-aaaaaa-3', 0, 2), p('web-aaaaaa-4', 250, 250)]);
    const actions = round([svc()], deps(), { aaaaaa: obs });
    expect(ofType(actions, 'set-deletion-cost')).toEqual([
      {
        type: 'set-deletion-cost',
        color: 'aaaaaa',
        deployment: { name: 'web-aaaaaa', namespace: NS, uid: 'uid-web-aaaaaa' },
        pods: [
          { name: 'web-aaaaaa-1', cost: 3 },
          { name: 'web-aaaaaa-3', cost: 0 },
        ],
      },
    ]);
  });

  it('scales down by the costs written in an earlier round (the guard reads the same), not by the ones it writes', () => {
    // No cost yet: every pod reads 0, so the ReplicaSet controller could take the connected one.
    const stale = observed([p('web-aaaaaa-1', 3, 0), p('web-aaaaaa-2', 0), p('web-aaaaaa-3', 0), p('web-aaaaaa-4', 0)]);
    const first = round([svc()], deps(), { aaaaaa: stale });
    expect(costsOf(first)).toEqual(['aaaaaa/web-aaaaaa-1=3']);
    expect(shrinkOf(first)).toEqual([]);
    expect(heldOf(first)).toEqual([
      'scaling to 1 could remove web-aaaaaa-1 (3 connections): by the pods\' current ranks the ReplicaSet controller is not sure to take the empty ones first (fewest safe replicas 4); writing 1 deletion cost now, deciding again at the next round',
    ]);
    // The next round lists the pods with the cost written.
    const next = round([svc()], deps(), { aaaaaa: onePodBusy() });
    expect(costsOf(next)).toEqual([]);
    expect(ofType(next, 'shrink')).toEqual([
      {
        type: 'shrink',
        color: 'aaaaaa',
        deployment: { name: 'web-aaaaaa', namespace: NS, uid: 'uid-web-aaaaaa' },
        resourceVersion: '77',
        from: 4,
        to: 1,
        shrunkFrom: 4,
        connections: 3,
        message: 'color aaaaaa: 1 of 4 pods still hold connections (3 established); scaled Deployment web-aaaaaa from 4 to 1 replicas',
      },
    ]);
  });

  it('counts that moved since the costs were written do not hold the shrink while the written costs order the pods safely', () => {
    // web-aaaaaa-1 went from 3 to 2 connections, web-aaaaaa-2 from 1 to 0: both costs are stale,
    // yet by the written ones (3, 1, 0, 0) the three pods to go all rank below web-aaaaaa-1.
    const moved = observed([p('web-aaaaaa-1', 2, 3), p('web-aaaaaa-2', 0, 1), p('web-aaaaaa-3', 0), p('web-aaaaaa-4', 0)]);
    const actions = round([svc()], deps(), { aaaaaa: moved });
    expect(shrinkOf(actions)).toEqual(['aaaaaa:4->1']);
    // Along with the scale, only the empty pod's cost is written (it can only move earlier); the
    // connected pod's lower count waits a round (it could overtake an empty pod whose cost has not landed).
    expect(costsOf(actions)).toEqual(['aaaaaa/web-aaaaaa-2=0']);
    expect(actions.map((a) => a.type).filter((t) => t === 'shrink' || t === 'set-deletion-cost')).toEqual(['shrink', 'set-deletion-cost']);
  });

  it('when the written costs make only part of the scale-down safe (a pod has just emptied), it scales that far and writes the empty pod\'s cost', () => {
    // web-aaaaaa-2 has just emptied and still carries cost 4, above the connected pod's 1.
    const reordered = observed([p('web-aaaaaa-1', 2, 1), p('web-aaaaaa-2', 0, 4), p('web-aaaaaa-3', 0), p('web-aaaaaa-4', 0)]);
    const actions = round([svc()], deps(), { aaaaaa: reordered });
    expect(ofType(actions, 'shrink')).toEqual([
      expect.objectContaining({
        from: 4,
        to: 2,
        message: 'color aaaaaa: 1 of 4 pods still hold connections (2 established); scaled Deployment web-aaaaaa from 4 to 2 replicas (1 more empty pod goes once its deletion cost is written)',
      }),
    ]);
    expect(costsOf(actions)).toEqual(['aaaaaa/web-aaaaaa-2=0']);
    // Next round (the ReplicaSet took web-aaaaaa-3 and -4; web-aaaaaa-2 reads cost 0): down to 1.
    const d = deps({ replicas: 2, annotations: { 'rainbow.dev/shrunk-from': '4' } });
    expect(shrinkOf(round([svc()], d, { aaaaaa: observed([p('web-aaaaaa-1', 2, 1), p('web-aaaaaa-2', 0, 0)]) }))).toEqual(['aaaaaa:2->1']);
  });

  it('an empty pod whose written cost is below 0 is not raised to 0 in the round that scales (it would move later)', () => {
    const negative = observed([p('web-aaaaaa-1', 3), p('web-aaaaaa-2', 0, -5), p('web-aaaaaa-3', 0), p('web-aaaaaa-4', 0)]);
    const actions = round([svc()], deps(), { aaaaaa: negative });
    expect(shrinkOf(actions)).toEqual(['aaaaaa:4->1']);
    expect(costsOf(actions)).toEqual([]);
  });

  it('the target is the number of pods that hold connections', () => {
    const obs = observed([p('web-aaaaaa-1', 3), p('web-aaaaaa-2', 1), p('web-aaaaaa-3', 0), p('web-aaaaaa-4', 0)]);
    expect(shrinkOf(round([svc()], deps(), { aaaaaa: obs }))).toEqual(['aaaaaa:4->2']);
    const all = observed([p('web-aaaaaa-1', 3), p('web-aaaaaa-2', 1), p('web-aaaaaa-3', 2), p('web-aaaaaa-4', 1)]);
    const actions = round([svc()], deps(), { aaaaaa: all });
    expect(shrinkOf(actions)).toEqual([]);
    expect(heldOf(actions)).toEqual([]); // nothing to shrink
  });

  it('a color shrunk before shrinks again as its pods empty, keeping its first replicas in shrunk-from', () => {
    const d = deps({ replicas: 2, annotations: { 'rainbow.dev/shrunk-from': '4' } });
    const [a] = ofType(round([svc()], d, { aaaaaa: observed([p('web-aaaaaa-1', 3), p('web-aaaaaa-2', 0)]) }), 'shrink');
    expect(a).toMatchObject({ from: 2, to: 1, shrunkFrom: 4 });
  });

  it('not before drain-grace has passed since drain-started (costs are written meanwhile, from the first round)', () => {
    const stale = observed([p('web-aaaaaa-1', 3, 0), p('web-aaaaaa-2', 0), p('web-aaaaaa-3', 0), p('web-aaaaaa-4', 0)]);
    const early = round([svc()], deps({ started: -59 }), { aaaaaa: stale });
    expect(costsOf(early)).toEqual(['aaaaaa/web-aaaaaa-1=3']);
    expect(heldOf(early)).toEqual([]);
    expect(shrinkOf(round([svc()], deps({ started: -59 }), { aaaaaa: onePodBusy() }))).toEqual([]);
    expect(shrinkOf(round([svc()], deps({ started: -60 }), { aaaaaa: onePodBusy() }))).toEqual(['aaaaaa:4->1']);
  });

  it('never for kept, serving, pending or new colors: no cost, no shrink', () => {
    const stale = () => observed([p('x-1', 3, 0), p('x-2', 0, 5), p('x-3', 0), p('x-4', 0)]);
    // kept: keep-colors 1 keeps aaaaaa
    const kept = round([service({ color: 'bbbbbb', annotations: { ...settings(), ...keep(1) } })], deps(), { aaaaaa: stale() });
    expect(states([service({ color: 'bbbbbb', annotations: keep(1) })], deps(), {})).toMatchObject({ aaaaaa: 'kept' });
    // serving (bbbbbb) and pending (cccccc) and new (dddddd, newer than the serving color, never asked for)
    const s = service({ color: 'bbbbbb', pending: 'cccccc', annotations: settings() });
    const d = [dep('bbbbbb', 2, { replicas: 4 }), dep('cccccc', 3, { replicas: 4, available: false }), dep('dddddd', 4, { replicas: 4 })];
    const others = round([s], d, { bbbbbb: stale(), cccccc: stale(), dddddd: stale() });
    expect(states([s], d, {})).toEqual({ bbbbbb: 'serving', cccccc: 'pending', dddddd: 'new' });
    for (const actions of [kept, others]) {
      expect(ofType(actions, 'set-deletion-cost')).toEqual([]);
      expect(ofType(actions, 'shrink')).toEqual([]);
      expect(ofType(actions, 'shrink-held')).toEqual([]);
    }
  });

  it('no shrink while any pod is not counted: unknown, not asked, or not running yet', () => {
    const unknownColor = { ...onePodBusy(), unknown: 'pod web-aaaaaa-4: connection refused' };
    expect(heldOf(round([svc()], deps(), { aaaaaa: unknownColor }))).toEqual(['connections unknown: pod web-aaaaaa-4: connection refused']);
    const uncounted = observed([p('web-aaaaaa-1', 3), p('web-aaaaaa-2', 0), p('web-aaaaaa-3', 0), p('web-aaaaaa-4', undefined)]);
    const actions = round([svc()], deps(), { aaaaaa: uncounted });
    expect(shrinkOf(actions)).toEqual([]);
    expect(heldOf(actions)).toEqual(['pod web-aaaaaa-4 was not counted (pod web-aaaaaa-4: connection refused)']);
    expect(costsOf(actions)).toEqual([]); // the counted pods' costs are current; the uncounted one is left alone
    // Never probed, or probed before pods were listed: nothing at all.
    expect(acting(round([svc()], deps(), {})).filter((a) => a.type !== 'stamp-drain-started')).toEqual([]);
    expect(acting(round([svc()], deps(), { aaaaaa: busy(3) }))).toEqual([]);
  });

  it('no cost and no shrink with rainbow.dev/shrink: "false", on any of the Services', () => {
    const stale = observed([p('web-aaaaaa-1', 3, 0), p('web-aaaaaa-2', 0), p('web-aaaaaa-3', 0), p('web-aaaaaa-4', 0)]);
    expect(acting(round([svc({ 'rainbow.dev/shrink': 'false' })], deps(), { aaaaaa: stale }))).toEqual([]);
    const two = [svc(), service({ name: 'web-grpc', color: 'bbbbbb', annotations: settings({ 'rainbow.dev/shrink': 'false' }) })];
    expect(acting(round(two, deps(), { aaaaaa: onePodBusy() }))).toEqual([]);
    // An unreadable value warns and uses the default (on).
    const bad = round([svc({ 'rainbow.dev/shrink': 'maybe' })], deps(), { aaaaaa: onePodBusy() });
    expect(shrinkOf(bad)).toEqual(['aaaaaa:4->1']);
    expect(ofType(bad, 'warn').map((w) => w.message)).toEqual(['Service web: ignoring rainbow.dev/shrink="maybe" (expected true or false); using true']);
  });

  it('a color that reads 0 everywhere is not shrunk but deleted after drain-grace, as without shrink', () => {
    const empty = observed([p('web-aaaaaa-1', 0), p('web-aaaaaa-2', 0), p('web-aaaaaa-3', 0), p('web-aaaaaa-4', 0)], { zeroSince: at(-10) });
    const waiting = round([svc()], deps(), { aaaaaa: empty });
    expect(shrinkOf(waiting)).toEqual([]);
    expect(deletes(waiting)).toEqual([]);
    const later = round([svc()], deps(), { aaaaaa: { ...empty, zeroSince: at(-60) } });
    expect(shrinkOf(later)).toEqual([]);
    expect(deletes(later)).toEqual(['aaaaaa:drained']);
  });

  it('past max-drain it is deleted, not shrunk', () => {
    const actions = round([svc({ 'rainbow.dev/max-drain': '1m' })], deps(), { aaaaaa: onePodBusy() });
    expect(deletes(actions)).toEqual(['aaaaaa:max-drain:force']);
    expect(shrinkOf(actions)).toEqual([]);
  });

  it('unsafe by the removal order (a connected pod not Ready ranks before Ready empty ones): no scale, held', () => {
    const obs = observed([p('web-aaaaaa-1', 3, 3, { ready: false }), p('web-aaaaaa-2', 0), p('web-aaaaaa-3', 0), p('web-aaaaaa-4', 0)]);
    const actions = round([svc()], deps(), { aaaaaa: obs });
    expect(shrinkOf(actions)).toEqual([]);
    expect(heldOf(actions)).toEqual([
      "scaling to 1 could remove web-aaaaaa-1 (3 connections): by the pods' current ranks the ReplicaSet controller is not sure to take the empty ones first (fewest safe replicas 4)",
    ]);
    // Equal costs give no order either: a connected pod whose cost still reads 0 is at risk (and its cost is written first).
    const tied = observed([p('web-aaaaaa-1', 3, 3), p('web-aaaaaa-2', 0, 3), p('web-aaaaaa-3', 0, 3), p('web-aaaaaa-4', 0, 3)]);
    expect(costsOf(round([svc()], deps(), { aaaaaa: tied }))).toEqual(['aaaaaa/web-aaaaaa-2=0', 'aaaaaa/web-aaaaaa-3=0', 'aaaaaa/web-aaaaaa-4=0']);
  });

  it('no shrink while the Deployment is not settled (a rollout, a scale in flight, pods not matching replicas)', () => {
    const moving = deps();
    moving[0]!.status!.replicas = 5;
    expect(heldOf(round([svc()], moving, { aaaaaa: onePodBusy() }))).toEqual([
      expect.stringContaining('Deployment not settled (spec.replicas 4, status.replicas 5'),
    ]);
    const unobserved = deps();
    unobserved[0]!.metadata!.generation = 3;
    expect(shrinkOf(round([svc()], unobserved, { aaaaaa: onePodBusy() }))).toEqual([]);
    const threePods = observed([p('web-aaaaaa-1', 3), p('web-aaaaaa-2', 0), p('web-aaaaaa-3', 0)]);
    expect(heldOf(round([svc()], deps(), { aaaaaa: threePods }))).toEqual([expect.stringContaining('3 active pods at the last count')]);
  });

  it('only in a drain round: a reconcile between rounds writes no cost and scales nothing', () => {
    const actions = planApp({ app: 'web', namespace: NS, services: [svc()], deployments: deps(), drain: new Map([['aaaaaa', onePodBusy()]]), now: at(0) });
    expect(ofType(actions, 'shrink')).toEqual([]);
    const stale = observed([p('web-aaaaaa-1', 3, 0), p('web-aaaaaa-2', 0), p('web-aaaaaa-3', 0), p('web-aaaaaa-4', 0)]);
    expect(ofType(planApp({ app: 'web', namespace: NS, services: [svc()], deployments: deps(), drain: new Map([['aaaaaa', stale]]), now: at(0) }), 'set-deletion-cost')).toEqual([]);
  });

  it('status shows a shrunk color with its replicas before the shrink', () => {
    const c = colorStates({ app: 'web', namespace: NS, services: [svc()], deployments: deps({ replicas: 1, annotations: { 'rainbow.dev/shrunk-from': '4' } }), drain: new Map(), now: at(0) });
    expect(c.colors.find((x) => x.color === 'aaaaaa')).toMatchObject({ desiredReplicas: 1, shrunkFrom: 4, available: false });
    const whole = colorStates({ app: 'web', namespace: NS, services: [svc()], deployments: deps({ replicas: 4, annotations: { 'rainbow.dev/shrunk-from': '4' } }), drain: new Map(), now: at(0) });
    expect(whole.colors.find((x) => x.color === 'aaaaaa')!.shrunkFrom).toBeUndefined();
  });
});

describe('restoring a shrunk color', () => {
  const shrunk = (color: string, day: number, replicas = 1, from = '4', extra: Record<string, string> = {}) => {
    const d = dep(color, day, { replicas, annotations: { 'rainbow.dev/shrunk-from': from, ...extra } });
    d.metadata!.resourceVersion = '91';
    return d;
  };
  const restores = (actions: Action[]) => ofType(actions, 'restore-replicas');

  it('a rollback to it (it serves again): replicas back to shrunk-from, the annotation goes, on any reconcile', () => {
    const actions = plan([service({ color: 'aaaaaa', annotations: keep(0) })], [shrunk('aaaaaa', 1, 1, '4', { 'rainbow.dev/drain-started': iso(-H) }), dep('bbbbbb', 2)]);
    expect(restores(actions)).toEqual([
      {
        type: 'restore-replicas',
        color: 'aaaaaa',
        deployment: { name: 'web-aaaaaa', namespace: NS, uid: 'uid-web-aaaaaa' },
        resourceVersion: '91',
        from: 1,
        to: 4,
        message: 'color aaaaaa serves again: scaled Deployment web-aaaaaa back from 1 to 4 replicas (its rainbow.dev/shrunk-from)',
      },
    ]);
    expect(ofType(actions, 'clear-drain-started').map((a) => a.color)).toEqual(['aaaaaa']);
  });

  it('pending (the webhook holds the Service: the shrunk color is not Available) and kept colors get theirs back too', () => {
    const pending = plan([service({ color: 'bbbbbb', pending: 'aaaaaa', annotations: keep(0) })], [shrunk('aaaaaa', 1), dep('bbbbbb', 2)]);
    expect(restores(pending).map((a) => a.message)).toEqual(['color aaaaaa is pending again: scaled Deployment web-aaaaaa back from 1 to 4 replicas (its rainbow.dev/shrunk-from)']);
    expect(ofType(pending, 'promote')).toEqual([]);
    const kept = plan([service({ color: 'bbbbbb', annotations: keep(1) })], [shrunk('aaaaaa', 1, 2, '4', { 'rainbow.dev/drain-started': iso(-H) }), dep('bbbbbb', 2)]);
    expect(restores(kept).map((a) => `${a.from}->${a.to}`)).toEqual(['2->4']);
  });

  it('scaled back already (helm rollback applied its replicas): only the annotation goes', () => {
    const [a] = restores(plan([service({ color: 'aaaaaa' })], [shrunk('aaaaaa', 1, 4, '4'), dep('bbbbbb', 2)]));
    expect(a).toMatchObject({ from: 4, to: 4, message: 'color aaaaaa serves again with 4 replicas; removed rainbow.dev/shrunk-from from Deployment web-aaaaaa' });
  });

  it('a draining shrunk color is not restored', () => {
    const actions = plan([service({ color: 'bbbbbb', annotations: keep(0) })], [shrunk('aaaaaa', 1, 1, '4', { 'rainbow.dev/drain-started': iso(-H) }), dep('bbbbbb', 2)], { aaaaaa: busy(2) });
    expect(restores(actions)).toEqual([]);
  });
});

describe('drain forecasts', () => {
  const M = 60;
  const estimate = (o: Partial<Extract<PublishedForecast, { kind: 'estimate' }>> = {}): PublishedForecast => ({
    kind: 'estimate',
    earliest: at(2 * H),
    latest: at(10 * H),
    deadlineFirst: false,
    remaining: 100,
    computedAt: at(0),
    ...o,
  });
  const unknown = (reason: string, computedAt = at(0)): PublishedForecast => ({ kind: 'unknown', reason, computedAt });
  const FORECAST = 'rainbow.dev/drain-forecast';

  describe('forecastWorthWriting', () => {
    it('writes when nothing readable is published, and whenever the kind changes, even at once', () => {
      expect(forecastWorthWriting(undefined, unknown('1 sample'), at(0))).toBe(true);
      expect(forecastWorthWriting(unknown('5 samples'), estimate({ computedAt: at(10) }), at(10))).toBe(true);
      expect(forecastWorthWriting(estimate(), unknown('not falling', at(10)), at(10))).toBe(true);
    });

    it('otherwise at most once per 5 minutes, however far the bounds moved', () => {
      expect(FORECAST_REWRITE_MIN_MS).toBe(5 * M * 1000);
      const moved = estimate({ earliest: at(6 * H), latest: at(30 * H), computedAt: at(5 * M - 1) });
      expect(forecastWorthWriting(estimate(), moved, at(5 * M - 1))).toBe(false);
      expect(forecastWorthWriting(estimate(), { ...moved, computedAt: at(5 * M) }, at(5 * M))).toBe(true);
    });

    it('an unknown is rewritten when its reason changed', () => {
      expect(forecastWorthWriting(unknown('1 sample'), unknown('1 sample', at(H)), at(H))).toBe(false);
      expect(forecastWorthWriting(unknown('1 sample'), unknown('31 samples', at(H)), at(H))).toBe(true);
      expect(forecastWorthWriting(unknown('1 sample'), unknown('2 samples', at(M)), at(M))).toBe(false);
    });

    it('an estimate when a bound moved by more than 15 minutes or 10% of the time left until it', () => {
      const now = at(H);
      const next = (o: Partial<Extract<PublishedForecast, { kind: 'estimate' }>>) => estimate({ computedAt: now, ...o });
      // earliest moves from 1 h away to 1h6m40s away: 10% of the later is 6m40s, the smaller threshold.
      expect(forecastWorthWriting(estimate(), next({ earliest: at(2 * H + 6 * M + 40) }), now)).toBe(false);
      expect(forecastWorthWriting(estimate(), next({ earliest: at(2 * H + 6 * M + 41) }), now)).toBe(true);
      expect(forecastWorthWriting(estimate(), next({ earliest: at(2 * H - 6 * M) }), now)).toBe(false);
      expect(forecastWorthWriting(estimate(), next({ earliest: at(2 * H - 6 * M - 1) }), now)).toBe(true);
      // latest is 9 h away: 15 minutes is the smaller threshold.
      expect(forecastWorthWriting(estimate(), next({ latest: at(10 * H - 15 * M) }), now)).toBe(false);
      expect(forecastWorthWriting(estimate(), next({ latest: at(10 * H - 15 * M - 1) }), now)).toBe(true);
      // Neither bound moved enough; the count is not a reason by itself.
      expect(forecastWorthWriting(estimate(), next({ earliest: at(2 * H + 5 * M), latest: at(10 * H + 14 * M), remaining: 60 }), now)).toBe(false);
    });

    it('a bound already past counts as now: it does not move by being clamped', () => {
      const now = at(3 * H);
      expect(forecastWorthWriting(estimate(), estimate({ earliest: now, computedAt: now }), now)).toBe(false);
    });

    it('a range that opens, closes or reaches max-drain is rewritten', () => {
      const now = at(H);
      const { latest: _latest, ...open } = estimate({ computedAt: now }) as Extract<PublishedForecast, { kind: 'estimate' }>;
      expect(forecastWorthWriting(estimate(), open, now)).toBe(true);
      expect(forecastWorthWriting({ ...open, computedAt: at(0) }, estimate({ computedAt: now }), now)).toBe(true);
      expect(forecastWorthWriting(estimate(), estimate({ deadlineFirst: true, computedAt: now }), now)).toBe(true);
      expect(forecastWorthWriting({ ...open, computedAt: at(0) }, { ...open, earliest: at(2 * H + 5 * M) }, now)).toBe(false);
    });

    it('a computedAt in the future does not hold the write back', () => {
      expect(forecastWorthWriting(estimate({ computedAt: at(H) }), estimate({ earliest: at(4 * H) }), at(0))).toBe(true);
    });
  });

  describe('planForecasts', () => {
    /** aaaaaa out of service for an hour (max-drain 48h), its count falling by 8% every 2 minutes for 30 minutes. */
    const series: ConnectionSample[] = Array.from({ length: 16 }, (_, i) => ({ at: at(-H + i * 2 * M).getTime(), count: Math.round(500 * Math.exp(-0.08 * i)) }));
    const now = at(-H + 30 * M);
    const drainStarted = { 'rainbow.dev/drain-started': iso(-H) };
    const input = (deployments: V1Deployment[], svc = service({ color: 'bbbbbb', annotations: keep(0) }), drain: Record<string, DrainObservation> = { aaaaaa: busy(series.at(-1)!.count) }) => {
      const colors = colorStates({ app: 'web', namespace: NS, services: [svc], deployments, drain: new Map(Object.entries(drain)), now });
      return { colors, deployments, series: new Map([['aaaaaa', series]]), now };
    };
    const expected = forecastDrain(series, now, at(47 * H));

    it('forecasts a draining color with its max-drain deadline, publishes it and announces its estimate', () => {
      if (expected.kind !== 'estimate') throw new Error(JSON.stringify(expected));
      const ref = { name: 'web-aaaaaa', namespace: NS, uid: 'uid-web-aaaaaa' };
      const { forecasts, actions } = planForecasts(input([dep('aaaaaa', 1, { annotations: drainStarted }), dep('bbbbbb', 2)]));
      expect(forecasts).toEqual([{ color: 'aaaaaa', deployment: ref, forecast: expected }]);
      expect(actions).toEqual([
        { type: 'write-drain-forecast', color: 'aaaaaa', deployment: ref, value: formatForecastAnnotation(publishForecast(expected, now)!) },
        { type: 'announce-drain-forecast', color: 'aaaaaa', deployment: ref, message: forecastMessage('web-aaaaaa', expected, at(47 * H), now) },
      ]);
      expect(forecastMessage('web-aaaaaa', expected, at(47 * H), now)).toMatch(/^drain forecast for web-aaaaaa: 0 connections in \S+–\S+ \(151 left\); max-drain deadline in 47h30m$/);
    });

    it('does not rewrite what is already published', () => {
      const published = formatForecastAnnotation(publishForecast(expected, now)!);
      const { actions } = planForecasts(input([dep('aaaaaa', 1, { annotations: { ...drainStarted, [FORECAST]: published } }), dep('bbbbbb', 2)]));
      expect(actions.map((a) => a.type)).toEqual(['announce-drain-forecast']);
    });

    it('overwrites an unreadable annotation', () => {
      const { actions } = planForecasts(input([dep('aaaaaa', 1, { annotations: { ...drainStarted, [FORECAST]: 'soon' } }), dep('bbbbbb', 2)]));
      expect(actions.map((a) => a.type)).toEqual(['write-drain-forecast', 'announce-drain-forecast']);
    });

    it('publishes an unknown forecast, without an announcement', () => {
      const x = input([dep('aaaaaa', 1, { annotations: drainStarted }), dep('bbbbbb', 2)]);
      const { forecasts, actions } = planForecasts({ ...x, series: new Map([['aaaaaa', series.slice(0, 3)]]) });
      expect(forecasts.map((f) => f.forecast)).toEqual([{ kind: 'unknown', reason: '3 samples', samples: 3 }]);
      expect(actions).toEqual([
        { type: 'write-drain-forecast', color: 'aaaaaa', deployment: { name: 'web-aaaaaa', namespace: NS, uid: 'uid-web-aaaaaa' }, value: `{"unknown":"3 samples","computedAt":"${iso(-H + 30 * M)}"}` },
      ]);
    });

    it('forecasts only draining colors that are stamped and not past max-drain, and nothing without a Service', () => {
      const none = (x: ReturnType<typeof input>) => expect(planForecasts(x)).toEqual({ forecasts: [], actions: [] });
      none(input([dep('aaaaaa', 1, { annotations: drainStarted }), dep('bbbbbb', 2)], service({ color: 'bbbbbb', annotations: keep(1) }))); // kept
      none(input([dep('aaaaaa', 1, { annotations: drainStarted }), dep('bbbbbb', 2)], undefined, { aaaaaa: zero(-M) })); // drained
      none(input([dep('aaaaaa', 1, { annotations: drainStarted }), dep('bbbbbb', 2)], service({ color: 'aaaaaa', annotations: keep(0) }))); // serving
      none(input([dep('aaaaaa', 1), dep('bbbbbb', 2)])); // not stamped yet
      none(input([dep('aaaaaa', 1, { annotations: drainStarted }), dep('bbbbbb', 2)], service({ color: 'bbbbbb', annotations: { ...keep(0), 'rainbow.dev/max-drain': '30m' } }))); // deleted now
      const noService = input([dep('aaaaaa', 1, { annotations: drainStarted }), dep('bbbbbb', 2)]);
      none({ ...noService, colors: { ...noService.colors, noService: true } });
    });
  });

  describe('the annotation on colors that are not draining', () => {
    const published = '{"unknown":"1 sample","computedAt":"2025-11-26T10:00:00Z"}';
    const withForecast = (color: string, day: number, o: Record<string, string> = {}) => dep(color, day, { annotations: { [FORECAST]: published, ...o } });
    const clears = (actions: Action[]) => ofType(actions, 'clear-drain-forecast').map((a) => `${a.color}=${a.value}`);

    it('goes when the color serves again, is kept or drained, on any reconcile', () => {
      expect(clears(plan([service({ color: 'aaaaaa', annotations: keep(0) })], [withForecast('aaaaaa', 1), dep('bbbbbb', 2)]))).toEqual([`aaaaaa=${published}`]);
      expect(clears(plan([service({ color: 'bbbbbb', annotations: keep(1) })], [withForecast('aaaaaa', 1, { 'rainbow.dev/drain-started': iso(-H) }), dep('bbbbbb', 2)]))).toEqual([`aaaaaa=${published}`]);
      expect(clears(plan([service({ color: 'bbbbbb', annotations: keep(0) })], [withForecast('aaaaaa', 1, { 'rainbow.dev/drain-started': iso(-H) }), dep('bbbbbb', 2)], { aaaaaa: zero(-10) }))).toEqual([
        `aaaaaa=${published}`,
      ]);
    });

    it('stays while the color drains', () => {
      expect(clears(plan([service({ color: 'bbbbbb', annotations: keep(0) })], [withForecast('aaaaaa', 1, { 'rainbow.dev/drain-started': iso(-H) }), dep('bbbbbb', 2)], { aaaaaa: busy(3) }))).toEqual([]);
    });
  });
});

describe('uninstall: the app served once and its last Service went', () => {
  const SET = (o: Partial<{ keepColors: number; drainGraceSeconds: number; maxDrainSeconds: number; shrink: boolean }> = {}) =>
    JSON.stringify({ keepColors: 1, drainGraceSeconds: 60, maxDrainSeconds: 48 * H, shrink: true, ...o });
  const gone = (since: string, o: object = {}) => ({ 'rainbow.dev/no-service-since': since, 'rainbow.dev/drain-settings': SET(o) });
  // bbbbbb served until the Service went; aaaaaa drained before that, eeeeee was deployed afterwards.
  const deps = (since: string, o: object = {}, extra: Record<string, Record<string, string>> = {}) => [
    dep('aaaaaa', 1, { annotations: { ...gone(since, o), 'rainbow.dev/drain-started': iso(-5 * H), 'rainbow.dev/served-at': iso(-9 * H), ...extra.aaaaaa } }),
    dep('bbbbbb', 2, { annotations: { ...gone(since, o), 'rainbow.dev/served-at': iso(-5 * H), ...extra.bbbbbb } }),
  ];
  const planAt = (deployments: V1Deployment[], now: Date, drain: Record<string, DrainObservation> = {}, drainRound = false) =>
    planApp({ app: 'web', namespace: NS, services: [], deployments, drain: new Map(Object.entries(drain)), now, drainRound });
  const statesAt = (deployments: V1Deployment[], now: Date, drain: Record<string, DrainObservation> = {}) =>
    colorStates({ app: 'web', namespace: NS, services: [], deployments, drain: new Map(Object.entries(drain)), now });

  it('within the uninstall grace (30 s from rainbow.dev/no-service-since) nothing drains, and a warning says until when', () => {
    const actions = planAt(deps(iso(-29)), at(0), { aaaaaa: zero(-H), bbbbbb: zero(-H) });
    expect(acting(actions)).toEqual([]);
    expect(ofType(actions, 'warn').map((w) => w.message)).toEqual([
      `app web has had no Service since ${iso(-29)}: unless one labelled rainbow.dev/app=web comes back by ${iso(1)}, it counts as uninstalled and its colors drain and are deleted once drained (to keep one: kubectl annotate deployment <name> rainbow.dev/on-uninstall=keep)`,
    ]);
    const s = statesAt(deps(iso(-29)), at(0));
    expect(s.uninstall).toEqual({ noServiceSince: at(-29), uninstallAt: at(1), uninstalled: false });
    // What it was before the Service went: bbbbbb, which served last, kept; aaaaaa drained.
    expect(s.colors.map((c) => `${c.color}:${c.state}`)).toEqual(['bbbbbb:kept', 'aaaaaa:draining']);
  });

  it('the first reconcile without a Service records no-service-since on every Deployment (now), so that a restart does not start the grace over', () => {
    const d = [dep('aaaaaa', 1, { annotations: { 'rainbow.dev/served-at': iso(-H) } }), dep('eeeeee', 5)];
    const records = ofType(planAt(d, at(0)), 'record-color').map((r) => [r.color, r.annotations]);
    expect(records).toEqual([
      ['eeeeee', { 'rainbow.dev/no-service-since': iso(0) }],
      ['aaaaaa', { 'rainbow.dev/no-service-since': iso(0) }],
    ]);
    // Another Deployment is stamped with the app's earliest value, not its own time.
    const later2 = [dep('aaaaaa', 1, { annotations: { 'rainbow.dev/served-at': iso(-H), 'rainbow.dev/no-service-since': iso(-10) } }), dep('eeeeee', 5)];
    expect(ofType(planAt(later2, at(0)), 'record-color').map((r) => [r.color, r.annotations])).toEqual([['eeeeee', { 'rainbow.dev/no-service-since': iso(-10) }]]);
  });

  it('an app that never served (colors deployed ahead of any Service) is not uninstalled: new colors, nothing recorded, as before', () => {
    const d = [dep('aaaaaa', 1), dep('bbbbbb', 2)];
    const actions = planAt(d, at(H));
    expect(acting(actions)).toEqual([]);
    expect(ofType(actions, 'record-color')).toEqual([]);
    expect(ofType(actions, 'warn').map((w) => w.message)).toEqual([expect.stringContaining('has Deployments but no Service')]);
    expect(statesAt(d, at(H)).uninstall).toBeUndefined();
  });

  it('once uninstalled: the color that served is stamped at no-service-since, every color drains, none is kept, with an AppUninstalled Event each', () => {
    const actions = planAt(deps(iso(-30)), at(0), { aaaaaa: busy(1), bbbbbb: busy(2) });
    expect(acting(actions).map((a) => `${a.type}:${'color' in a ? a.color : ''}`)).toEqual([
      'announce-uninstall:bbbbbb',
      'stamp-drain-started:bbbbbb',
      'announce-uninstall:aaaaaa',
    ]);
    expect(ofType(actions, 'stamp-drain-started')[0]).toMatchObject({ at: at(-30), uninstalled: true });
    expect(ofType(actions, 'announce-uninstall')[0]!.message).toBe(
      `app web is uninstalled: no Service labelled rainbow.dev/app=web since ${iso(-30)}; color bbbbbb drains like a previous color, none kept: deleted once it has read 0 connections for 1m, or after max-drain 48h at the latest`,
    );
    expect(ofType(actions, 'announce-uninstall').map((a) => a.key)).toEqual([`uninstalled:${iso(-30)}`, `uninstalled:${iso(-30)}`]);
    const s = statesAt(deps(iso(-30)), at(0), { aaaaaa: busy(1), bbbbbb: busy(2) });
    expect(s.uninstall?.uninstalled).toBe(true);
    expect(s.settings.keepColors).toBe(0);
    expect(s.colors.map((c) => `${c.color}:${c.state}`)).toEqual(['bbbbbb:draining', 'aaaaaa:draining']);
    expect(s.warnings).toEqual([]);
  });

  it('drained colors of an uninstalled app are deleted after the drain-grace kept on their Deployments; max-drain too', () => {
    const stampedB = (o: object) => deps(iso(-H), o, { bbbbbb: { 'rainbow.dev/drain-started': iso(-H) } });
    expect(deletes(planAt(stampedB({ drainGraceSeconds: 5 }), at(0), { aaaaaa: zero(-5), bbbbbb: zero(-4) }))).toEqual(['aaaaaa:drained']);
    expect(deletes(planAt(stampedB({ drainGraceSeconds: 5 }), at(1), { aaaaaa: zero(-5), bbbbbb: zero(-4) }))).toEqual(['bbbbbb:drained', 'aaaaaa:drained']);
    // max-drain 1h from drain-started: bbbbbb (stamped an hour ago) goes with its connection; aaaaaa long before.
    expect(deletes(planAt(stampedB({ maxDrainSeconds: H }), at(0), { aaaaaa: busy(1), bbbbbb: busy(1) }))).toEqual(['bbbbbb:max-drain:force', 'aaaaaa:max-drain:force']);
    expect(deletes(planAt(stampedB({ maxDrainSeconds: H }), at(-1), { aaaaaa: busy(1), bbbbbb: busy(1) }))).toEqual(['aaaaaa:max-drain:force']);
    // Several Deployments' settings: the most patient wins, as with several Services.
    const mixed = stampedB({ drainGraceSeconds: 5 });
    mixed[0]!.metadata!.annotations!['rainbow.dev/drain-settings'] = SET({ drainGraceSeconds: 600 });
    expect(deletes(planAt(mixed, at(0), { aaaaaa: zero(-5), bbbbbb: zero(-5) }))).toEqual([]);
  });

  it('a color annotated rainbow.dev/on-uninstall: keep is kept (stamped, never deleted); any other value than keep or drain keeps it, with a warning', () => {
    const d = deps(iso(-H), {}, { bbbbbb: { 'rainbow.dev/drain-started': iso(-H), 'rainbow.dev/on-uninstall': 'keep' }, aaaaaa: { 'rainbow.dev/on-uninstall': 'drain' } });
    expect(statesAt(d, at(0), { aaaaaa: zero(-H), bbbbbb: zero(-H) }).colors.map((c) => `${c.color}:${c.state}`)).toEqual(['bbbbbb:kept', 'aaaaaa:drained']);
    expect(deletes(planAt(d, at(0), { aaaaaa: zero(-H), bbbbbb: zero(-H) }))).toEqual(['aaaaaa:drained']);
    d[1]!.metadata!.annotations!['rainbow.dev/on-uninstall'] = 'yes please';
    const actions = planAt(d, at(0), { aaaaaa: zero(-H), bbbbbb: zero(-H) });
    expect(deletes(actions)).toEqual(['aaaaaa:drained']);
    expect(ofType(actions, 'warn').map((w) => w.message)).toEqual([expect.stringContaining('rainbow.dev/on-uninstall="yes please" is neither keep nor drain; keeping the color')]);
  });

  it('a color deployed after the last Service went is new (the next install may bring its Service), and the settings are defaults without any kept', () => {
    const d = [...deps(iso(-H)), dep('eeeeee', 5)];
    d[2]!.metadata!.creationTimestamp = at(-60) as unknown as Date;
    const s = statesAt(d, at(0));
    expect(s.colors.map((c) => `${c.color}:${c.state}`)).toEqual(['eeeeee:new', 'bbbbbb:draining', 'aaaaaa:draining']);
    const actions = planAt(d, at(0));
    expect(acting(actions).filter((a) => 'color' in a && a.color === 'eeeeee')).toEqual([]);
    // Without rainbow.dev/drain-settings anywhere: the defaults (drain-grace 60s, max-drain 48h).
    const bare = [dep('bbbbbb', 2, { annotations: { 'rainbow.dev/served-at': iso(-H), 'rainbow.dev/no-service-since': iso(-H) } })];
    expect(statesAt(bare, at(0)).settings).toEqual({ keepColors: 0, drainGraceSeconds: 60, maxDrainSeconds: 48 * H, shrink: true });
  });

  it('a Service that comes back within the grace (helm upgrade, kubectl replace): no-service-since goes, nothing drains', () => {
    const back = [service({ color: 'bbbbbb', annotations: keep(1) })];
    const actions = planApp({ app: 'web', namespace: NS, services: back, deployments: deps(iso(-10)), drain: new Map([['aaaaaa', zero(-H)]]), now: at(0) });
    expect(acting(actions).map((a) => a.type)).toEqual([]);
    expect(ofType(actions, 'record-color').map((r) => [r.color, r.annotations])).toEqual([
      ['bbbbbb', { 'rainbow.dev/no-service-since': null }],
      ['aaaaaa', { 'rainbow.dev/no-service-since': null }],
    ]);
    expect(states(back, deps(iso(-10)), { aaaaaa: zero(-H) })).toEqual({ bbbbbb: 'serving', aaaaaa: 'kept' });
  });
});

describe('what the controller records on a color (so that a restart decides the same)', () => {
  const svc = (extra: Record<string, string> = {}) => service({ color: 'bbbbbb', annotations: { ...keep(0), 'rainbow.dev/drain-grace': '60s', ...extra } });
  const SETTINGS = JSON.stringify({ keepColors: 0, drainGraceSeconds: 60, maxDrainSeconds: 48 * H, shrink: true });
  const records = (actions: Action[]) => [
    ...ofType(actions, 'record-color').map((r) => [r.color, r.annotations]),
    ...ofType(actions, 'stamp-drain-started').filter((r) => r.annotations).map((r) => [`${r.color} (stamp)`, r.annotations]),
  ];
  const round = (services: V1Service[], deployments: V1Deployment[], drain: Record<string, DrainObservation> = {}, now = at(0)) =>
    planApp({ app: 'web', namespace: NS, services, deployments, drain: new Map(Object.entries(drain)), now, drainRound: true });

  it('served-at once, when a color is first seen serving, with the settings; drain-settings again only when they change; nothing on a new color', () => {
    expect(records(plan([svc()], [dep('bbbbbb', 2), dep('cccccc', 3)]))).toEqual([['bbbbbb', { 'rainbow.dev/served-at': iso(0), 'rainbow.dev/drain-settings': SETTINGS }]]);
    const written = dep('bbbbbb', 2, { annotations: { 'rainbow.dev/served-at': iso(-H), 'rainbow.dev/drain-settings': SETTINGS } });
    expect(records(plan([svc()], [written, dep('cccccc', 3)]))).toEqual([]);
    expect(records(plan([svc({ 'rainbow.dev/max-drain': '1h' })], [written]))).toEqual([
      ['bbbbbb', { 'rainbow.dev/drain-settings': JSON.stringify({ keepColors: 0, drainGraceSeconds: 60, maxDrainSeconds: H, shrink: true }) }],
    ]);
    // A Service without a color in its selector: every color "serves" it; none is recorded as served.
    expect(records(plan([service({ annotations: keep(0) })], [dep('bbbbbb', 2)])).map(([, a]) => Object.keys(a!))).toEqual([['rainbow.dev/drain-settings']]);
  });

  it('a previous color is stamped with its settings in the same patch', () => {
    expect(records(plan([svc()], [dep('aaaaaa', 1, { annotations: { 'rainbow.dev/served-at': iso(-H) } }), dep('bbbbbb', 2, { annotations: { 'rainbow.dev/served-at': iso(-H), 'rainbow.dev/drain-settings': SETTINGS } })]))).toEqual([
      ['aaaaaa (stamp)', { 'rainbow.dev/drain-settings': SETTINGS }],
    ]);
  });

  it('a color that served and stopped is previous after a restart too (served-at), though newer than the serving one: a rollback needs no memory', () => {
    const d = [dep('aaaaaa', 1, { annotations: { 'rainbow.dev/served-at': iso(-2 * H) } }), dep('bbbbbb', 2, { annotations: { 'rainbow.dev/served-at': iso(-H) } })];
    const back = service({ color: 'aaaaaa', annotations: keep(0) });
    expect(states([back], d)).toEqual({ aaaaaa: 'serving', bbbbbb: 'draining' });
    expect(ofType(plan([back], d), 'stamp-drain-started').map((a) => a.color)).toEqual(['bbbbbb']);
  });

  it('zero-since on a draining color when its 0-streak starts (rounded up to the second), once; removed when it ends, or when the color serves again', () => {
    const d = (zs?: string) => [stamped('aaaaaa', 1, iso(-H), { annotations: { 'rainbow.dev/drain-started': iso(-H), 'rainbow.dev/drain-settings': SETTINGS, ...(zs ? { 'rainbow.dev/zero-since': zs } : {}) } }), dep('bbbbbb', 2, { annotations: { 'rainbow.dev/served-at': iso(-H), 'rainbow.dev/drain-settings': SETTINGS } })];
    expect(records(round([svc()], d(), { aaaaaa: zero(-10.2) }))).toEqual([['aaaaaa', { 'rainbow.dev/zero-since': iso(-10) }]]);
    expect(records(round([svc()], d(iso(-10)), { aaaaaa: zero(-10.2) }))).toEqual([]);
    expect(records(round([svc()], d(iso(-10)), { aaaaaa: busy(1) }))).toEqual([['aaaaaa', { 'rainbow.dev/zero-since': null }]]);
    expect(records(round([svc()], d(iso(-10)), { aaaaaa: { lastCount: 0, unknown: 'pod x: timeout', observedAt: at(0) } }))).toEqual([['aaaaaa', { 'rainbow.dev/zero-since': null }]]);
    // Only in a drain round (a reconcile between rounds plans with older counts) …
    expect(records(plan([svc()], d(iso(-10)), { aaaaaa: busy(1) }))).toEqual([]);
    // … except that a color that is not on its way out loses it on any reconcile.
    expect(records(plan([service({ color: 'aaaaaa', annotations: keep(0) })], d(iso(-10))))).toEqual([
      ['aaaaaa', { 'rainbow.dev/served-at': iso(0), 'rainbow.dev/zero-since': null }],
    ]);
    // No record for a color that is deleted now.
    expect(records(round([svc()], d(), { aaaaaa: zero(-60) }))).toEqual([]);
    expect(deletes(round([svc()], d(), { aaaaaa: zero(-60) }))).toEqual(['aaaaaa:drained']);
  });

  it('a controller without an observation resumes the 0-streak from zero-since; one with an observation keeps its own', () => {
    expect(nextObservation(undefined, { count: 0 }, at(0), at(-50))).toEqual({ lastCount: 0, zeroSince: at(-50), observedAt: at(0) });
    expect(nextObservation(undefined, { count: 1 }, at(0), at(-50))).toEqual({ lastCount: 1, observedAt: at(0) });
    expect(nextObservation(undefined, { count: 0, unknown: 'x' }, at(0), at(-50)).zeroSince).toBeUndefined();
    expect(nextObservation(undefined, { count: 0 }, at(0), at(50)).zeroSince).toEqual(at(0)); // not from the future
    expect(nextObservation({ lastCount: 2, observedAt: at(-1) }, { count: 0 }, at(0), at(-50)).zeroSince).toEqual(at(0));
  });
});

describe('the controller\'s finalizer on a delete', () => {
  const svc = service({ color: 'bbbbbb', annotations: keep(0) });
  it('a Deployment it deleted and that is still there (deleting) gets its Deleted Event and loses the finalizer, whichever controller sees it', () => {
    const d = dep('aaaaaa', 1, { deleting: true });
    d.metadata!.finalizers = ['other/keep', 'rainbow.dev/deleted-max-drain'];
    expect(acting(plan([svc], [d, dep('bbbbbb', 2)]))).toEqual([
      { type: 'finish-delete', color: 'aaaaaa', deployment: { name: 'web-aaaaaa', namespace: NS, uid: 'uid-web-aaaaaa' }, reason: 'max-drain', finalizers: ['other/keep'] },
    ]);
    // Deleting for another reason (a user's delete): nothing to finish.
    expect(acting(plan([svc], [dep('aaaaaa', 1, { deleting: true }), dep('bbbbbb', 2)]))).toEqual([]);
  });

  it('one left on a Deployment that was not deleted (the delete refused, the controller gone before taking it off) is taken off', () => {
    const d = stamped('aaaaaa', 1, iso(-H));
    d.metadata!.finalizers = ['rainbow.dev/deleted-drained'];
    const records = ofType(plan([svc], [d, dep('bbbbbb', 2)], { aaaaaa: busy(1) }), 'record-color').filter((r) => r.finalizers);
    expect(records.map((r) => [r.color, r.finalizers])).toEqual([['aaaaaa', []]]);
  });

  it('a delete carries the finalizers and resourceVersion read, without any of the controller\'s, and nothing is tidied on the color just before', () => {
    const d = stamped('aaaaaa', 1, iso(-H), { annotations: { 'rainbow.dev/drain-started': iso(-H), 'rainbow.dev/drain-forecast': '{"unknown":"1 sample","computedAt":"2025-11-26T09:00:00Z"}' } });
    d.metadata!.resourceVersion = '42';
    const actions = acting(plan([svc], [d, dep('bbbbbb', 2)], { aaaaaa: zero(-H) }));
    expect(actions.filter((a) => 'color' in a && a.color === 'aaaaaa').map((a) => a.type)).toEqual(['delete']);
    expect(ofType(actions, 'delete')[0]).toMatchObject({ finalizers: [], resourceVersion: '42' });
  });
});
