// The webhook's serving certificate, bootstrapped by the webhook itself and kept in a Secret
// (type kubernetes.io/tls: tls.crt, tls.key, ca.crt), so that every replica serves the same
// certificate and the caBundle (ca.crt) can be injected into the webhook configurations.
//
//   read the Secret ─┬─ usable for these DNS names until after now + renewBefore → use it
//                    └─ missing / unparsable / wrong names / expiring → generate (selfsigned)
//                         ├─ no Secret: create   → 409: another replica won the race: re-read, use theirs
//                         └─ Secret:    replace (resourceVersion precondition) → 409: re-read
//
// The decisions (is this Secret usable, for how long) are pure functions; the I/O sits behind
// SecretIO, three calls, so that the race and the conflict paths are tested against a fake.

import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';

import { CoreV1Api, type KubeConfig, type V1OwnerReference, type V1Secret } from '@kubernetes/client-node';

import { apiClient, apiErrorMessage, statusOf } from '../../kube/client.js';
import { CA_FILE, CERT_FILE, KEY_FILE, generateServingCertificate, type ServingCertificate } from './self-signed.js';

export const TLS_SECRET_TYPE = 'kubernetes.io/tls';
export const FIELD_MANAGER = 'rainbow-webhook';
const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Pure parts

/** The three PEMs of a TLS Secret. */
export type TlsPems = ServingCertificate;

export type ParsedSecret = { ok: true; pems: TlsPems } | { ok: false; reason: string };

const decode = (v: string | undefined): string | undefined => (v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8'));
const encode = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** tls.crt, tls.key and ca.crt of a Secret (base64 `data`), or why they are not all there. */
export function pemsOfSecret(secret: V1Secret): ParsedSecret {
  const data = secret.data ?? {};
  const missing = [CERT_FILE, KEY_FILE, CA_FILE].filter((k) => !data[k]);
  if (missing.length > 0) return { ok: false, reason: `it has no ${missing.join(', ')}` };
  return { ok: true, pems: { cert: decode(data[CERT_FILE])!, key: decode(data[KEY_FILE])!, caCert: decode(data[CA_FILE])! } };
}

/** Every PEM certificate in a bundle, in order. */
export function splitPemBundle(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((p) => `${p}\n`) ?? [];
}

export type Usability =
  | { usable: true; notAfter: Date; /** When a replica should replace it. */ renewAt: Date }
  | { usable: false; reason: string };

export interface UsabilityCriteria {
  dnsNames: readonly string[];
  renewBeforeDays: number;
  now: Date;
}

/**
 * Can the webhook serve these PEMs for `dnsNames` until at least now + renewBeforeDays?
 * Checks: the certificate and CA parse, the key fits the certificate, a CA in ca.crt issued and
 * signed it, every DNS name is in it, it is already valid, and it does not expire too soon.
 */
export function tlsUsability(pems: TlsPems, c: UsabilityCriteria): Usability {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pems.cert);
  } catch (err) {
    return { usable: false, reason: `${CERT_FILE} is not a PEM certificate (${(err as Error).message})` };
  }
  const cas: X509Certificate[] = [];
  for (const pem of splitPemBundle(pems.caCert)) {
    try {
      cas.push(new X509Certificate(pem));
    } catch {
      /* an unparsable extra CA is ignored; one that signed tls.crt must parse */
    }
  }
  if (cas.length === 0) return { usable: false, reason: `${CA_FILE} holds no PEM certificate` };
  try {
    createSecureContext({ cert: pems.cert, key: pems.key });
  } catch (err) {
    return { usable: false, reason: `${KEY_FILE} does not fit ${CERT_FILE} (${(err as Error).message})` };
  }
  const issuer = cas.find((ca) => ca.ca && cert.checkIssued(ca) && cert.verify(ca.publicKey));
  if (!issuer) return { usable: false, reason: `${CERT_FILE} is not signed by the CA in ${CA_FILE}` };
  const missing = c.dnsNames.filter((name) => cert.checkHost(name) === undefined);
  if (missing.length > 0) return { usable: false, reason: `${CERT_FILE} is not valid for ${missing.join(', ')}` };
  const now = c.now.getTime();
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Math.min(Date.parse(cert.validTo), Date.parse(issuer.validTo));
  if (notBefore > now) return { usable: false, reason: `${CERT_FILE} is not valid before ${cert.validFrom}` };
  if (notAfter <= now) return { usable: false, reason: `${CERT_FILE} (or its CA) expired on ${new Date(notAfter).toISOString()}` };
  const renewAt = notAfter - c.renewBeforeDays * DAY_MS;
  if (renewAt <= now) {
    return { usable: false, reason: `${CERT_FILE} (or its CA) expires on ${new Date(notAfter).toISOString()}, within ${c.renewBeforeDays} days` };
  }
  return { usable: true, notAfter: new Date(notAfter), renewAt: new Date(renewAt) };
}

