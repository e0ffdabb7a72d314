// Leader election on a coordination.k8s.io/v1 Lease, so that of several controller replicas
// exactly one acts. The rules are client-go's:
//  - a Lease is free when its holderIdentity is empty, or when it has not changed for
//    leaseDurationSeconds as measured on OUR clock from when we first saw that version (the
//    holder's renewTime is never compared with our clock, so clock skew cannot steal a lease);
//  - every write is a replace carrying the resourceVersion we read: of two candidates racing for
//    the same version, the API server lets one win and gives the other 409 Conflict;
//  - the leader renews every renewIntervalMs and stops acting as soon as a renewal is refused, or
//    when renewDeadlineMs (< leaseDuration) have passed without a successful one — before any
//    other candidate can consider the Lease expired;
//  - on shutdown the leader stops acting, then releases the Lease (holderIdentity "") so that a
//    successor takes over at once instead of after leaseDurationSeconds.
//
// Lease times are MicroTime: the API server parses them with the layout
// 2006-01-02T15:04:05.000000Z07:00, which needs exactly six fractional digits; a JavaScript Date
// serializes with three and is refused. client-node's serializer does not know the type and
// passes values through JSON.stringify, so they are sent as V1MicroTime (a Date whose
// toISOString has six digits); read back they arrive as plain strings.
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { CONTROLLER_LEASE_NAME } from '../domain/contract.js';
import { apiClient, apiErrorMessage, statusOf } from '../kube/client.js';
import { createLogger, type Logger } from '../runtime/log.js';
import { toDate } from '../domain/objects.js';

export const LEASE_NAME = CONTROLLER_LEASE_NAME;

export interface LeaseApi {
  read(namespace: string, name: string): Promise<V1Lease>;
  create(namespace: string, lease: V1Lease): Promise<V1Lease>;
  /** Must fail with 409 when lease.metadata.resourceVersion is not the current one. */
  replace(namespace: string, name: string, lease: V1Lease): Promise<V1Lease>;
}

/** Well inside the renew deadline, so a request that hangs costs one renewal, not the leadership for good. */
const LEASE_REQUEST_TIMEOUT_MS = 5_000;

export function kubeLeaseApi(kc: KubeConfig): LeaseApi {
  const api = apiClient(kc, CoordinationV1Api, LEASE_REQUEST_TIMEOUT_MS);
  return {
    read: (namespace, name) => api.readNamespacedLease({ namespace, name }),
    create: (namespace, body) => api.createNamespacedLease({ namespace, body }),
    replace: (namespace, name, body) => api.replaceNamespacedLease({ namespace, name, body }),
  };
}

/** RFC 3339 with exactly six fractional digits, as MicroTime wants it. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/Z$/, '000Z');
}

/** A value for a Lease's MicroTime field that client-node sends as microTime(d). */
export function toMicroTime(d: Date): V1MicroTime {
  return new V1MicroTime(d.getTime());
}

/** The pod's name when the chart passes POD_NAME (a pod's hostname may be shared), else host-pid. */
export function defaultIdentity(env: NodeJS.ProcessEnv = process.env): string {
  return env.POD_NAME ? env.POD_NAME : `${hostname()}-${process.pid}`;
}

// --- the pure decision ---------------------------------------------------------------------------

export type LeaseDecision =
  | { action: 'create' }
  /** Take a free or expired Lease; `transition` when it changes hands. */
  | { action: 'acquire'; transition: boolean }
  | { action: 'renew' }
  /** Someone else holds it; it expires in `expiresInMs` unless renewed. */
  | { action: 'stand-by'; holder: string; expiresInMs: number };

export interface LeaseDecisionInput {
  /** The Lease as read; undefined when it does not exist. */
  lease: V1Lease | undefined;
  identity: string;
  /** Our monotonic clock (ms). */
  nowMs: number;
  /** Our monotonic clock when we first saw this version of the Lease (same holder, renewTime and resourceVersion). */
  observedAtMs: number;
  /** Used when the Lease has no leaseDurationSeconds. */
  defaultDurationSeconds: number;
}

