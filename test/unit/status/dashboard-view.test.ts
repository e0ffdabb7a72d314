// The JSON the dashboard page renders, from a status report built by the real model.
import { COLOR_STATES, COLOR_STATE_MEANINGS } from '../../../webhook/src/domain/color-states.js';
import { snapshotView } from '../../../webhook/src/status/dashboard/view.js';
import { NS, OLD, PENDING, SERVING, fakeReport } from './dashboard-fixture.js';
import { buildStatus } from '../../../webhook/src/status/model.js';
import { deployment } from '../../support/builders.js';

const NOW = new Date('2026-03-01T12:00:00Z');

describe('dashboard snapshot view', () => {
  const view = snapshotView({ report: fakeReport(NOW, { serving: 2, old: 1 }), events: new Map(), intervalMs: 2000, scope: `namespace ${NS}` });

  it('lists the states with their meanings from color-states.ts', () => {
    expect(view.states.map((s) => s.name)).toEqual([...COLOR_STATES]);
    expect(view.states.every((s) => s.meaning === COLOR_STATE_MEANINGS[s.name])).toBe(true);
    expect(view.windows).toEqual(['5m', '15m', '1h', '6h', 'all']);
    expect(view.generatedAt).toBe(NOW.toISOString());
  });

  it('gives every color of an app its swatch color, state, pods, connections and drain times', () => {
    const web = view.apps.find((a) => a.app === 'web')!;
    expect(web.key).toBe(`${NS}/web`);
    expect(web.services).toEqual([{ name: 'web', color: SERVING, pendingColor: PENDING }]);
    expect(web.connections).toBe(3);
    expect(web.colors.map((c) => [c.color, c.css, c.state])).toEqual([
      [SERVING, `#${SERVING}`, 'serving'],
      [PENDING, `#${PENDING}`, 'pending'],
      [OLD, `#${OLD}`, 'draining'],
    ]);
    const old = web.colors.find((c) => c.color === OLD)!;
    expect(old).toMatchObject({ readyReplicas: 2, desiredReplicas: 2, connections: 1, drainStartedAt: '2026-03-01T11:50:00.000Z', drainDeadline: '2026-03-03T11:50:00.000Z', drainLeft: '47h', age: '120m', deployment: `web-${OLD}` });
    expect(old.forecast).toBeUndefined();
    expect(web.colors.find((c) => c.color === PENDING)).toMatchObject({ readyReplicas: 0, desiredReplicas: 2, available: false });
    expect(web.colors.find((c) => c.color === SERVING)!.drainLeft).toBeUndefined();
  });

  it('says why connections are unknown, and leaves the app total out when no count is known', () => {
    const api = view.apps.find((a) => a.app === 'api')!;
    expect(api.colors[0]!.connections).toBeUndefined();
    expect(api.colors[0]!.connectionsError).toMatch(/timeout after 2000 ms/);
    expect(api.connections).toBeUndefined();
  });

  it('a color of an uninstalled app shows `draining (app uninstalled)`; others show their state alone', () => {
    expect(view.apps.flatMap((a) => a.colors).every((c) => c.stateLabel === undefined)).toBe(true);
    const report = buildStatus({
      services: [],
      deployments: [deployment({ color: OLD, annotations: { 'rainbow.dev/served-at': '2026-03-01T10:00:00Z', 'rainbow.dev/no-service-since': '2026-03-01T11:00:00Z' } })],
      probes: new Map([[`${NS}/web`, new Map([[OLD, { count: 1 }]])]]),
      now: NOW,
    });
    const gone = snapshotView({ report, events: new Map(), intervalMs: 2000, scope: '' });
    expect(gone.apps[0]!.colors.map((c) => [c.state, c.stateLabel])).toEqual([['draining', 'draining (app uninstalled)']]);
  });

  it('a past deadline reads overdue', () => {
    const report = { ...fakeReport(NOW, { serving: 0, old: 1 }), generatedAt: new Date('2026-03-04T12:00:00Z') };
    const later = snapshotView({ report, events: new Map(), intervalMs: 2000, scope: '' });
    expect(later.apps.find((a) => a.app === 'web')!.colors.find((c) => c.color === OLD)!.drainLeft).toBe('overdue');
  });

  it('fills in the forecast only where the forecast function says something', () => {
    const v = snapshotView({
      report: fakeReport(NOW, { serving: 2, old: 1 }),
      events: new Map(),
      intervalMs: 2000,
      scope: '',
      forecast: ({ color }) => (color.state === 'draining' ? 'drained in about 5m' : undefined),
    });
    const colors = v.apps.find((a) => a.app === 'web')!.colors;
    expect(colors.map((c) => c.forecast)).toEqual([undefined, undefined, 'drained in about 5m']);
  });

  it('attaches each app’s Events and, per namespace or for all, why they could not be read', () => {
    const ev = { at: NOW.toISOString(), type: 'Normal', reason: 'Promoted', kind: 'Service', object: 'web', message: 'm', count: 1 };
    const v = snapshotView({ report: fakeReport(NOW, { serving: 1 }), events: new Map([[`${NS}/web`, [ev]]]), eventsErrors: new Map([['*', 'cannot list the rainbow Events: forbidden']]), intervalMs: 2000, scope: '' });
    expect(v.apps.find((a) => a.app === 'web')!.events).toEqual([ev]);
    expect(v.apps.find((a) => a.app === 'api')!.events).toEqual([]);
    expect(v.apps.every((a) => a.eventsError === 'cannot list the rainbow Events: forbidden')).toBe(true);
  });

  it('before the first read: no apps, no time, the error if there is one', () => {
    const v = snapshotView({ report: undefined, events: new Map(), intervalMs: 2000, scope: 'all namespaces', error: 'cannot read the rainbow apps: x' });
    expect(v).toMatchObject({ apps: [], scope: 'all namespaces', error: 'cannot read the rainbow apps: x', kind: 'DashboardSnapshot' });
    expect(v.generatedAt).toBeUndefined();
  });
});
