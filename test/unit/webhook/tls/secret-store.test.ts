// ensureTlsSecret against an in-memory Secret store, and the pure checks behind it.
import { X509Certificate } from 'node:crypto';

import type { V1OwnerReference, V1Secret } from '@kubernetes/client-node';

import {
  caBundleAfterRotation,
  ensureTlsSecret,
  pemsOfSecret,
  splitPemBundle,
  tlsUsability,
  type SecretIO,
} from '../../../../webhook/src/webhook/tls/secret-store.js';
import { generateServingCertificate, type ServingCertificate } from '../../../../webhook/src/webhook/tls/self-signed.js';

const NS = 'rainbow-system';
const NAME = 'rainbow-tls';
const SVC = 'rainbow-webhook';
const DNS = [SVC, `${SVC}.${NS}`, `${SVC}.${NS}.svc`, `${SVC}.${NS}.svc.cluster.local`];
const DAY = 86_400_000;
const b64 = (s: string) => Buffer.from(s).toString('base64');

class ApiError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** One namespace's Secrets, with resourceVersions and the API server's conflict rules. Every call yields first, so concurrent callers interleave. */
class FakeSecrets implements SecretIO {
  readonly store = new Map<string, V1Secret>();
  private rv = 0;
  calls: string[] = [];
  failNext: Partial<Record<'read' | 'create' | 'replace', ApiError>> = {};

  private async tick(op: 'read' | 'create' | 'replace') {
    this.calls.push(op);
    await new Promise((r) => setImmediate(r));
    const e = this.failNext[op];
    if (e) {
      delete this.failNext[op];
      throw e;
    }
  }

  put(secret: V1Secret): V1Secret {
    const stored = structuredClone({ ...secret, metadata: { ...secret.metadata, resourceVersion: String(++this.rv) } });
    this.store.set(secret.metadata!.name!, stored);
    return structuredClone(stored);
  }

  async read(_ns: string, name: string) {
    await this.tick('read');
    const s = this.store.get(name);
    return s ? structuredClone(s) : undefined;
  }

  async create(_ns: string, secret: V1Secret) {
    await this.tick('create');
    if (this.store.has(secret.metadata!.name!)) throw new ApiError(409, `secrets "${secret.metadata!.name}" already exists`);
    return this.put(secret);
  }

  async replace(_ns: string, name: string, secret: V1Secret) {
    await this.tick('replace');
    const cur = this.store.get(name);
    if (!cur) throw new ApiError(404, 'not found');
    if (secret.metadata?.resourceVersion !== cur.metadata!.resourceVersion) throw new ApiError(409, 'the object has been modified');
    return this.put(secret);
  }
}

const secretOf = (pems: ServingCertificate, extra: Partial<V1Secret> = {}): V1Secret => ({
  metadata: { name: NAME, namespace: NS },
  type: 'kubernetes.io/tls',
  data: { 'tls.crt': b64(pems.cert), 'tls.key': b64(pems.key), 'ca.crt': b64(pems.caCert) },
  ...extra,
});

const opts = { namespace: NS, name: NAME, dnsNames: DNS, validityDays: 365, renewBeforeDays: 30 };

let good: ServingCertificate;
beforeAll(async () => {
  good = await generateServingCertificate({ dnsNames: DNS, validityDays: 365 });
});