export function decideLease(i: LeaseDecisionInput): LeaseDecision {
  if (!i.lease) return { action: 'create' };
  const spec = i.lease.spec ?? {};
  const holder = spec.holderIdentity ?? '';
  if (holder === i.identity) return { action: 'renew' };
  if (holder === '') return { action: 'acquire', transition: false };
  const duration = (spec.leaseDurationSeconds && spec.leaseDurationSeconds > 0 ? spec.leaseDurationSeconds : i.defaultDurationSeconds) * 1000;
  const expiresInMs = i.observedAtMs + duration - i.nowMs;
  if (expiresInMs <= 0) return { action: 'acquire', transition: true };
  return { action: 'stand-by', holder, expiresInMs };
}

/** The identity of a Lease version: any renewal changes it. */
export function leaseVersion(lease: V1Lease | undefined): string {
  if (!lease) return '';
  const renew = lease.spec?.renewTime as unknown as Date | string | undefined;
  const renewText = renew instanceof Date ? renew.toISOString() : String(renew ?? '');
  return `${lease.metadata?.resourceVersion ?? ''}|${lease.spec?.holderIdentity ?? ''}|${renewText}`;
}

/** The Lease to write for `decision`, from the one read (resourceVersion kept: the write is conditional). */
export function leaseFor(
  decision: Extract<LeaseDecision, { action: 'create' | 'acquire' | 'renew' }>,
  read: V1Lease | undefined,
  o: { namespace: string; name: string; identity: string; durationSeconds: number; now: Date },
): V1Lease {
  const spec = read?.spec ?? {};
  const now = toMicroTime(o.now);
  const acquiring = decision.action !== 'renew';
  const transitions = (spec.leaseTransitions ?? 0) + (decision.action === 'acquire' && decision.transition ? 1 : 0);
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: read?.metadata
      ? { ...read.metadata, name: o.name, namespace: o.namespace }
      : { name: o.name, namespace: o.namespace, labels: { 'app.kubernetes.io/name': 'rainbow', 'app.kubernetes.io/component': 'controller' } },
    spec: {
      holderIdentity: o.identity,
      leaseDurationSeconds: o.durationSeconds,
      acquireTime: acquiring ? now : (leaseTime(spec.acquireTime) ?? now),
      renewTime: now,
      leaseTransitions: transitions,
    },
  };
}

/** A MicroTime as read (a string) turned back into something client-node sends correctly. */
function leaseTime(v: unknown): V1MicroTime | undefined {
  const d = toDate(v as Date | string | undefined);
  return d ? toMicroTime(d) : undefined;
}

// --- the elector -----------------------------------------------------------------------------------

export interface LeaderElectorOptions {
  api: LeaseApi;
  namespace: string;
  name?: string;
  identity?: string;
  leaseDurationSeconds?: number;
  /** Leader renews, candidates retry, this often (default 5000 ms). */
  renewIntervalMs?: number;
  /** The leader stops acting when it has not renewed for this long (default 10 000 ms, must be < lease duration). */
  renewDeadlineMs?: number;
  /** Wall clock for the Lease's times. */
  now?: () => Date;
  /** Monotonic clock (ms) for expiry and deadlines. */
  monotonic?: () => number;
  log?: Logger;
  onStartedLeading?: () => void;
  onStoppedLeading?: () => void;
}

export interface LeaderElector {
  readonly identity: string;
  /** True while this replica may act: it holds the Lease and renewed it within renewDeadlineMs. */
  isLeader(): boolean;
  /** Starts trying; resolves immediately. */
  start(): void;
  /** One attempt to acquire or renew, for tests. */
  tick(): Promise<void>;
  /** Stops acting and trying; releases the Lease if held. */
  stop(): Promise<void>;
}

