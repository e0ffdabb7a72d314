// Events as the controller writes them, and the memory that keeps warnings and Events from repeating.
import type { CoreV1Event } from '@kubernetes/client-node';
import {
  REANNOUNCE_AFTER_MS,
  REPORTING_COMPONENT,
  announcementDue,
  buildEvent,
  createEventRecorder,
  firstAnnouncement,
  firstWarning,
  forgetAnnouncements,
  newDedupe,
  type EventSpec,
} from '../../../webhook/src/controller/events.js';
import { createLogger } from '../../../webhook/src/runtime/log.js';

const AT = new Date('2025-11-26T10:00:00Z');
const deploymentEvent: EventSpec = {
  target: { name: 'web-bbbbbb', namespace: 'shop', uid: 'uid-web-bbbbbb' },
  type: 'Normal',
  reason: 'DrainStarted',
  message: 'color bbbbbb serves no Service',
  action: 'Drain',
};

describe('buildEvent', () => {
  it('describes a Deployment, with its uid, as this replica', () => {
    expect(buildEvent(deploymentEvent, AT, 7, 'controller-1')).toEqual({
      metadata: { name: `web-bbbbbb.${(BigInt(AT.getTime()) * 1_000_000n + 7n).toString(16)}`, namespace: 'shop' },
      involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-bbbbbb', namespace: 'shop', uid: 'uid-web-bbbbbb' },
      reason: 'DrainStarted',
      message: 'color bbbbbb serves no Service',
      type: 'Normal',
      action: 'Drain',
      count: 1,
      firstTimestamp: AT,
      lastTimestamp: AT,
      source: { component: 'rainbow-controller', host: 'controller-1' },
      reportingComponent: 'rainbow-controller',
      reportingInstance: 'controller-1',
    });
    expect(REPORTING_COMPONENT).toBe('rainbow-controller');
  });

  it('describes a Service as v1, and a Deployment without uid without one', () => {
    const svc = buildEvent({ ...deploymentEvent, target: { kind: 'Service', name: 'web', namespace: 'shop' } }, AT, 0, 'c');
    expect(svc.involvedObject).toEqual({ apiVersion: 'v1', kind: 'Service', name: 'web', namespace: 'shop' });
    const noUid = buildEvent({ ...deploymentEvent, target: { name: 'web-bbbbbb', namespace: 'shop' } }, AT, 0, 'c');
    expect(noUid.involvedObject).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-bbbbbb', namespace: 'shop' });
  });

  it('names Events of the same millisecond apart by their sequence number, which wraps', () => {
    const name = (seq: number) => buildEvent(deploymentEvent, AT, seq, 'c').metadata.name;
    const base = BigInt(AT.getTime()) * 1_000_000n;
    expect(name(0)).toBe(`web-bbbbbb.${base.toString(16)}`);
    expect(name(1)).toBe(`web-bbbbbb.${(base + 1n).toString(16)}`);
    expect(name(1_000_001)).toBe(name(1));
  });

  it('keeps a message up to 1000 characters whole and cuts a longer one with an ellipsis', () => {
    expect(buildEvent({ ...deploymentEvent, message: 'x'.repeat(1000) }, AT, 0, 'c').message).toBe('x'.repeat(1000));
    const cut = buildEvent({ ...deploymentEvent, message: 'x'.repeat(1001) }, AT, 0, 'c').message!;
    expect(cut).toBe(`${'x'.repeat(999)}…`);
    expect(cut).toHaveLength(1000);
  });
});

describe('createEventRecorder', () => {
  it('creates each Event in its object namespace, numbering them, and swallows a failure', async () => {
    const created: Array<{ namespace: string; event: CoreV1Event }> = [];
    let fail = false;
    const recorder = createEventRecorder({
      api: {
        async createEvent(namespace, event) {
          if (fail) throw Object.assign(new Error('forbidden'), { code: 403 });
          created.push({ namespace, event });
        },
      },
      identity: 'controller-1',
      now: () => AT,
      log: createLogger({ name: 'test', level: 'silent' }),
    });
    await recorder.record(deploymentEvent);
    fail = true;
    await expect(recorder.record(deploymentEvent)).resolves.toBeUndefined();
    fail = false;
    await recorder.record({ ...deploymentEvent, target: { kind: 'Service', name: 'web', namespace: 'other' } });
    expect(created.map((c) => c.namespace)).toEqual(['shop', 'other']);
    expect(created.map((c) => c.event)).toEqual([buildEvent(deploymentEvent, AT, 0, 'controller-1'), buildEvent({ ...deploymentEvent, target: { kind: 'Service', name: 'web', namespace: 'other' } }, AT, 2, 'controller-1')]);
  });
});

