import type { V1Lease } from '@kubernetes/client-node';
import {
  createLeaderElector,
  decideLease,
  leaseFor,
  leaseVersion,
  microTime,
  toMicroTime,
  type LeaseApi,
} from '../../../webhook/src/controller/leader.js';

const lease = (holder: string | undefined, o: { rv?: string; duration?: number; renew?: string } = {}): V1Lease => ({
  metadata: { name: 'rainbow-controller', namespace: 'rainbow-system', resourceVersion: o.rv ?? '1' },
  spec: { holderIdentity: holder, leaseDurationSeconds: o.duration ?? 15, renewTime: (o.renew ?? '2025-11-26T10:00:00.000000Z') as unknown as Date },
});
const decide = (l: V1Lease | undefined, nowMs: number, observedAtMs = 0) => decideLease({ lease: l, identity: 'me', nowMs, observedAtMs, defaultDurationSeconds: 15 });

describe('decideLease', () => {
  it('creates a missing Lease', () => expect(decide(undefined, 0)).toEqual({ action: 'create' }));
  it('renews its own', () => expect(decide(lease('me'), 999_999)).toEqual({ action: 'renew' }));
  it('acquires a released (empty) Lease at once', () => {
    expect(decide(lease(''), 0)).toEqual({ action: 'acquire', transition: false });
    expect(decide(lease(undefined), 0)).toEqual({ action: 'acquire', transition: false });
  });
  it("stands by while another holder's Lease has not expired on our clock", () => {
    expect(decide(lease('other'), 14_999)).toEqual({ action: 'stand-by', holder: 'other', expiresInMs: 1 });
  });
  it('acquires exactly when leaseDurationSeconds have passed since we saw this version', () => {
    expect(decide(lease('other'), 15_000)).toEqual({ action: 'acquire', transition: true });
    expect(decide(lease('other'), 20_000, 5_000)).toEqual({ action: 'acquire', transition: true });
    expect(decide(lease('other'), 19_999, 5_000)).toMatchObject({ action: 'stand-by' });
  });
  it("never compares the holder's renewTime with our clock (skew cannot steal a lease)", () => {
    expect(decide(lease('other', { renew: '1999-01-01T00:00:00.000000Z' }), 1000)).toMatchObject({ action: 'stand-by' });
  });
  it("uses the Lease's own duration, else the default", () => {
    expect(decide(lease('other', { duration: 60 }), 30_000)).toMatchObject({ action: 'stand-by', expiresInMs: 30_000 });
    const noDuration = lease('other');
    delete noDuration.spec!.leaseDurationSeconds;
    expect(decide(noDuration, 15_000)).toMatchObject({ action: 'acquire' });
  });
  it('a version is holder, renewTime and resourceVersion', () => {
    expect(leaseVersion(lease('a', { rv: '5' }))).not.toBe(leaseVersion(lease('a', { rv: '6' })));
    expect(leaseVersion(undefined)).toBe('');
  });
});

describe('MicroTime', () => {
  it('has six fractional digits, as the API server requires', () => {
    const d = new Date('2025-11-26T10:00:00.123Z');
    expect(microTime(d)).toBe('2025-11-26T10:00:00.123000Z');
    expect(JSON.stringify({ t: toMicroTime(d) })).toBe('{"t":"2025-11-26T10:00:00.123000Z"}');
  });

  it('leaseFor writes MicroTimes, keeps the resourceVersion read and counts transitions', () => {
    const read = lease('other', { rv: '77' });
    read.spec!.leaseTransitions = 3;
    const body = leaseFor({ action: 'acquire', transition: true }, read, {
      namespace: 'rainbow-system',
      name: 'rainbow-controller',
      identity: 'me',
      durationSeconds: 15,
      now: new Date('2025-11-26T10:00:05Z'),
    });
    expect(JSON.parse(JSON.stringify(body))).toMatchObject({
      metadata: { resourceVersion: '77' },
      spec: { holderIdentity: 'me', leaseDurationSeconds: 15, leaseTransitions: 4, acquireTime: '2025-11-26T10:00:05.000000Z', renewTime: '2025-11-26T10:00:05.000000Z' },
    });
  });
});

/** A Lease store that behaves like the API server: resourceVersion-guarded replace, create conflicts. */
function fakeApiServer() {
  let stored: V1Lease | undefined;
  let rv = 0;
  const conflict = (msg: string) => Object.assign(new Error(msg), { code: 409 });
  const copy = (l: V1Lease) => JSON.parse(JSON.stringify(l)) as V1Lease;
  const api: LeaseApi & { writes: V1Lease[]; failing: boolean } = {
    writes: [],
    failing: false,
    async read() {
      await Promise.resolve();
      if (api.failing) throw Object.assign(new Error('connection refused'), { code: undefined });
      if (!stored) throw Object.assign(new Error('not found'), { code: 404 });
      return copy(stored);
    },
    async create(_ns, l) {
      await Promise.resolve();
      if (api.failing) throw new Error('connection refused');
      if (stored) throw conflict('already exists');
      stored = { ...copy(l), metadata: { ...l.metadata, resourceVersion: String(++rv) } };
      api.writes.push(copy(l));
      return copy(stored);
    },
    async replace(_ns, _name, l) {
      await Promise.resolve();
      if (api.failing) throw new Error('connection refused');
      if (!stored || l.metadata?.resourceVersion !== stored.metadata?.resourceVersion) throw conflict('the object has been modified');
      stored = { ...copy(l), metadata: { ...l.metadata, resourceVersion: String(++rv) } };
      api.writes.push(copy(l));
      return copy(stored);
    },
  };
  return { api, get: () => stored };
}