export function createLeaderElector(o: LeaderElectorOptions): LeaderElector {
  const name = o.name ?? LEASE_NAME;
  const identity = o.identity ?? defaultIdentity();
  const durationSeconds = o.leaseDurationSeconds ?? 15;
  const renewIntervalMs = o.renewIntervalMs ?? 5000;
  const renewDeadlineMs = o.renewDeadlineMs ?? 10_000;
  if (renewDeadlineMs >= durationSeconds * 1000) throw new RangeError('leader election: renewDeadlineMs must be shorter than the lease duration');
  if (renewIntervalMs >= renewDeadlineMs) throw new RangeError('leader election: renewIntervalMs must be shorter than renewDeadlineMs');
  const now = o.now ?? (() => new Date());
  const mono = o.monotonic ?? (() => performance.now());
  const log = o.log ?? createLogger({ name: 'leader', level: 'silent' });

  let leading = false;
  let lastRenewMs = -Infinity;
  let observed = { version: '', atMs: 0 };
  let lastRead: V1Lease | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let inFlight: Promise<void> | undefined;

  const stepDown = (why: string) => {
    if (!leading) return;
    leading = false;
    if (stopped) log.info({ identity, why }, 'stopped leading');
    else log.warn({ identity, why }, 'lost leadership: stopped acting');
    o.onStoppedLeading?.();
  };
  const stepUp = () => {
    if (leading) return;
    leading = true;
    log.info({ identity, lease: `${o.namespace}/${name}` }, 'leading');
    o.onStartedLeading?.();
  };
  const isLeader = () => leading && !stopped && mono() - lastRenewMs < renewDeadlineMs;

  const attempt = async (): Promise<void> => {
    const startedMs = mono();
    let read: V1Lease | undefined;
    try {
      read = await o.api.read(o.namespace, name);
    } catch (err) {
      if (statusOf(err) !== 404) {
        log.warn({ err: apiErrorMessage(err) }, 'reading the Lease failed');
        if (leading && mono() - lastRenewMs >= renewDeadlineMs) stepDown('could not renew within the renew deadline');
        return;
      }
    }
    lastRead = read;
    const version = leaseVersion(read);
    if (version !== observed.version) observed = { version, atMs: startedMs };
    const decision = decideLease({ lease: read, identity, nowMs: mono(), observedAtMs: observed.atMs, defaultDurationSeconds: durationSeconds });
    if (decision.action === 'stand-by') {
      stepDown(`the Lease is held by ${decision.holder}`);
      return;
    }
    if (stopped) return;
    const body = leaseFor(decision, read, { namespace: o.namespace, name, identity, durationSeconds, now: now() });
    try {
      lastRead = decision.action === 'create' ? await o.api.create(o.namespace, body) : await o.api.replace(o.namespace, name, body);
      // Measured from before the read: the Lease cannot have been valid for others any later.
      lastRenewMs = startedMs;
      observed = { version: leaseVersion(lastRead), atMs: startedMs };
      if (!stopped) stepUp();
    } catch (err) {
      const code = statusOf(err);
      if (code === 409) {
        stepDown('another replica updated the Lease first');
        return;
      }
      log.warn({ err: apiErrorMessage(err), code }, `${decision.action} of the Lease failed`);
      if (leading && mono() - lastRenewMs >= renewDeadlineMs) stepDown('could not renew within the renew deadline');
    }
  };

  const tick = (): Promise<void> => {
    if (!inFlight) inFlight = attempt().finally(() => (inFlight = undefined));
    return inFlight;
  };

  const loop = () => {
    if (stopped) return;
    void tick().finally(() => {
      if (stopped) return;
      // A leader whose deadline passes between ticks steps down even without an answer.
      if (leading && mono() - lastRenewMs >= renewDeadlineMs) stepDown('could not renew within the renew deadline');
      timer = setTimeout(loop, renewIntervalMs);
    });
  };

  return {
    identity,
    isLeader,
    start() {
      stopped = false;
      loop();
    },
    tick,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const wasLeading = leading;
      stepDown('shutting down');
      await inFlight;
      if (!wasLeading || !lastRead) return;
      const spec = lastRead.spec ?? {};
      if (spec.holderIdentity !== identity) return;
      const released: V1Lease = {
        ...lastRead,
        spec: {
          ...spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: toMicroTime(now()),
          acquireTime: leaseTime(spec.acquireTime) ?? toMicroTime(now()),
        },
      };
      try {
        await o.api.replace(o.namespace, name, released);
        log.info({ identity }, 'released the Lease');
      } catch (err) {
        log.warn({ err: apiErrorMessage(err) }, 'releasing the Lease failed; it expires by itself');
      }
    },
  };
}