describe('tlsUsability (pure)', () => {
  const now = new Date();
  it('accepts a certificate signed by ca.crt, valid for every name, far from expiry', () => {
    const v = tlsUsability(good, { dnsNames: DNS, renewBeforeDays: 30, now });
    expect(v.usable).toBe(true);
    if (v.usable) {
      expect(v.renewAt.getTime()).toBeCloseTo(v.notAfter.getTime() - 30 * DAY, -3);
      expect(v.notAfter.getTime()).toBeGreaterThan(now.getTime() + 360 * DAY);
    }
  });

  it('refuses one that expires within renewBeforeDays, or has expired', () => {
    expect(tlsUsability(good, { dnsNames: DNS, renewBeforeDays: 30, now: new Date(now.getTime() + 340 * DAY) })).toEqual({
      usable: false,
      reason: expect.stringMatching(/expires on .* within 30 days/),
    });
    expect(tlsUsability(good, { dnsNames: DNS, renewBeforeDays: 30, now: new Date(now.getTime() + 400 * DAY) })).toEqual({ usable: false, reason: expect.stringMatching(/expired on/) });
  });

  it('refuses one missing a DNS name, naming it', () => {
    expect(tlsUsability(good, { dnsNames: [...DNS, 'other.example'], renewBeforeDays: 30, now })).toEqual({ usable: false, reason: 'tls.crt is not valid for other.example' });
  });

  it('refuses one not signed by ca.crt, a key that does not fit, and garbage', async () => {
    const other = await generateServingCertificate({ dnsNames: DNS });
    const c = { dnsNames: DNS, renewBeforeDays: 30, now };
    expect(tlsUsability({ ...good, caCert: other.caCert }, c)).toEqual({ usable: false, reason: 'tls.crt is not signed by the CA in ca.crt' });
    expect(tlsUsability({ ...good, key: other.key }, c)).toEqual({ usable: false, reason: expect.stringContaining('tls.key does not fit tls.crt') });
    expect(tlsUsability({ ...good, cert: 'nope' }, c)).toEqual({ usable: false, reason: expect.stringContaining('tls.crt is not a PEM certificate') });
    expect(tlsUsability({ ...good, caCert: 'nope' }, c)).toEqual({ usable: false, reason: 'ca.crt holds no PEM certificate' });
  });

  it('accepts a ca.crt bundle with the signing CA second (during a rotation)', async () => {
    const other = await generateServingCertificate({ dnsNames: DNS });
    expect(tlsUsability({ ...good, caCert: other.caCert + good.caCert }, { dnsNames: DNS, renewBeforeDays: 30, now }).usable).toBe(true);
  });
});

describe('pemsOfSecret and caBundleAfterRotation (pure)', () => {
  it('decodes the three keys, or says which are missing', () => {
    expect(pemsOfSecret(secretOf(good))).toEqual({ ok: true, pems: good });
    expect(pemsOfSecret({ data: { 'tls.crt': b64(good.cert) } })).toEqual({ ok: false, reason: 'it has no tls.key, ca.crt' });
  });

  it('carries the previous CA while it is valid, one only, never twice', async () => {
    const next = await generateServingCertificate({ dnsNames: DNS });
    const now = new Date();
    const bundle = caBundleAfterRotation(next.caCert, good.caCert, now);
    expect(splitPemBundle(bundle).map((p) => new X509Certificate(p).fingerprint256)).toEqual([next.caCert, good.caCert].map((p) => new X509Certificate(p).fingerprint256));
    const third = await generateServingCertificate({ dnsNames: DNS });
    expect(splitPemBundle(caBundleAfterRotation(third.caCert, bundle, now))).toEqual([third.caCert, next.caCert].map((p) => splitPemBundle(p)[0]));
    expect(caBundleAfterRotation(next.caCert, bundle, now)).toBe(next.caCert);
    expect(caBundleAfterRotation(next.caCert, next.caCert, now)).toBe(next.caCert);
    expect(caBundleAfterRotation(next.caCert, good.caCert, new Date(now.getTime() + 400 * DAY))).toBe(next.caCert);
    expect(caBundleAfterRotation(next.caCert, undefined, now)).toBe(next.caCert);
  });
});