/**
 * ca.crt of a new Secret: the new CA, then the CA being replaced while it is still valid, so
 * that a replica still serving the old certificate stays trusted until it picks up the new one.
 * Only one previous CA is carried: rotations are months apart.
 */
export function caBundleAfterRotation(newCa: string, previousCaCert: string | undefined, now: Date): string {
  const previous = previousCaCert ? splitPemBundle(previousCaCert)[0] : undefined;
  if (!previous) return newCa;
  try {
    const x = new X509Certificate(previous);
    if (Date.parse(x.validTo) <= now.getTime()) return newCa;
    if (splitPemBundle(newCa).some((p) => new X509Certificate(p).fingerprint256 === x.fingerprint256)) return newCa;
  } catch {
    return newCa;
  }
  return `${newCa.trimEnd()}\n${previous}`;
}

/** Does the Secret already name this owner? */
export function hasOwner(secret: V1Secret, owner: V1OwnerReference | undefined): boolean {
  return !owner || (secret.metadata?.ownerReferences ?? []).some((o) => o.uid === owner.uid);
}

// ---------------------------------------------------------------------------------------------
// I/O

/** The three Secret calls ensureTlsSecret makes. Errors carry the HTTP status in `code`. */
export interface SecretIO {
  /** undefined when there is no such Secret (404). */
  read(namespace: string, name: string): Promise<V1Secret | undefined>;
  /** 409 when it exists already. */
  create(namespace: string, secret: V1Secret): Promise<V1Secret>;
  /** `secret.metadata.resourceVersion` is the precondition: 409 when the Secret changed since. */
  replace(namespace: string, name: string, secret: V1Secret): Promise<V1Secret>;
}

