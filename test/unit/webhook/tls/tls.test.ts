import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';

import { loadCertDir, watchCertDir, type CertKeyPair, type CertDirWatcher } from '../../../../webhook/src/webhook/tls/cert-dir.js';
import {
  generateCertificateAuthority,
  generateServingCertificate,
  writeCertificateFiles,
  type ServingCertificate,
} from '../../../../webhook/src/webhook/tls/self-signed.js';

const SERVICE_DNS = 'rainbow-webhook.rainbow-system.svc';

let dir: string;
const cleanups: (() => unknown)[] = [];
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rainbow-tls-'));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await rm(dir, { recursive: true, force: true });
});

describe('generateServingCertificate', () => {
  it('makes a CA and a serving certificate it signs, for the given SANs and days', async () => {
    const pems = await generateServingCertificate({
      dnsNames: [SERVICE_DNS, `${SERVICE_DNS}.cluster.local`],
      ipAddresses: ['127.0.0.1'],
      validityDays: 30,
    });
    const ca = new X509Certificate(pems.caCert);
    const cert = new X509Certificate(pems.cert);
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subject).toBe(`CN=${SERVICE_DNS}`);
    expect(ca.subject).toMatch(/^CN=rainbow-webhook-ca-[0-9a-f]{8}$/);
    expect(cert.subjectAltName).toBe(`DNS:${SERVICE_DNS}, DNS:${SERVICE_DNS}.cluster.local, IP Address:127.0.0.1`);
    expect(cert.checkHost(SERVICE_DNS)).toBe(SERVICE_DNS);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    expect(Date.parse(cert.validFrom)).toBeLessThan(Date.now());
    expect(pems.key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(pems.key))).toBe(true);
  });

  it('signs with a given CA, and makes RSA keys on request', async () => {
    const ca = await generateCertificateAuthority({ keyType: 'rsa', validityDays: 10 });
    const pems = await generateServingCertificate({ dnsNames: ['localhost'], ca, keyType: 'rsa' });
    expect(pems.caCert).toBe(ca.cert);
    expect(new X509Certificate(pems.cert).checkIssued(new X509Certificate(ca.cert))).toBe(true);
    expect(new X509Certificate(pems.cert).publicKey.asymmetricKeyType).toBe('rsa');
  });

  it('rejects requests it cannot honour, saying why', async () => {
    await expect(generateServingCertificate({ dnsNames: [] })).rejects.toThrow(/at least one DNS name or IP/);
    await expect(generateServingCertificate({ dnsNames: ['a.svc'], ipAddresses: ['a.svc'] })).rejects.toThrow(/"a.svc" is not an IP address/);
    await expect(generateServingCertificate({ dnsNames: ['10.0.0.1'] })).rejects.toThrow(/put IP addresses in ipAddresses/);
    await expect(generateServingCertificate({ dnsNames: ['a.svc'], validityDays: 0 })).rejects.toThrow(/positive number of days/);
  });
});

