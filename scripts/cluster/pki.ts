// Certificates for the local control plane, made with `selfsigned` (the same library the webhook
// uses): a cluster CA, the API server's serving certificate for 127.0.0.1 and localhost, an admin
// client certificate in group system:masters, and the service-account signing key pair.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';
import { generateCertificateAuthority, generateServingCertificate } from '../../webhook/src/tls/self-signed.js';

export interface ClusterPki {
  dir: string;
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  adminCert: string;
  adminKey: string;
  saKey: string;
  saPub: string;
}

const DAY = 24 * 3600 * 1000;

function files(dir: string): ClusterPki {
  const f = (n: string) => path.join(dir, n);
  return {
    dir,
    caCert: f('ca.crt'),
    caKey: f('ca.key'),
    apiserverCert: f('apiserver.crt'),
    apiserverKey: f('apiserver.key'),
    adminCert: f('admin.crt'),
    adminKey: f('admin.key'),
    saKey: f('sa.key'),
    saPub: f('sa.pub'),
  };
}

function write(file: string, pem: string, secret = false): void {
  writeFileSync(file, pem, { mode: secret ? 0o600 : 0o644 });
}

/** Creates the PKI in `dir` unless it is already there (a restarted cluster keeps its CA). */
export async function ensurePki(dir: string): Promise<ClusterPki> {
  const pki = files(dir);
  if (Object.values(pki).every((p) => p === dir || existsSync(p))) return pki;
  mkdirSync(dir, { recursive: true });
  // The CA and the API server's serving certificate are made the way the webhook makes its own.
  const ca = await generateCertificateAuthority({ commonName: 'rainbow-local-cluster-ca' });
  const server = await generateServingCertificate({
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default.svc'],
    ipAddresses: ['127.0.0.1'],
    ca,
  });
  // kube-apiserver maps a client certificate's O to groups: system:masters is cluster-admin.
  const admin = await generate(
    [
      { name: 'commonName', value: 'rainbow-admin' },
      { name: 'organizationName', value: 'system:masters' },
    ],
    {
      keyType: 'ec',
      algorithm: 'sha256',
      notBeforeDate: new Date(Date.now() - 60_000),
      notAfterDate: new Date(Date.now() + 365 * DAY),
      ca: { key: ca.key, cert: ca.cert },
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', clientAuth: true },
      ],
    },
  );
  const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  write(pki.caCert, ca.cert);
  write(pki.caKey, ca.key, true);
  write(pki.apiserverCert, server.cert);
  write(pki.apiserverKey, server.key, true);
  write(pki.adminCert, admin.cert);
  write(pki.adminKey, admin.private, true);
  write(pki.saKey, sa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), true);
  write(pki.saPub, sa.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  return pki;
}
