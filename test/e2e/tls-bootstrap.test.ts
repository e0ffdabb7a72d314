// chart/rainbow-system in-cluster mode (no webhook.url) with real helm: the webhook pods (in pod
// sandboxes of the node simulator, under the chart's ServiceAccount and RBAC) bootstrap their TLS
// in the Secret <fullname>-tls with `selfsigned`, serve the same certificate, and inject its CA
// into both webhook configurations. helm upgrade keeps all of it; helm uninstall removes the
// Secret through its ownerReference (the ValidatingWebhookConfiguration) and garbage collection.
//
// The webhooks' namespaceSelector matches only an empty app namespace of this test: nothing else
// is affected.
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';

import type { V1Pod, V1Secret } from '@kubernetes/client-node';

import { logDir, repoRoot } from '../../scripts/cluster/paths.js';
import { clients, eventually, helm, testNamespace } from './support/cluster.js';
import { connectInside } from './support/network.js';

const { core, admission } = clients();
const chart = path.join(repoRoot, 'chart', 'rainbow-system');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

let sys: Awaited<ReturnType<typeof testNamespace>>;
let app: Awaited<ReturnType<typeof testNamespace>>;
let release: string;
let installed = false;
const fullname = () => release; // the release name contains "rainbow": it is the fullname
const secretName = () => `${fullname()}-tls`;
const svc = () => `${fullname()}-webhook`;

beforeAll(async () => {
  sys = await testNamespace('tlsboot');
  app = await testNamespace('tlsboot-app');
  release = `rainbow-${sys.name}`.slice(0, 40).replace(/-+$/, '');
});
afterAll(async () => {
  if (installed) await helm(['uninstall', release, '-n', sys.name, '--wait', '--timeout', '60s']);
  await app?.remove();
  await sys?.remove();
});

const installArgs = (extra: string[] = []) => [
  'upgrade', '--install', release, chart, '-n', sys.name, '--wait', '--timeout', '120s',
  '--set', 'controller.enabled=false',
  '--set', 'webhook.replicas=2',
  '--set-json', `webhook.namespaceSelector=${JSON.stringify({ matchLabels: { 'kubernetes.io/metadata.name': app.name } })}`,
  ...extra,
];

const readSecret = () => core.readNamespacedSecret({ namespace: sys.name, name: secretName() });
const webhookPods = async (): Promise<V1Pod[]> =>
  (await core.listNamespacedPod({ namespace: sys.name, labelSelector: `app.kubernetes.io/instance=${release},app.kubernetes.io/component=webhook` })).items;
const ready = (p: V1Pod) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

async function caBundles(): Promise<string[]> {
  const m = await admission.readMutatingWebhookConfiguration({ name: fullname() });
  const v = await admission.readValidatingWebhookConfiguration({ name: fullname() });
  return [...(m.webhooks ?? []), ...(v.webhooks ?? [])].map((w) => w.clientConfig.caBundle ?? '');
}

/** SHA-256 fingerprint of the certificate served at ip:8443, verified against `ca` for the Service name. */
function servedFingerprint(ip: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // Pod IPs are reachable from inside the cluster's namespace only.
    const socket = tls.connect({ socket: connectInside(ip, 8443), servername: `${svc()}.${sys.name}.svc`, ca, minVersion: 'TLSv1.2' }, () => {
      const fp = socket.getPeerX509Certificate()!.fingerprint256;
      socket.end();
      resolve(fp);
    });
    socket.setTimeout(5000, () => socket.destroy(new Error(`TLS to ${ip}:8443 timed out`)));
    socket.once('error', reject);
  });
}

