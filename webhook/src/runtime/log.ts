// JSON logs (pino) for every role. Level from RAINBOW_LOG_LEVEL; secrets never reach the log:
// anything that may hold a private key, token or certificate is redacted by path, so a
// careless `log.info({ secret })` or a logged request with its headers stays harmless.

import { pino, type DestinationStream, type Level, type Logger } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVEL_ENV = 'RAINBOW_LOG_LEVEL';

const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Paths censored in every log line. `*.x` covers one level of nesting (`{ tls: { key } }`),
 * the plain name covers the top level. Certificates are public, but they are noise in logs
 * and a PEM bundle may carry its key along, so they go too.
 */
export const REDACT_PATHS: readonly string[] = [
  ...['key', 'privateKey', 'private', 'token', 'bearerToken', 'accessToken', 'password', 'secret'].flatMap(both),
  ...['cert', 'caCert', 'caBundle', 'ca', 'clientKey', 'clientCert'].flatMap(both),
  ...['authorization', 'cookie', 'Authorization'].flatMap(both),
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'request.headers.authorization',
  // Kubernetes Secret payloads (kubernetes.io/tls) and kubeconfig user credentials.
  'data["tls.key"]',
  '*.data["tls.key"]',
  'stringData',
  '*.stringData',
  'user.token',
  'user["client-key-data"]',
  '*.user.token',
  '*.user["client-key-data"]',
];

