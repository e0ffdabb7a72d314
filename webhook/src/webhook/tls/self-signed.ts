// Certificates for the webhook's HTTPS endpoint, made with `selfsigned` (v5: async, WebCrypto).
// The API server must trust the webhook, so we make a small CA (its certificate becomes the
// webhook configurations' caBundle) and a serving certificate it signs for the Service's DNS
// names (and IPs, for a webhook running outside the cluster at `webhook.url`).
//
// The CA key is used once and dropped: nobody can mint further certificates the API server
// would trust; renewal makes a new CA and re-injects the caBundle.

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';

import { generate } from 'selfsigned';

export interface CertificateAuthority {
  /** PEM certificate. */
  cert: string;
  /** PEM private key (PKCS#8). */
  key: string;
}

export interface ServingCertificateRequest {
  /** DNS SANs, e.g. rainbow-webhook.rainbow-system.svc. The first one is also the CN. */
  dnsNames: readonly string[];
  /** IP SANs (IPv4 or IPv6), e.g. 127.0.0.1 for a webhook outside the cluster. */
  ipAddresses?: readonly string[];
  /** Validity in days from now (default 365). */
  validityDays?: number;
  /** Subject CN of the CA (default "rainbow-webhook-ca-<random>"). */
  caCommonName?: string;
  /** Sign with this CA instead of making a new one. It must use the same key type. */
  ca?: CertificateAuthority;
  /** "ec" (P-256, default: fast to make, accepted by the API server) or "rsa" (2048). */
  keyType?: 'ec' | 'rsa';
}

export interface ServingCertificate {
  /** PEM CA certificate: the caBundle, and ca.crt next to tls.crt. */
  caCert: string;
  /** PEM serving certificate (tls.crt). */
  cert: string;
  /** PEM serving key (tls.key). */
  key: string;
}

// Certificates start a little in the past: a node whose clock runs behind would otherwise
// reject a certificate made seconds ago on another node.
const CLOCK_SKEW_MS = 5 * 60 * 1000;

function validity(days: number): { notBeforeDate: Date; notAfterDate: Date } {
  if (!Number.isFinite(days) || days <= 0) {
    throw new Error(`certificate validity must be a positive number of days, got ${days}`);
  }
  const now = Date.now();
  return { notBeforeDate: new Date(now - CLOCK_SKEW_MS), notAfterDate: new Date(now + days * 86_400_000) };
}

/**
 * Make a CA certificate and key (basicConstraints cA, keyCertSign). The default CN carries a
 * random suffix: selfsigned adds no key identifiers, so verifiers find an issuer by name, and
 * two CAs with one name (old and new in a caBundle during a rotation) would be confused.
 */
export async function generateCertificateAuthority(
  opts: { commonName?: string; validityDays?: number; keyType?: 'ec' | 'rsa' } = {},
): Promise<CertificateAuthority> {
  const keyType = opts.keyType ?? 'ec';
  const commonName = opts.commonName ?? `rainbow-webhook-ca-${randomBytes(4).toString('hex')}`;
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    ...keyOptions(keyType),
    ...validity(opts.validityDays ?? 365),
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** Make (or reuse) a CA and a serving certificate it signs for the given SANs. */
export async function generateServingCertificate(req: ServingCertificateRequest): Promise<ServingCertificate> {
  const dnsNames = [...req.dnsNames];
  const ips = [...(req.ipAddresses ?? [])];
  if (dnsNames.length === 0 && ips.length === 0) {
    throw new Error('a serving certificate needs at least one DNS name or IP address to be valid for');
  }
  for (const ip of ips) {
    if (isIP(ip) === 0) throw new Error(`"${ip}" is not an IP address; put host names in dnsNames`);
  }
  for (const name of dnsNames) {
    if (name.length === 0 || isIP(name) !== 0 || /[\s/:]/.test(name)) {
      throw new Error(`"${name}" is not a DNS name; put IP addresses in ipAddresses`);
    }
  }
  const keyType = req.keyType ?? 'ec';
  const validityDays = req.validityDays ?? 365;
  const ca =
    req.ca ?? (await generateCertificateAuthority({ commonName: req.caCommonName, validityDays, keyType }));

  const pems = await generate([{ name: 'commonName', value: dnsNames[0] ?? ips[0]! }], {
    ...keyOptions(keyType),
    ...validity(validityDays),
    algorithm: 'sha256',
    ca: { cert: ca.cert, key: ca.key },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      // keyEncipherment only means something for RSA key exchange.
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: keyType === 'rsa', critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...dnsNames.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))],
      },
    ],
  });
  return { caCert: ca.cert, cert: pems.cert, key: pems.private };
}

function keyOptions(keyType: 'ec' | 'rsa'): { keyType: 'ec' | 'rsa'; curve?: 'P-256'; keySize?: number } {
  return keyType === 'ec' ? { keyType, curve: 'P-256' } : { keyType, keySize: 2048 };
}

/** File names in a cert dir, as in a kubernetes.io/tls Secret (plus ca.crt). */
export const CERT_FILE = 'tls.crt';
export const KEY_FILE = 'tls.key';
export const CA_FILE = 'ca.crt';

/**
 * Write tls.crt, tls.key (mode 0600) and ca.crt into `dir` (created if missing).
 * Each file is written to a temporary name and renamed over the old one, so a watcher never
 * reads half a file.
 */
export async function writeCertificateFiles(dir: string, pems: ServingCertificate): Promise<void> {
  await mkdir(dir, { recursive: true });
  // Order: ca.crt, tls.key, tls.crt. A reader that catches the key already new but the
  // certificate still old sees a mismatch, which the cert-dir watcher reports and retries.
  await writeAtomic(path.join(dir, CA_FILE), pems.caCert, 0o644);
  await writeAtomic(path.join(dir, KEY_FILE), pems.key, 0o600);
  await writeAtomic(path.join(dir, CERT_FILE), pems.cert, 0o644);
}

async function writeAtomic(file: string, content: string, mode: number): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode, flag: 'wx' });
  await chmod(tmp, mode); // the umask may have narrowed or (for an existing file) not applied the mode
  await rename(tmp, file);
}
