// The admin kubeconfig for the local cluster, with the certificates embedded so the file can be copied.
import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { ClusterPki } from './pki.js';

const b64 = (file: string) => readFileSync(file).toString('base64');

export function writeKubeconfig(file: string, server: string, pki: ClusterPki): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'rainbow-local',
    clusters: [{ name: 'rainbow-local', cluster: { server, 'certificate-authority-data': b64(pki.caCert) } }],
    users: [{ name: 'rainbow-admin', user: { 'client-certificate-data': b64(pki.adminCert), 'client-key-data': b64(pki.adminKey) } }],
    contexts: [{ name: 'rainbow-local', context: { cluster: 'rainbow-local', user: 'rainbow-admin', namespace: 'default' } }],
  };
  writeFileSync(file, stringify(config), { mode: 0o600 });
}