describe('leader elector', () => {
  let mono = 0;
  const clock = () => mono;
  const elector = (api: LeaseApi, identity: string, events: string[] = []) =>
    createLeaderElector({
      api,
      namespace: 'rainbow-system',
      identity,
      monotonic: clock,
      now: () => new Date(Date.parse('2025-11-26T10:00:00Z') + mono),
      onStartedLeading: () => events.push(`${identity}:start`),
      onStoppedLeading: () => events.push(`${identity}:stop`),
    });
  beforeEach(() => (mono = 1_000_000));

  it('of two candidates racing for a missing Lease exactly one wins', async () => {
    const { api } = fakeApiServer();
    const a = elector(api, 'a');
    const b = elector(api, 'b');
    await Promise.all([a.tick(), b.tick()]);
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
  });

  it('of two candidates racing for a released Lease exactly one wins', async () => {
    const { api } = fakeApiServer();
    const first = elector(api, 'first');
    await first.tick();
    await first.stop(); // releases: holderIdentity ""
    const a = elector(api, 'a');
    const b = elector(api, 'b');
    await Promise.all([a.tick(), b.tick()]);
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
  });

  it('a candidate takes over only after the lease duration without renewals, measured on its own clock', async () => {
    const { api, get } = fakeApiServer();
    const events: string[] = [];
    const a = elector(api, 'a', events);
    const b = elector(api, 'b', events);
    await a.tick();
    await b.tick();
    expect(b.isLeader()).toBe(false);
    mono += 14_999; // a is silent (crashed)
    await b.tick();
    expect(b.isLeader()).toBe(false);
    mono += 1;
    await b.tick();
    expect(b.isLeader()).toBe(true);
    expect(get()!.spec!.holderIdentity).toBe('b');
    expect(get()!.spec!.leaseTransitions).toBe(1);
    // a comes back: it finds b holding the Lease and stands by.
    await a.tick();
    expect(a.isLeader()).toBe(false);
    expect(events).toEqual(['a:start', 'b:start', 'a:stop']);
  });

  it('renewals keep the Lease', async () => {
    const { api } = fakeApiServer();
    const a = elector(api, 'a');
    const b = elector(api, 'b');
    await a.tick();
    for (let i = 0; i < 10; i++) {
      mono += 5000;
      await a.tick();
      await b.tick();
    }
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
  });

  it('a leader that cannot renew stops acting at the renew deadline, before anyone may take over', async () => {
    const { api } = fakeApiServer();
    const events: string[] = [];
    const a = elector(api, 'a', events);
    await a.tick();
    api.failing = true;
    mono += 9_999;
    await a.tick();
    expect(a.isLeader()).toBe(true);
    mono += 1;
    expect(a.isLeader()).toBe(false); // even before the next attempt
    await a.tick();
    expect(events).toEqual(['a:start', 'a:stop']);
  });

  it('a leader whose renewal conflicts stops acting immediately', async () => {
    const { api, get } = fakeApiServer();
    const a = elector(api, 'a');
    await a.tick();
    // Someone else writes the Lease (an operator, or a candidate with a skewed view).
    await api.replace('rainbow-system', 'rainbow-controller', { ...get()!, spec: { ...get()!.spec, holderIdentity: 'intruder' } });
    await a.tick();
    expect(a.isLeader()).toBe(false);
  });

  it('stop releases the Lease (empty holder) so that a successor starts at once', async () => {
    const { api, get } = fakeApiServer();
    const events: string[] = [];
    const a = elector(api, 'a', events);
    await a.tick();
    await a.stop();
    expect(a.isLeader()).toBe(false);
    expect(get()!.spec!.holderIdentity).toBe('');
    const b = elector(api, 'b', events);
    await b.tick();
    expect(b.isLeader()).toBe(true);
    expect(events).toEqual(['a:start', 'a:stop', 'b:start']);
  });

  it('refuses timings where the deadline would not protect the lease', () => {
    expect(() => createLeaderElector({ api: fakeApiServer().api, namespace: 'x', renewDeadlineMs: 15_000 })).toThrow(RangeError);
    expect(() => createLeaderElector({ api: fakeApiServer().api, namespace: 'x', renewIntervalMs: 10_000 })).toThrow(RangeError);
  });
});
