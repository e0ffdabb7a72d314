// Which Events the dashboard lists for an app: the rainbow controller's, about the app's objects, newest first.
import type { CoreV1Event } from '@kubernetes/client-node';
import { EVENTS_PER_APP, eventTime, eventsOfApp, involvesApp, isRainbowEvent, type AppObjects } from '../../../webhook/src/status/dashboard/events.js';

const web: AppObjects = { namespace: 'shop', app: 'web', services: ['web'], deployments: ['web-43c26a'], colors: ['43c26a', '0a3d62'] };

let n = 0;
function ev(o: { kind?: string; name: string; ns?: string; reason?: string; at?: string; component?: 'reporting' | 'source' | 'other'; count?: number }): CoreV1Event {
  const at = o.at ?? '2026-03-01T12:00:00Z';
  const e: CoreV1Event = {
    metadata: { name: `${o.name}.${(n++).toString(16)}`, namespace: o.ns ?? 'shop' },
    involvedObject: { kind: o.kind ?? 'Deployment', name: o.name, namespace: o.ns ?? 'shop' },
    reason: o.reason ?? 'DrainStarted',
    message: `about ${o.name}`,
    type: 'Normal',
    firstTimestamp: at as unknown as Date,
    lastTimestamp: at as unknown as Date,
    count: o.count ?? 1,
  };
  if ((o.component ?? 'reporting') === 'reporting') e.reportingComponent = 'rainbow-controller';
  else if (o.component === 'source') e.source = { component: 'rainbow-controller' };
  else e.source = { component: 'deployment-controller' };
  return e;
}

describe('dashboard Events selection', () => {
  it('takes the controller’s Events, by reportingComponent or by source.component', () => {
    expect(isRainbowEvent(ev({ name: 'web-43c26a' }))).toBe(true);
    expect(isRainbowEvent(ev({ name: 'web-43c26a', component: 'source' }))).toBe(true);
    expect(isRainbowEvent(ev({ name: 'web-43c26a', component: 'other' }))).toBe(false);
  });

  it('about the app’s Services and its colors’ Deployments, deleted ones included, in its namespace only', () => {
    expect(involvesApp(ev({ kind: 'Service', name: 'web' }), web)).toBe(true);
    expect(involvesApp(ev({ kind: 'Service', name: 'other' }), web)).toBe(false);
    expect(involvesApp(ev({ name: 'web-43c26a' }), web)).toBe(true);
    expect(involvesApp(ev({ name: 'web-0a3d62' }), web)).toBe(true); // a color seen earlier, its Deployment deleted since
    expect(involvesApp(ev({ name: 'web-ffffff' }), web)).toBe(true); // never seen, named as the chart names colors
    expect(involvesApp(ev({ name: 'web-api-1a2b3c' }), web)).toBe(false); // app web-api's color
    expect(involvesApp(ev({ name: 'web-' }), web)).toBe(false);
    expect(involvesApp(ev({ name: 'web-43c26a', ns: 'other' }), web)).toBe(false);
    expect(involvesApp(ev({ kind: 'Pod', name: 'web-43c26a' }), web)).toBe(false);
  });

  it('lists the newest first, at most ten, with what the page shows', () => {
    const events = [
      ...Array.from({ length: 14 }, (_, i) => ev({ name: 'web-43c26a', reason: `R${i}`, at: new Date(Date.parse('2026-03-01T12:00:00Z') + i * 1000).toISOString() })),
      ev({ name: 'web-43c26a', reason: 'NotOurs', component: 'other', at: '2026-03-01T13:00:00Z' }),
      ev({ name: 'api-feed42', reason: 'OtherApp', at: '2026-03-01T13:00:00Z' }),
    ];
    const listed = eventsOfApp(events, web);
    expect(EVENTS_PER_APP).toBe(10);
    expect(listed.map((e) => e.reason)).toEqual(['R13', 'R12', 'R11', 'R10', 'R9', 'R8', 'R7', 'R6', 'R5', 'R4']);
    expect(listed[0]).toEqual({ at: '2026-03-01T12:00:13.000Z', type: 'Normal', reason: 'R13', kind: 'Deployment', object: 'web-43c26a', message: 'about web-43c26a', count: 1 });
    expect(eventsOfApp(events, web, 2)).toHaveLength(2);
  });

  it('an Event’s time is its latest: series, lastTimestamp, eventTime, firstTimestamp, creation', () => {
    const e = ev({ name: 'web-43c26a', at: '2026-03-01T12:00:00Z' });
    expect(eventTime(e)?.toISOString()).toBe('2026-03-01T12:00:00.000Z');
    e.series = { count: 3, lastObservedTime: '2026-03-01T12:05:00Z' as unknown as Date };
    expect(eventTime(e)?.toISOString()).toBe('2026-03-01T12:05:00.000Z');
    const bare: CoreV1Event = { metadata: { creationTimestamp: '2026-03-01T11:00:00Z' as unknown as Date }, involvedObject: {} };
    expect(eventTime(bare)?.toISOString()).toBe('2026-03-01T11:00:00.000Z');
    expect(eventsOfApp([{ ...e, count: 1 }], web)[0]!.count).toBe(3);
  });
});
