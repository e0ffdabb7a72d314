// The contract's names (README, "Configuration reference"): the charts, docs, tests and users' scripts depend on them.
// Change one only with a reason in the README and the tests updated in the same commit.

export const PREFIX = 'rainbow.dev/';

export const LABEL_APP = 'rainbow.dev/app';
export const LABEL_COLOR = 'rainbow.dev/color';

export const ANNOTATION_PENDING_COLOR = 'rainbow.dev/pending-color';
export const ANNOTATION_CUTOVER = 'rainbow.dev/cutover';
export const ANNOTATION_KEEP_COLORS = 'rainbow.dev/keep-colors';
export const ANNOTATION_DRAIN_GRACE = 'rainbow.dev/drain-grace';
export const ANNOTATION_MAX_DRAIN = 'rainbow.dev/max-drain';
export const ANNOTATION_DRAIN_STARTED = 'rainbow.dev/drain-started';
export const ANNOTATION_FORCE_DELETE = 'rainbow.dev/force-delete';
export const ANNOTATION_CONNECTIONS_PORT = 'rainbow.dev/connections-port';
export const ANNOTATION_CONNECTIONS_PATH = 'rainbow.dev/connections-path';
/** Service annotation: `"false"` keeps a draining color at full replicas until it is deleted. */
export const ANNOTATION_SHRINK = 'rainbow.dev/shrink';
/** Deployment annotation, written by the controller when it shrinks a color: its replicas before. */
export const ANNOTATION_SHRUNK_FROM = 'rainbow.dev/shrunk-from';
/** Deployment annotation, written by the controller on a draining color: its drain forecast (forecast-annotation.ts). */
export const ANNOTATION_DRAIN_FORECAST = 'rainbow.dev/drain-forecast';
/**
 * Deployment annotation, written once by the controller when it first sees the color serving (RFC
 * 3339): "served before" without the controller's memory, so that a color that served and stopped
 * (a rollback) is a previous color after a restart too, and `rainbow status` says so.
 */
export const ANNOTATION_SERVED_AT = 'rainbow.dev/served-at';
/**
 * Deployment annotation, written by the controller on every color that is not `new` while the app
 * has a Service, and again only when they change: the app's drain settings (one line of JSON,
 * drain-settings.ts). Once the last Service is gone they are all that is left of them.
 */
export const ANNOTATION_DRAIN_SETTINGS = 'rainbow.dev/drain-settings';
/**
 * Deployment annotation, written by the controller on a draining color (RFC 3339, rounded up to the
 * second): since when every count read 0. Written when a 0-streak starts, removed when it ends; a
 * restarted controller resumes the streak from it.
 */
export const ANNOTATION_ZERO_SINCE = 'rainbow.dev/zero-since';
/**
 * Deployment annotation, written by the controller on every color of an app that served once and
 * has no Service any more (RFC 3339): when it was first seen so. UNINSTALL_GRACE_SECONDS later the
 * app counts as uninstalled and its colors drain; removed when a Service comes back.
 */
export const ANNOTATION_NO_SERVICE_SINCE = 'rainbow.dev/no-service-since';
/** Deployment annotation (chart value drain.onUninstall): `keep` keeps the color when its app is uninstalled; `drain` (default) drains it. */
export const ANNOTATION_ON_UNINSTALL = 'rainbow.dev/on-uninstall';
/**
 * How long an app that served must be without any Service before it counts as uninstalled: a
 * Service deleted and created again by one `helm upgrade` or `kubectl replace --force` is back long
 * before. Measured from rainbow.dev/no-service-since, so a restart does not start it over.
 */
export const UNINSTALL_GRACE_SECONDS = 30;
/**
 * The finalizer the controller puts on a color's Deployment right before it deletes it (its reason
 * in the name: `rainbow.dev/deleted-drained`, `rainbow.dev/deleted-max-drain`) and removes once it
 * has recorded the Deleted Event: a controller killed between the delete and that Event leaves the
 * Deployment `deleting`, and the next one records the Event and removes the finalizer. Were no
 * controller to come back, `kubectl patch deployment <name> --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]'` lets it go.
 */
export const FINALIZER_DELETED_PREFIX = 'rainbow.dev/deleted-';
/** Kubernetes' own pod annotation: the ReplicaSet controller removes lower-cost pods first. */
export const ANNOTATION_POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

export type CutoverMode = 'ready' | 'immediate';

export const DEFAULTS = {
  cutover: 'ready' as CutoverMode,
  keepColors: 1,
  drainGraceSeconds: 60,
  maxDrainSeconds: 48 * 3600,
  connectionsPort: 9471,
  connectionsPath: '/connections',
  shrink: true,
} as const;

/** Environment variable (and `--bind` flag) that every network listener takes its address from. */
export const ENV_BIND_ADDRESS = 'RAINBOW_BIND_ADDRESS';
/** The chart gives every app container its color here. */
export const ENV_COLOR = 'RAINBOW_COLOR';

/** A color is a DNS-label-safe string of at most 40 characters (a short or full git sha). */
export const COLOR_PATTERN = /^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/;

export function isValidColor(color: string): boolean {
  return COLOR_PATTERN.test(color);
}

/** When a color starts with 6 hex digits those are its CSS color (`#3c3fdc`). */
export function cssColor(color: string): string | undefined {
  const m = /^[0-9a-f]{6}/i.exec(color);
  return m ? `#${m[0].toLowerCase()}` : undefined;
}

/** Deployment name of a color: `<release>-<color>`. */
export function deploymentName(app: string, color: string): string {
  return `${app}-${color}`;
}

/** The controller's Lease (leader election), which `rainbow doctor` also reads. */
export const CONTROLLER_LEASE_NAME = 'rainbow-controller';

/** The component of the controller's Events (source and reportingComponent), by which the views find them. */
export const CONTROLLER_EVENT_COMPONENT = 'rainbow-controller';
