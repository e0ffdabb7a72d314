// The dashboard's sampling loop with a fake collector: what it records, what it tells listeners,
// and what it says when the cluster cannot be read.
import type { CoreV1Event } from '@kubernetes/client-node';
import { DashboardFeed, describeReadError } from '../../../webhook/src/status/dashboard/feed.js';
import type { StatusReport } from '../../../webhook/src/status/model.js';
import { NS, OLD, SERVING, fakeReport } from './dashboard-fixture.js';

const T0 = Date.parse('2026-03-01T12:00:00Z');

function scripted(steps: Array<StatusReport | Error>) {
  let i = 0;
  return async () => {
    const s = steps[Math.min(i++, steps.length - 1)]!;
    if (s instanceof Error) throw s;
    return s;
  };
}

const forbidden = Object.assign(new Error('HTTP-Code: 403'), { code: 403, body: JSON.stringify({ kind: 'Status', message: 'services is forbidden: User "dev" cannot list resource "services" in API group "" in the namespace "shop"' }) });

describe('dashboard feed', () => {
  it('records each color’s connections per read and charts them by app', async () => {
    const feed = new DashboardFeed({
      collect: scripted([fakeReport(new Date(T0), { serving: 2, old: 3 }), fakeReport(new Date(T0 + 2000), { serving: 4, old: 1 })]),
      intervalMs: 2000,
      scope: `namespace ${NS}`,
    });
    await feed.tick();
    await feed.tick();
    const s = feed.series('5m', `${NS}/web`);
    expect(s.from).toBe(T0 + 2000 - 300_000);
    expect(s.apps[`${NS}/web`]!.t).toEqual([T0, T0 + 2000]);
    expect(s.apps[`${NS}/web`]!.series.map((x) => [x.color, x.css, x.values])).toEqual([
      [OLD, `#${OLD}`, [3, 1]],
      [SERVING, `#${SERVING}`, [2, 4]],
      ['b2c3d4', '#b2c3d4', [0, 0]],
    ]);
    // Unknown counts are gaps.
    expect(feed.series('all', `${NS}/api`).apps[`${NS}/api`]!.series[0]!.values).toEqual([null, null]);
    expect(Object.keys(feed.series('all').apps).sort()).toEqual([`${NS}/api`, `${NS}/web`]);
  });

  it('hands every new snapshot to its listeners until they unsubscribe', async () => {
    const feed = new DashboardFeed({ collect: scripted([fakeReport(new Date(T0), { serving: 1 })]), intervalMs: 2000, scope: '' });
    const seen: string[] = [];
    const off = feed.subscribe((s) => seen.push(s.generatedAt ?? 'none'));
    await feed.tick();
    off();
    await feed.tick();
    expect(seen).toEqual([new Date(T0).toISOString()]);
    expect(feed.snapshot().apps.map((a) => a.app)).toEqual(['api', 'web']);
  });

  it('when a read fails: keeps the last good apps, says what happened and what to do, and says when it works again', async () => {
    const told: Array<string | undefined> = [];
    const feed = new DashboardFeed({
      collect: scripted([fakeReport(new Date(T0), { serving: 1 }), forbidden, forbidden, fakeReport(new Date(T0 + 6000), { serving: 1 })]),
      intervalMs: 2000,
      scope: '',
      onReadError: (m) => told.push(m),
    });
    await feed.tick();
    const failed = await feed.tick();
    expect(failed.apps.map((a) => a.app)).toEqual(['api', 'web']);
    expect(failed.generatedAt).toBe(new Date(T0).toISOString());
    expect(failed.error).toMatch(/^cannot read the rainbow apps: forbidden \(403 services is forbidden: .*\); the dashboard needs list on services, deployments, pods and events, and get on pods\/proxy/);
    await feed.tick();
    const back = await feed.tick();
    expect(back.error).toBeUndefined();
    expect(told).toEqual([failed.error, undefined]); // once per change, not per read
  });

  it('before any read succeeded: no apps, the error', async () => {
    const feed = new DashboardFeed({ collect: scripted([Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' })]), intervalMs: 2000, scope: '' });
    const s = await feed.tick();
    expect(feed.hasData()).toBe(false);
    expect(s.apps).toEqual([]);
    expect(s.error).toMatch(/the API server is not reachable \(ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:6443\); check that the cluster is up/);
  });

  it('lists the app’s rainbow Events, the deleted color’s included, and says when Events cannot be read', async () => {
    const deleted: CoreV1Event = {
      metadata: { name: 'x.1', namespace: NS },
      involvedObject: { kind: 'Deployment', name: `web-${OLD}`, namespace: NS },
      reason: 'Deleted',
      message: `Deployment web-${OLD} (color ${OLD}) deleted: drained`,
      type: 'Normal',
      lastTimestamp: new Date(T0 + 2000),
      reportingComponent: 'rainbow-controller',
    };
    let fail = false;
    const feed = new DashboardFeed({
      collect: scripted([fakeReport(new Date(T0), { serving: 1, old: 0 }), fakeReport(new Date(T0 + 2000), { serving: 1 })]),
      listEvents: async () => {
        if (fail) throw forbidden;
        return [deleted];
      },
      intervalMs: 2000,
      scope: '',
    });
    await feed.tick();
    const s = await feed.tick();
    const web = s.apps.find((a) => a.app === 'web')!;
    expect(web.colors.map((c) => c.color)).not.toContain(OLD);
    expect(web.events.map((e) => e.reason)).toEqual(['Deleted']);
    fail = true;
    const after = await feed.tick();
    expect(after.apps.find((a) => a.app === 'web')!.eventsError).toMatch(/^cannot list the rainbow Events: forbidden \(403/);
  });

  it('gives a forecast function the color’s known counts since a time, and shows what it says', async () => {
    const asked: Array<[string, Array<{ at: number; count: number }>]> = [];
    const feed = new DashboardFeed({
      collect: scripted([4, 3, 2].map((old, i) => fakeReport(new Date(T0 + i * 2000), { serving: 1, old }))),
      intervalMs: 2000,
      scope: '',
      forecast: ({ app, color, samples }) => {
        if (app.app !== 'web' || color.state !== 'draining') return undefined;
        const s = samples(T0 + 1000);
        asked.push([color.color, s]);
        return `in ${s.length} samples`;
      },
    });
    await feed.tick();
    await feed.tick();
    const s = await feed.tick();
    expect(asked.at(-1)).toEqual([OLD, [{ at: T0 + 2000, count: 3 }, { at: T0 + 4000, count: 2 }]]);
    expect(s.apps.find((a) => a.app === 'web')!.colors.map((c) => c.forecast)).toEqual([undefined, undefined, 'in 2 samples']);
  });

  it('start() reads at once and then every interval; stop() ends it', async () => {
    let reads = 0;
    const feed = new DashboardFeed({ collect: async () => (reads++, fakeReport(new Date(T0 + reads * 1000), { serving: 1 })), intervalMs: 50, scope: '' });
    feed.start();
    await new Promise((r) => setTimeout(r, 180));
    await feed.stop();
    const after = reads;
    expect(after).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 120));
    expect(reads).toBe(after);
  });

  it('describes 401s and other failures with what to do', () => {
    expect(describeReadError(Object.assign(new Error('x'), { code: 401, body: '{"message":"Unauthorized"}' }))).toBe(
      'cannot read the rainbow apps: the API server refused the credentials (401 Unauthorized); log in again or pass --kubeconfig',
    );
    expect(describeReadError(new Error('boom'))).toBe('cannot read the rainbow apps: boom');
  });
});
