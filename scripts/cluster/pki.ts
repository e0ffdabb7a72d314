// Certificates for the local control plane, made with `selfsigned` (the same library the webhook
// uses): a cluster CA, the API server's serving certificate (its Service, the Node's address and
// the cluster's host address), an admin client certificate in group system:masters, and the
// service-account signing key pair.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';
import { generateCertificateAuthority, generateServingCertificate, type CertificateAuthority } from '../../webhook/src/webhook/tls/self-signed.js';
import { KUBERNETES_SERVICE_IP, NODE_IP } from './network/plan.js';

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

const apiserverNames = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
const apiserverAddresses = (hostAddress: string) => [...new Set(['127.0.0.1', NODE_IP, KUBERNETES_SERVICE_IP, hostAddress])];

async function writeServingCertificate(pki: ClusterPki, ca: CertificateAuthority, hostAddress: string): Promise<void> {
  const server = await generateServingCertificate({ dnsNames: apiserverNames, ipAddresses: apiserverAddresses(hostAddress), ca });
  write(pki.apiserverCert, server.cert);
  write(pki.apiserverKey, server.key, true);
  writeFileSync(path.join(pki.dir, 'apiserver.addresses'), apiserverAddresses(hostAddress).join(','));
}

/**
 * Creates the PKI in `dir` unless it is already there (a restarted cluster keeps its CA); the API
 * server's certificate is made again when the cluster's host address changed.
 */
export async function ensurePki(dir: string, hostAddress: string): Promise<ClusterPki> {
  const pki = files(dir);
  if (Object.values(pki).every((p) => p === dir || existsSync(p))) {
    const made = existsSync(path.join(dir, 'apiserver.addresses')) ? readFileSync(path.join(dir, 'apiserver.addresses'), 'utf8') : '';
    if (made !== apiserverAddresses(hostAddress).join(',')) {
      await writeServingCertificate(pki, { cert: readFileSync(pki.caCert, 'utf8'), key: readFileSync(pki.caKey, 'utf8') }, hostAddress);
    }
    return pki;
  }
  mkdirSync(dir, { recursive: true });
  // The CA and the API server's serving certificate are made the way the webhook makes its own.
  const ca = await generateCertificateAuthority({ commonName: 'rainbow-local-cluster-ca' });
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
  await writeServingCertificate(pki, ca, hostAddress);
  write(pki.adminCert, admin.cert);
  write(pki.adminKey, admin.private, true);
  write(pki.saKey, sa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), true);
  write(pki.saPub, sa.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  return pki;
}