export function kubeSecretIO(kc: KubeConfig): SecretIO {
  const core = apiClient(kc, CoreV1Api);
  return {
    async read(namespace, name) {
      try {
        return await core.readNamespacedSecret({ namespace, name });
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
    create: (namespace, body) => core.createNamespacedSecret({ namespace, body, fieldManager: FIELD_MANAGER }),
    replace: (namespace, name, body) => core.replaceNamespacedSecret({ namespace, name, body, fieldManager: FIELD_MANAGER }),
  };
}

/** "forbidden (message)" etc. out of a client-node ApiException. */
export function describeApiError(err: unknown): string {
  const code = statusOf(err);
  const reason = code === 403 ? 'forbidden' : code === 404 ? 'not found' : code === 409 ? 'conflict' : code === 401 ? 'unauthorized' : code ? `HTTP ${code}` : 'error';
  return `${reason}: ${apiErrorMessage(err)}`;
}

function secretError(verb: 'get' | 'create' | 'update', namespace: string, name: string, err: unknown): Error {
  const what = `Secret ${namespace}/${name}`;
  const hint =
    statusOf(err) === 403
      ? `; the webhook's Role in ${namespace} needs ${verb} on secrets${verb === 'create' ? '' : ` (resourceNames [${name}])`}`
      : statusOf(err) === 422
        ? `; delete the Secret and the webhook makes a new one`
        : '';
  return new Error(`cannot ${verb} ${what}: ${describeApiError(err)}${hint}`, { cause: err });
}

// ---------------------------------------------------------------------------------------------
// The decision loop

export interface EnsureTlsSecretOptions {
  namespace: string;
  name: string;
  /** DNS SANs the certificate must carry (the webhook Service's names). */
  dnsNames: readonly string[];
  /** Validity of a new certificate and its CA (default 365). */
  validityDays?: number;
  /** Replace the certificate when it expires within this many days (default 30). */
  renewBeforeDays?: number;
  /** Owner set on the Secret (e.g. the ValidatingWebhookConfiguration), so that it goes away with it. */
  owner?: V1OwnerReference;
  /** Labels of a Secret the webhook creates. */
  labels?: Record<string, string>;
  /** Injected for tests. */
  now?: () => Date;
  generate?: typeof generateServingCertificate;
  /** Attempts before giving up when other replicas keep winning the races (default 5). */
  attempts?: number;
}

export interface EnsuredTls extends TlsPems {
  /** What happened: the Secret was used as it was, created, or replaced (rotated, or owner added). */
  action: 'reused' | 'created' | 'rotated' | 'owner-added' | 'adopted';
  /** Why a new certificate was made (action created/rotated). */
  reason?: string;
  resourceVersion?: string;
  /** When a replica should rotate it. */
  renewAt: Date;
  notAfter: Date;
}

/**
 * Make sure the Secret holds a certificate usable for `dnsNames`, and return it. Safe to run in
 * every replica at once: whoever writes first wins, the others re-read and serve the winner's.
 */
export async function ensureTlsSecret(io: SecretIO, opts: EnsureTlsSecretOptions): Promise<EnsuredTls> {
  const { namespace, name } = opts;
  const now = opts.now ?? (() => new Date());
  const generate = opts.generate ?? generateServingCertificate;
  const validityDays = opts.validityDays ?? 365;
  const renewBeforeDays = opts.renewBeforeDays ?? 30;
  if (renewBeforeDays >= validityDays) {
    throw new Error(`renew-before (${renewBeforeDays} days) must be shorter than the validity (${validityDays} days), or every check would rotate`);
  }
  const criteria = () => ({ dnsNames: opts.dnsNames, renewBeforeDays, now: now() });
  const attempts = opts.attempts ?? 5;
  let lostRace = false;

  for (let attempt = 1; attempt <= attempts; attempt++) {
    let existing: V1Secret | undefined;
    try {
      existing = await io.read(namespace, name);
    } catch (err) {
      throw secretError('get', namespace, name, err);
    }

    let reason = 'there is no such Secret';
    if (existing) {
      const parsed = pemsOfSecret(existing);
      const verdict = parsed.ok ? tlsUsability(parsed.pems, criteria()) : { usable: false as const, reason: parsed.reason };
      if (parsed.ok && verdict.usable) {
        const result = { ...parsed.pems, resourceVersion: existing.metadata?.resourceVersion, renewAt: verdict.renewAt, notAfter: verdict.notAfter };
        if (hasOwner(existing, opts.owner)) return { ...result, action: lostRace ? 'adopted' : 'reused' };
        // Usable, but not yet owned (made before the owner existed): add the owner, same data.
        const updated = withOwner(existing, opts.owner!);
        try {
          const written = await io.replace(namespace, name, updated);
          return { ...result, resourceVersion: written.metadata?.resourceVersion, action: 'owner-added' };
        } catch (err) {
          if (statusOf(err) === 409) continue;
          throw secretError('update', namespace, name, err);
        }
      }
      reason = verdict.usable ? 'unreachable' : verdict.reason;
    }

    const made = await generate({ dnsNames: opts.dnsNames, validityDays });
    const previousCa = existing ? pemsOfSecret(existing) : undefined;
    const pems: TlsPems = { ...made, caCert: caBundleAfterRotation(made.caCert, previousCa?.ok ? previousCa.pems.caCert : undefined, now()) };
    const fresh = tlsUsability(pems, criteria());
    if (!fresh.usable) throw new Error(`the certificate just made for Secret ${namespace}/${name} is unusable: ${fresh.reason}`);
    const data = { [CERT_FILE]: encode(pems.cert), [KEY_FILE]: encode(pems.key), [CA_FILE]: encode(pems.caCert) };

    if (!existing) {
      const body: V1Secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace, labels: opts.labels, ...(opts.owner ? { ownerReferences: [opts.owner] } : {}) },
        type: TLS_SECRET_TYPE,
        data,
      };
      try {
        const written = await io.create(namespace, body);
        return { ...pems, action: 'created', reason, resourceVersion: written.metadata?.resourceVersion, renewAt: fresh.renewAt, notAfter: fresh.notAfter };
      } catch (err) {
        if (statusOf(err) === 409) {
          lostRace = true; // another replica created it first: read theirs
          continue;
        }
        throw secretError('create', namespace, name, err);
      }
    }

    const body: V1Secret = { ...withOwner(existing, opts.owner), data };
    try {
      const written = await io.replace(namespace, name, body);
      return { ...pems, action: 'rotated', reason, resourceVersion: written.metadata?.resourceVersion, renewAt: fresh.renewAt, notAfter: fresh.notAfter };
    } catch (err) {
      if (statusOf(err) === 409) {
        lostRace = true; // changed since we read it (another replica rotated it): read again
        continue;
      }
      throw secretError('update', namespace, name, err);
    }
  }
  throw new Error(`Secret ${namespace}/${name} kept changing while the webhook tried to settle its certificate (${attempts} attempts); check what else writes it`);
}

/** The Secret as read, to be written back (resourceVersion kept: it is the precondition). */
function withOwner(secret: V1Secret, owner: V1OwnerReference | undefined): V1Secret {
  const meta = { ...secret.metadata };
  delete meta.managedFields;
  if (owner && !hasOwner(secret, owner)) meta.ownerReferences = [...(meta.ownerReferences ?? []), owner];
  return { apiVersion: 'v1', kind: 'Secret', metadata: meta, type: secret.type, data: secret.data };
}