// Redaction by path cannot reach text: a rejected review's message quotes the value it could not
// use (`apiVersion is "-----BEGIN …"`), and an error message may carry whatever it was given. So
// every line is also scrubbed, as the JSON text pino is about to write, of PEM blocks (whole or
// cut short), bearer/basic credentials and JWTs (service-account tokens). Each pattern stops
// within one JSON string, so the line stays valid JSON.
// The body is scanned as plain characters and newline escapes (`\n`, or `\\n` and so on when
// the PEM sits in a string that was itself JSON-encoded), so a match never splits an escape and
// stops before any other escape (a quote) or the unescaped quote that ends the string.
const PEM_BLOCK = /-----BEGIN(?:\\+[nrt]|[^"\\])*?(?:-----END[^"\\]*?-----|(?=\\+[^\\nrt]|"|$))/g;
const AUTH_SCHEME = /\b([Bb]earer|BEARER|Basic)( |\\t|%20)+[A-Za-z0-9\-._~+/=]{8,}/g;
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*)?/g;

/** A log line (JSON text) without PEM blocks, bearer/basic credentials or JWTs. */
export function scrubSecrets(line: string): string {
  if (!line.includes('-----BEGIN') && !/earer|EARER|Basic|eyJ/.test(line)) return line;
  return line.replace(PEM_BLOCK, REDACTED).replace(AUTH_SCHEME, `$1 ${REDACTED}`).replace(JWT, REDACTED);
}

function both(name: string): string[] {
  return [name, `*.${name}`];
}

export const REDACTED = '[redacted]';

// Redaction by path here, not pino's `redact`, which clones every line through each wildcard path;
// these paths compile once into a tree and a line without a censored field is written uncopied.
interface PathNode {
  censor: boolean;
  named: Map<string, PathNode>;
  any?: PathNode;
}

function pathTree(paths: readonly string[]): PathNode {
  const root: PathNode = { censor: false, named: new Map() };
  for (const p of paths) {
    let node = root;
    for (const m of p.matchAll(/\["([^"]+)"\]|([^.[\]]+)/g)) {
      const segment = m[1] ?? m[2]!;
      let next = segment === '*' ? node.any : node.named.get(segment);
      if (!next) {
        next = { censor: false, named: new Map() };
        if (segment === '*') node.any = next;
        else node.named.set(segment, next);
      }
      node = next;
    }
    node.censor = true;
  }
  return root;
}

// Runs on every log line: allocates nothing unless a field is censored (then copies the objects
// on the way to it) or an object sits where a path goes on.
function censorAt(value: unknown, nodes: readonly PathNode[]): unknown {
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  let out: Record<string, unknown> | unknown[] | undefined;
  for (const key in obj) {
    if (!Object.hasOwn(obj, key)) continue;
    const current = obj[key];
    const nested = current !== null && typeof current === 'object';
    let censor = false;
    let deeper: PathNode[] | undefined;
    for (const n of nodes) {
      const named = n.named.get(key);
      if (named?.censor || n.any?.censor) {
        censor = true;
        break;
      }
      if (!nested) continue;
      if (named) (deeper ??= []).push(named);
      if (n.any) (deeper ??= []).push(n.any);
    }
    const v = censor ? REDACTED : deeper ? censorAt(current, deeper) : current;
    if (v === current) continue;
    out ??= Array.isArray(obj) ? [...obj] : { ...obj };
    (out as Record<string, unknown>)[key] = v;
  }
  return out ?? value;
}

const CENSORED = pathTree(REDACT_PATHS);

/** `obj` with every field on REDACT_PATHS replaced by REDACTED; `obj` itself when there is none. */
export function censorSecrets<T extends object>(obj: T): T {
  return censorAt(obj, [CENSORED]) as T;
}

// pino formats a child logger's bindings without the `bindings` formatter, but runs serializers
// on them: one per top-level name of REDACT_PATHS censors bindings (and log objects) by name.
const BY_NAME: Record<string, (v: unknown) => unknown> = Object.fromEntries(
  [...CENSORED.named].map(([name, node]) => [name, (v: unknown) => (node.censor ? REDACTED : censorAt(v, CENSORED.any ? [node, CENSORED.any] : [node]))]),
);

export interface CreateLoggerOptions {
  /** Logger name, e.g. the role: "webhook", "controller", "reporter". */
  name?: string;
  /** Overrides RAINBOW_LOG_LEVEL. */
  level?: string;
  /** Where lines go (default stdout); tests pass a stream that collects them. */
  destination?: DestinationStream;
  /** Environment to read the level from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  const wanted = opts.level ?? (opts.env ?? process.env)[LOG_LEVEL_ENV];
  const level = wanted === undefined || wanted === '' ? 'info' : wanted.trim().toLowerCase();
  const valid = LEVELS.includes(level);
  const options = {
    name: opts.name ?? 'rainbow',
    level: valid ? level : 'info',
    hooks: { streamWrite: scrubSecrets },
    serializers: { ...BY_NAME, err: pino.stdSerializers.err },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      // "level":"info" rather than 30: read by people (kubectl logs) as much as by machines.
      level: (label: string) => ({ level: label }),
      log: censorSecrets,
    },
  };
  const logger = opts.destination ? pino(options, opts.destination) : pino(options);
  if (!valid) {
    // A typo in an env var should not take the webhook down; say so and carry on at info.
    logger.warn(`${LOG_LEVEL_ENV}="${wanted}" is not a log level (use ${LEVELS.join(', ')}); logging at info`);
  }
  return logger;
}

/** The parts of an AdmissionRequest that identify it in logs. */
export interface ReviewIdentity {
  uid: string;
  /** `request.kind` ({group, version, kind}) or just the kind. */
  kind?: string | { kind?: string };
  namespace?: string;
  name?: string;
  operation?: string;
  /** `request.dryRun` */
  dryRun?: boolean;
}

/**
 * The fields that identify a review in its log line: uid, kind, namespace, name, operation and
 * dryRun when set. Logged as fields of the line, not as a child logger's bindings: a child per
 * review costs its bindings' serialization on every review.
 */
export function reviewFields(review: ReviewIdentity): Record<string, unknown> {
  const kind = typeof review.kind === 'string' ? review.kind : review.kind?.kind;
  const fields: Record<string, unknown> = { uid: review.uid };
  if (kind !== undefined) fields.kind = kind;
  if (review.namespace) fields.namespace = review.namespace;
  if (review.name) fields.name = review.name;
  if (review.operation) fields.operation = review.operation;
  if (review.dryRun) fields.dryRun = true;
  return fields;
}

/** Type guard for level names accepted by createLogger. */
export function isLogLevel(s: string): s is Level | 'silent' {
  return LEVELS.includes(s);
}