describe('dedupe', () => {
  it('firstWarning is true once per message', () => {
    const d = newDedupe();
    expect(firstWarning(d, 'bad annotation')).toBe(true);
    expect(firstWarning(d, 'bad annotation')).toBe(false);
    expect(firstWarning(d, 'odd clock')).toBe(true);
    expect([...d.warned]).toEqual(['bad annotation', 'odd clock']);
  });

  it('firstWarning starts over once it remembers more than 200 messages', () => {
    const d = newDedupe();
    for (let i = 0; i <= 200; i++) expect(firstWarning(d, `w${i}`)).toBe(true);
    expect(d.warned.size).toBe(201);
    expect(firstWarning(d, 'w0')).toBe(false);
    expect(firstWarning(d, 'w201')).toBe(true); // one past the limit: the memory starts over with it
    expect([...d.warned]).toEqual(['w201']);
    expect(firstWarning(d, 'w0')).toBe(true);
  });

  it('firstAnnouncement is true once per key, until forgotten', () => {
    const d = newDedupe();
    expect(firstAnnouncement(d, 'uid-1:Drained', 1000)).toBe(true);
    expect(firstAnnouncement(d, 'uid-1:Drained', 1000 + 10 * REANNOUNCE_AFTER_MS)).toBe(false);
    expect(firstAnnouncement(d, 'uid-1:DrainDeadlineExceeded', 2000)).toBe(true);
    expect([...d.announced]).toEqual([
      ['uid-1:Drained', 1000],
      ['uid-1:DrainDeadlineExceeded', 2000],
    ]);
  });

  it('announcementDue is true again exactly when the window has passed since the last one', () => {
    const d = newDedupe();
    expect(REANNOUNCE_AFTER_MS).toBe(600_000);
    expect(announcementDue(d, 'uid-1:shrink-refused', 0)).toBe(true);
    expect(announcementDue(d, 'uid-1:shrink-refused', 599_999)).toBe(false);
    expect(announcementDue(d, 'uid-1:shrink-refused', 600_000)).toBe(true);
    expect(announcementDue(d, 'uid-1:shrink-refused', 1_199_999)).toBe(false);
    expect(announcementDue(d, 'uid-1:shrink-refused', 1_200_000)).toBe(true);
    expect(announcementDue(d, 'uid-2:shrink-refused', 1_200_001)).toBe(true);
    expect(announcementDue(d, 'k', 0, 10)).toBe(true);
    expect(announcementDue(d, 'k', 9, 10)).toBe(false);
    expect(announcementDue(d, 'k', 10, 10)).toBe(true);
  });

  it("forgetAnnouncements forgets one object's keys only", () => {
    const d = newDedupe();
    firstAnnouncement(d, 'uid-1:Drained', 1);
    announcementDue(d, 'uid-1:refused:denied', 2);
    firstAnnouncement(d, 'uid-10:Drained', 3);
    firstAnnouncement(d, 'uid-2:Drained', 4);
    forgetAnnouncements(d, 'uid-1');
    expect([...d.announced.keys()]).toEqual(['uid-10:Drained', 'uid-2:Drained']);
    expect(firstAnnouncement(d, 'uid-1:Drained', 5)).toBe(true);
  });
});

describe('Events said once per object (key)', () => {
  const once: EventSpec = { ...deploymentEvent, reason: 'Drained', key: 'Drained' };

  it('are named after the object\'s uid and the key, the same in every process and at every time', () => {
    const a = buildEvent(once, AT, 0, 'controller-1').metadata.name;
    expect(a).toMatch(/^web-bbbbbb\.drained-[0-9a-f]{16}$/);
    expect(buildEvent(once, new Date(AT.getTime() + 3600_000), 9, 'controller-2').metadata.name).toBe(a);
    // Another incarnation of the Deployment (another uid), or another key: another name.
    expect(buildEvent({ ...once, target: { ...once.target, uid: 'uid-2' } }, AT, 0, 'c').metadata.name).not.toBe(a);
    expect(buildEvent({ ...once, key: 'uninstalled:2025-11-26T10:00:00Z' }, AT, 0, 'c').metadata.name).not.toBe(a);
  });

  it('a second one (409 AlreadyExists) is no failure and logs no warning; other Events keep failing loudly', async () => {
    const names = new Set<string>();
    const lines: string[] = [];
    const log = createLogger({ name: 'test', level: 'debug', destination: { write: (l: string) => lines.push(l) } });
    const recorder = createEventRecorder({
      api: {
        async createEvent(_ns, event) {
          if (names.has(event.metadata.name!)) throw Object.assign(new Error('already exists'), { code: 409 });
          names.add(event.metadata.name!);
        },
      },
      identity: 'c',
      now: () => AT,
      log,
    });
    await recorder.record(once);
    await recorder.record(once);
    expect(names.size).toBe(1);
    expect(lines.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.level !== 'debug')).toEqual([]);
    expect(lines.some((l) => l.includes('Event already recorded'))).toBe(true);
  });
});