/** The Secret is the only TLS Secret, valid for the Service, injected everywhere, served by every ready pod. */
async function expectBootstrapped(): Promise<V1Secret> {
  const tlsSecrets = (await core.listNamespacedSecret({ namespace: sys.name })).items.filter((s) => s.type === 'kubernetes.io/tls');
  expect(tlsSecrets.map((s) => s.metadata!.name)).toEqual([secretName()]);
  const secret = tlsSecrets[0]!;
  const ca = unb64(secret.data!['ca.crt']!);
  const cert = new X509Certificate(unb64(secret.data!['tls.crt']!));
  for (const name of [svc(), `${svc()}.${sys.name}`, `${svc()}.${sys.name}.svc`, `${svc()}.${sys.name}.svc.cluster.local`]) expect(cert.checkHost(name)).toBe(name);
  const caCert = new X509Certificate(ca);
  expect(caCert.ca).toBe(true);
  expect(cert.checkIssued(caCert) && cert.verify(caCert.publicKey)).toBe(true);
  expect(secret.metadata!.ownerReferences).toEqual([
    expect.objectContaining({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', name: fullname() }),
  ]);

  const bundles = await eventually('caBundle injected into every entry', async () => {
    const b = await caBundles();
    return b.every((x) => x === secret.data!['ca.crt']) ? b : undefined;
  }, 30_000);
  // One per entry: services; workloads, scale, pods, evictions.
  expect(bundles).toHaveLength(5);

  const pods = await eventually('2 Ready webhook pods', async () => {
    const ps = (await webhookPods()).filter(ready);
    return ps.length === 2 && ps.every((p) => p.status?.podIP) ? ps : undefined;
  }, 60_000);
  const served = await Promise.all(pods.map((p) => servedFingerprint(p.status!.podIP!, ca)));
  expect(served).toEqual([cert.fingerprint256, cert.fingerprint256]);
  return secret;
}

test('helm install: the webhook makes one Secret, serves it from both replicas and injects its CA', async () => {
  const res = await helm(installArgs());
  expect(res.stderr).not.toMatch(/Error/);
  expect(res.code).toBe(0);
  installed = true;
  const secret = await expectBootstrapped();
  expect(secret.metadata!.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'rainbow-webhook' });
  expect(secret.metadata!.annotations?.['meta.helm.sh/release-name']).toBeUndefined();
});

test("under the chart's RBAC, every webhook pod's watch caches list and watch", async () => {
  const pods = (await webhookPods()).filter(ready);
  expect(pods).toHaveLength(2);
  for (const p of pods) {
    const podLogs = path.join(logDir, 'pods');
    const dir = readdirSync(podLogs).find((d) => d.startsWith(`${sys.name}_${p.metadata!.name}_`));
    expect(dir).toBeDefined();
    const log = await eventually(`${p.metadata!.name}: watch caches synced`, async () => {
      const text = readdirSync(path.join(podLogs, dir!)).map((f) => readFileSync(path.join(podLogs, dir!, f), 'utf8')).join('');
      return text.includes('watch caches synced') ? text : undefined;
    }, 30_000);
    // A forbidden list or watch would be logged, and reviews would quietly read live instead.
    expect(log).not.toMatch(/watch cache: list\/watch failed|forbidden/i);
  }
});

test('helm upgrade keeps the Secret, and the caBundle stays injected', async () => {
  const before = await readSecret();
  const oldPods = (await webhookPods()).map((p) => p.metadata!.name);
  const res = await helm(installArgs(['--set', 'webhook.podTimeout=3s']));
  expect(res.code).toBe(0);
  // The pod template changed: new pods, which read the Secret back rather than make one.
  await eventually('webhook pods replaced', async () => {
    const ps = (await webhookPods()).filter(ready);
    return ps.length === 2 && ps.every((p) => !oldPods.includes(p.metadata!.name)) ? ps : undefined;
  }, 90_000);
  const after = await expectBootstrapped();
  expect(after.metadata!.uid).toBe(before.metadata!.uid);
  expect(after.data).toEqual(before.data);
});

test('helm uninstall removes the Secret (owned by the ValidatingWebhookConfiguration)', async () => {
  const res = await helm(['uninstall', release, '-n', sys.name, '--wait', '--timeout', '60s']);
  expect(res.code).toBe(0);
  installed = false;
  await eventually('Secret garbage-collected', async () => {
    try {
      await readSecret();
      return false;
    } catch (err) {
      return (err as { code?: number }).code === 404;
    }
  }, 60_000);
  await expect(admission.readValidatingWebhookConfiguration({ name: fullname() })).rejects.toMatchObject({ code: 404 });
});