describe('writeCertificateFiles', () => {
  it('writes tls.crt, tls.key (0600) and ca.crt, and keeps 0600 when overwriting', async () => {
    const pems = await generateServingCertificate({ dnsNames: ['localhost'] });
    const target = path.join(dir, 'certs');
    await writeCertificateFiles(target, pems);
    await writeCertificateFiles(target, pems);
    expect(await readFile(path.join(target, 'tls.crt'), 'utf8')).toBe(pems.cert);
    expect(await readFile(path.join(target, 'tls.key'), 'utf8')).toBe(pems.key);
    expect(await readFile(path.join(target, 'ca.crt'), 'utf8')).toBe(pems.caCert);
    expect((await stat(path.join(target, 'tls.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(target, 'tls.crt'))).mode & 0o777).toBe(0o644);
  });
});

describe('cert dir: serve, rotate, survive bad files', () => {
  /** HTTPS server on 127.0.0.1:0 from the cert dir, reloading through watchCertDir. */
  async function startServer(errors: Error[]): Promise<{ port: number; watcher: CertDirWatcher }> {
    const initial = await loadCertDir(dir);
    const server = https.createServer({ ...initial, minVersion: 'TLSv1.2' }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    });
    const watcher = watchCertDir(dir, {
      initial,
      intervalMs: 60_000, // the tests call checkNow(); polling itself is tested separately
      onChange: (pair: CertKeyPair) => server.setSecureContext({ ...pair, minVersion: 'TLSv1.2' }),
      onError: (err) => errors.push(err),
    });
    cleanups.push(() => watcher.stop());
    return { port: (server.address() as AddressInfo).port, watcher };
  }

  /** One fresh HTTPS request; resolves with the served certificate's fingerprint and protocol. */
  function fetchPeer(port: number, caCert: string, servername = SERVICE_DNS): Promise<{ fingerprint: string; protocol: string; body: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port, path: '/', ca: caCert, servername, agent: false, minVersion: 'TLSv1.2' },
        (res) => {
          const socket = res.socket as TLSSocket;
          const peer = socket.getPeerCertificate();
          const protocol = socket.getProtocol() ?? '';
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ fingerprint: peer.fingerprint256, protocol, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  const fingerprint = (pems: ServingCertificate): string => new X509Certificate(pems.cert).fingerprint256;

  it('serves the certificate with TLS ≥ 1.2 to a client trusting the CA with the right server name', async () => {
    const first = await generateServingCertificate({ dnsNames: [SERVICE_DNS], validityDays: 1 });
    await writeCertificateFiles(dir, first);
    const { port } = await startServer([]);

    const peer = await fetchPeer(port, first.caCert);
    expect(peer.body).toBe('ok');
    expect(peer.fingerprint).toBe(fingerprint(first));
    expect(['TLSv1.2', 'TLSv1.3']).toContain(peer.protocol);

    await expect(fetchPeer(port, first.caCert, 'wrong.example')).rejects.toThrow(/altnames|does not match/i);
    const other = await generateServingCertificate({ dnsNames: [SERVICE_DNS], validityDays: 1 });
    await expect(fetchPeer(port, other.caCert)).rejects.toThrow(/unable to verify the first certificate|unable to get local issuer/i);
  });

  it('picks up rotated files for new connections without a restart', async () => {
    const ca = await generateCertificateAuthority({ validityDays: 1 });
    const first = await generateServingCertificate({ dnsNames: [SERVICE_DNS], ca, validityDays: 1 });
    await writeCertificateFiles(dir, first);
    const errors: Error[] = [];
    const { port, watcher } = await startServer(errors);
    expect((await fetchPeer(port, ca.cert)).fingerprint).toBe(fingerprint(first));

    const second = await generateServingCertificate({ dnsNames: [SERVICE_DNS], ca, validityDays: 1 });
    await writeCertificateFiles(dir, second);
    await watcher.checkNow();

    expect(errors).toEqual([]);
    expect(watcher.current?.cert).toBe(second.cert);
    expect((await fetchPeer(port, ca.cert)).fingerprint).toBe(fingerprint(second));
    expect(fingerprint(second)).not.toBe(fingerprint(first));
  });

  it('keeps the old certificate and reports once when rotated files are invalid', async () => {
    const ca = await generateCertificateAuthority({ validityDays: 1 });
    const first = await generateServingCertificate({ dnsNames: [SERVICE_DNS], ca, validityDays: 1 });
    await writeCertificateFiles(dir, first);
    const errors: Error[] = [];
    const { port, watcher } = await startServer(errors);

    await writeFile(path.join(dir, 'tls.crt'), 'not a certificate');
    await watcher.checkNow();
    await watcher.checkNow(); // same bad content: not reported again
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/tls\.crt is not a PEM certificate.*still serving the previous certificate/);
    expect((await fetchPeer(port, ca.cert)).fingerprint).toBe(fingerprint(first));

    // A key from another issuance: the pair does not fit.
    const stranger = await generateServingCertificate({ dnsNames: [SERVICE_DNS], ca, validityDays: 1 });
    await writeFile(path.join(dir, 'tls.crt'), first.cert);
    await writeFile(path.join(dir, 'tls.key'), stranger.key);
    await watcher.checkNow();
    expect(errors).toHaveLength(2);
    expect(errors[1]!.message).toMatch(/tls\.key does not fit .*tls\.crt/);
    expect(watcher.current?.cert).toBe(first.cert);
    expect((await fetchPeer(port, ca.cert)).fingerprint).toBe(fingerprint(first));

    // Fixed files are picked up again.
    await writeCertificateFiles(dir, stranger);
    await watcher.checkNow();
    expect((await fetchPeer(port, ca.cert)).fingerprint).toBe(fingerprint(stranger));
    expect(errors).toHaveLength(2);
  });

  it('polls on its own at the given interval', async () => {
    const first = await generateServingCertificate({ dnsNames: ['localhost'], validityDays: 1 });
    await writeCertificateFiles(dir, first);
    const changes: CertKeyPair[] = [];
    const watcher = watchCertDir(dir, { initial: await loadCertDir(dir), intervalMs: 50, onChange: (p) => changes.push(p), onError: () => {} });
    cleanups.push(() => watcher.stop());
    const second = await generateServingCertificate({ dnsNames: ['localhost'], validityDays: 1 });
    await writeCertificateFiles(dir, second);
    const deadline = Date.now() + 3000;
    while (changes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(changes.map((c) => c.cert)).toEqual([second.cert]);
  });

  it('loadCertDir names the missing file and what to check', async () => {
    await expect(loadCertDir(path.join(dir, 'nope'))).rejects.toThrow(/cannot read .*nope\/tls\.crt \(ENOENT\); check --cert-dir/);
  });
});