describe('ensureTlsSecret', () => {
  it('creates a kubernetes.io/tls Secret when there is none, and reuses it afterwards', async () => {
    const io = new FakeSecrets();
    const made = await ensureTlsSecret(io, { ...opts, labels: { a: 'b' } });
    expect(made.action).toBe('created');
    expect(made.reason).toBe('there is no such Secret');
    const stored = io.store.get(NAME)!;
    expect(stored.type).toBe('kubernetes.io/tls');
    expect(stored.metadata!.labels).toEqual({ a: 'b' });
    expect(pemsOfSecret(stored)).toEqual({ ok: true, pems: { cert: made.cert, key: made.key, caCert: made.caCert } });
    const cert = new X509Certificate(made.cert);
    for (const n of DNS) expect(cert.checkHost(n)).toBe(n);
    expect(cert.verify(new X509Certificate(made.caCert).publicKey)).toBe(true);

    io.calls = [];
    const again = await ensureTlsSecret(io, opts);
    expect(again).toMatchObject({ action: 'reused', cert: made.cert, key: made.key, caCert: made.caCert });
    expect(io.calls).toEqual(['read']);
  });

  it('two replicas starting at once end up with the same certificate (one create wins, the other adopts it)', async () => {
    const io = new FakeSecrets();
    const [a, b] = await Promise.all([ensureTlsSecret(io, opts), ensureTlsSecret(io, opts)]);
    expect(a.cert).toBe(b.cert);
    expect(a.key).toBe(b.key);
    expect(a.caCert).toBe(b.caCert);
    expect([a.action, b.action].sort()).toEqual(['adopted', 'created']);
    expect(pemsOfSecret(io.store.get(NAME)!)).toEqual({ ok: true, pems: { cert: a.cert, key: a.key, caCert: a.caCert } });
    expect(io.calls.filter((c) => c === 'create')).toHaveLength(2);
  });

  it('five replicas at once, and a rotation race between two: still one certificate', async () => {
    const io = new FakeSecrets();
    const all = await Promise.all(Array.from({ length: 5 }, () => ensureTlsSecret(io, opts)));
    expect(new Set(all.map((r) => r.cert)).size).toBe(1);
    // A Secret close to expiry: both rotate, one replace wins, the other gets 409, re-reads, adopts.
    const expiring = await generateServingCertificate({ dnsNames: DNS, validityDays: 20 });
    io.put(secretOf(expiring));
    const [x, y] = await Promise.all([ensureTlsSecret(io, opts), ensureTlsSecret(io, opts)]);
    expect(x.cert).toBe(y.cert);
    expect(x.cert).not.toBe(expiring.cert);
    expect([x.action, y.action].sort()).toEqual(['adopted', 'rotated']);
  });

  it('rotates an expired Secret, keeping the old CA in ca.crt while it is valid', async () => {
    const io = new FakeSecrets();
    const old = await generateServingCertificate({ dnsNames: DNS, validityDays: 1 });
    io.put(secretOf(old));
    const r = await ensureTlsSecret(io, { ...opts, renewBeforeDays: 0.5, validityDays: 365, now: () => new Date(Date.now() + 2 * DAY) });
    expect(r.action).toBe('rotated');
    expect(r.reason).toMatch(/expired on/);
    expect(r.cert).not.toBe(old.cert);
    expect(io.store.get(NAME)!.metadata!.resourceVersion).toBe('2');
    // the old CA expired too (same validity): not carried
    expect(splitPemBundle(r.caCert)).toHaveLength(1);
  });

  it('rotates a Secret that expires within renewBeforeDays, and carries its still-valid CA', async () => {
    const io = new FakeSecrets();
    const old = await generateServingCertificate({ dnsNames: DNS, validityDays: 20 });
    io.put(secretOf(old));
    const r = await ensureTlsSecret(io, opts);
    expect(r.action).toBe('rotated');
    expect(r.reason).toMatch(/within 30 days/);
    expect(splitPemBundle(r.caCert).map((p) => new X509Certificate(p).fingerprint256)[1]).toBe(new X509Certificate(old.caCert).fingerprint256);
  });

  it('rotates a Secret for other DNS names, or one that is unparsable or incomplete', async () => {
    for (const bad of [
      secretOf(await generateServingCertificate({ dnsNames: ['other.svc'] })),
      { ...secretOf(good), data: { 'tls.crt': b64('garbage'), 'tls.key': b64('x'), 'ca.crt': b64('y') } },
      { ...secretOf(good), data: { 'tls.crt': b64(good.cert) } },
    ]) {
      const io = new FakeSecrets();
      io.put(bad);
      const r = await ensureTlsSecret(io, opts);
      expect(r.action).toBe('rotated');
      expect(tlsUsability(r, { dnsNames: DNS, renewBeforeDays: 30, now: new Date() }).usable).toBe(true);
    }
  });

  it('on a 409 from replace, re-reads and serves what the other replica wrote', async () => {
    const io = new FakeSecrets();
    const old = await generateServingCertificate({ dnsNames: ['other.svc'] });
    io.put(secretOf(old));
    const theirs = await generateServingCertificate({ dnsNames: DNS });
    // Another replica rotates between our read and our replace.
    const replace = io.replace.bind(io);
    io.replace = async (ns, name, s) => {
      io.put(secretOf(theirs));
      io.replace = replace;
      return replace(ns, name, s);
    };
    const r = await ensureTlsSecret(io, opts);
    expect(r).toMatchObject({ action: 'adopted', cert: theirs.cert });
    expect(io.calls).toEqual(['read', 'replace', 'read']);
  });

  it('adds an owner to a usable Secret that has none, without changing its data', async () => {
    const io = new FakeSecrets();
    io.put(secretOf(good));
    const owner: V1OwnerReference = { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', name: 'rainbow', uid: 'u-1' };
    const r = await ensureTlsSecret(io, { ...opts, owner });
    expect(r).toMatchObject({ action: 'owner-added', cert: good.cert });
    expect(io.store.get(NAME)!.metadata!.ownerReferences).toEqual([owner]);
    expect(io.store.get(NAME)!.data).toEqual(secretOf(good).data);
    expect((await ensureTlsSecret(io, { ...opts, owner })).action).toBe('reused');
    const created = new FakeSecrets();
    await ensureTlsSecret(created, { ...opts, owner });
    expect(created.store.get(NAME)!.metadata!.ownerReferences).toEqual([owner]);
  });

  it('says what failed, on which Secret, and what RBAC is missing', async () => {
    const io = new FakeSecrets();
    io.failNext.create = new ApiError(403, 'secrets is forbidden: User "system:serviceaccount:rainbow-system:rainbow-webhook" cannot create resource "secrets"');
    await expect(ensureTlsSecret(io, opts)).rejects.toThrow(/^cannot create Secret rainbow-system\/rainbow-tls: forbidden: .*; the webhook's Role in rainbow-system needs create on secrets$/);
    io.failNext.read = new ApiError(403, 'nope');
    await expect(ensureTlsSecret(io, opts)).rejects.toThrow("cannot get Secret rainbow-system/rainbow-tls: forbidden: nope; the webhook's Role in rainbow-system needs get on secrets (resourceNames [rainbow-tls])");
    io.put(secretOf(await generateServingCertificate({ dnsNames: ['x.svc'] })));
    io.failNext.replace = new ApiError(403, 'nope');
    await expect(ensureTlsSecret(io, opts)).rejects.toThrow(/cannot update Secret .*needs update on secrets \(resourceNames \[rainbow-tls\]\)/);
  });

  it('gives up after repeated conflicts, and refuses renewBefore ≥ validity', async () => {
    const io = new FakeSecrets();
    io.create = async () => {
      throw new ApiError(409, 'exists');
    };
    await expect(ensureTlsSecret(io, { ...opts, attempts: 3 })).rejects.toThrow('Secret rainbow-system/rainbow-tls kept changing while the webhook tried to settle its certificate (3 attempts)');
    await expect(ensureTlsSecret(new FakeSecrets(), { ...opts, validityDays: 10, renewBeforeDays: 10 })).rejects.toThrow(/must be shorter than the validity/);
  });
});
