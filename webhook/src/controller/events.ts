// The Kubernetes Events the controller reports on the objects it changes, and the memory that
// keeps a warning or an Event from repeating at every reconcile.
import { createHash } from 'node:crypto';
import type { CoreV1Event } from '@kubernetes/client-node';
import { apiErrorMessage, statusOf } from '../kube/client.js';
import { CONTROLLER_EVENT_COMPONENT } from '../domain/contract.js';
import type { DeploymentRef } from '../domain/color-states.js';
import type { Logger } from '../runtime/log.js';
import type { ControllerApi } from './kube-io.js';

export const REPORTING_COMPONENT = CONTROLLER_EVENT_COMPONENT;

export type EventReason =
  | 'Promoted'
  | 'DrainStarted'
  | 'DrainForecast'
  | 'Drained'
  | 'Deleted'
  | 'DrainDeadlineExceeded'
  | 'DeleteRefused'
  | 'DeleteFailed'
  | 'Shrunk'
  | 'ShrinkRefused'
  | 'Restored'
  | 'AppUninstalled';

export type EventType = 'Normal' | 'Warning';

/** The object an Event is about: a color's Deployment or an app's Service. */
export type EventTarget = DeploymentRef | { kind: 'Service'; name: string; namespace: string };

export interface EventSpec {
  target: EventTarget;
  type: EventType;
  reason: EventReason;
  message: string;
  /** What the controller did (Promote, Drain, Delete, Scale). */
  action: string;
  /**
   * An Event said once per object: its name is derived from the object's uid (else name) and this
   * key, so that a second controller process (a restart, a new leader) saying it again gets 409
   * AlreadyExists instead of a duplicate — for as long as the API server keeps Events (--event-ttl, 1h by default).
   */
  key?: string;
}

/** Longest message kept whole; a longer one is cut and ends with an ellipsis. */
export const MAX_EVENT_MESSAGE = 1000;

/**
 * The Event object for `spec`. `seq` tells apart Events of one object created in the same
 * millisecond; `identity` is this replica's name.
 */
export function buildEvent(spec: EventSpec, at: Date, seq: number, identity: string): CoreV1Event {
  const { target, type, reason, message, action } = spec;
  const kind = 'kind' in target ? target.kind : 'Deployment';
  return {
    metadata: { name: spec.key !== undefined ? onceName(spec) : `${target.name}.${(BigInt(at.getTime()) * 1_000_000n + BigInt(seq % 1_000_000)).toString(16)}`, namespace: target.namespace },
    involvedObject: {
      apiVersion: kind === 'Service' ? 'v1' : 'apps/v1',
      kind,
      name: target.name,
      namespace: target.namespace,
      ...('uid' in target && target.uid ? { uid: target.uid } : {}),
    },
    reason,
    message: message.length > MAX_EVENT_MESSAGE ? `${message.slice(0, MAX_EVENT_MESSAGE - 1)}…` : message,
    type,
    action,
    count: 1,
    firstTimestamp: at,
    lastTimestamp: at,
    source: { component: REPORTING_COMPONENT, host: identity },
    reportingComponent: REPORTING_COMPONENT,
    reportingInstance: identity,
  };
}

/** The name of an Event said once per object and key: `<object>.<reason>-<hash of uid and key>`. */
export function onceName(spec: EventSpec): string {
  const id = ('uid' in spec.target && spec.target.uid) || spec.target.name;
  const hash = createHash('sha256').update(`${id}\n${spec.key ?? ''}`).digest('hex').slice(0, 16);
  return `${spec.target.name}.${spec.reason.toLowerCase()}-${hash}`;
}

export interface EventRecorder {
  /** Creates the Event; a failure is logged, never thrown: an Event must not stop a reconcile. */
  record(spec: EventSpec): Promise<void>;
}

export function createEventRecorder(deps: { api: Pick<ControllerApi, 'createEvent'>; identity: string; now: () => Date; log: Logger }): EventRecorder {
  let seq = 0;
  return {
    async record(spec) {
      const ev = buildEvent(spec, deps.now(), seq++, deps.identity);
      try {
        await deps.api.createEvent(spec.target.namespace, ev);
      } catch (err) {
        if (spec.key !== undefined && statusOf(err) === 409) {
          deps.log.debug({ namespace: spec.target.namespace, name: spec.target.name, reason: spec.reason }, 'Event already recorded (by an earlier controller process)');
          return;
        }
        deps.log.warn({ namespace: spec.target.namespace, name: spec.target.name, reason: spec.reason, err: apiErrorMessage(err) }, 'could not record Event');
      }
    },
  };
}

// --- dedupe ---------------------------------------------------------------------------------------

/** One app's memory of what it already said. */
export interface Dedupe {
  /** Warning messages logged. */
  warned: Set<string>;
  /** Announcement key (a Deployment's uid, a colon, what about) → when it was last announced (ms). */
  announced: Map<string, number>;
}

/** Past this many distinct warnings the memory starts over, so that it stays bounded. */
export const MAX_WARNINGS_REMEMBERED = 200;

/** How long a repeated refusal waits before it is announced again: its message changes with every count. */
export const REANNOUNCE_AFTER_MS = 600_000;

export const newDedupe = (): Dedupe => ({ warned: new Set(), announced: new Map() });

/** True the first time `message` is seen; it is then remembered. */
export function firstWarning(d: Dedupe, message: string): boolean {
  if (d.warned.has(message)) return false;
  if (d.warned.size > MAX_WARNINGS_REMEMBERED) d.warned.clear();
  d.warned.add(message);
  return true;
}

/** True when `key` was never announced (until forgotten); it is then marked as announced at `atMs`. */
export function firstAnnouncement(d: Dedupe, key: string, atMs: number): boolean {
  if (d.announced.has(key)) return false;
  d.announced.set(key, atMs);
  return true;
}

/** True when `key` was not announced within `everyMs` before `atMs`; it is then marked at `atMs`. */
export function announcementDue(d: Dedupe, key: string, atMs: number, everyMs = REANNOUNCE_AFTER_MS): boolean {
  const last = d.announced.get(key);
  if (last !== undefined && atMs - last < everyMs) return false;
  d.announced.set(key, atMs);
  return true;
}

/** Forgets every announcement about the object `id` (its keys start with `id:`). */
export function forgetAnnouncements(d: Dedupe, id: string): void {
  for (const k of [...d.announced.keys()]) if (k.startsWith(`${id}:`)) d.announced.delete(k);
}
