// `scripts/local-cluster record-reviews [DIR]`: records the AdmissionReviews the real API server of
// the running local cluster sends for every way a pod of a color can go — a scale of its
// Deployment or ReplicaSet (spec and scale subresource), a pod template change, a pod DELETE and
// an eviction — into DIR (default test/fixtures/admission/recorded). A recording webhook (HTTPS on
// the cluster namespace's loopback, allowing everything) is registered for one scratch namespace
// with the chart's objectSelector, so the recording also shows which requests that selector lets
// through. Everything it creates is removed at the end.
import { mkdirSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api, KubeConfig, type V1ValidatingWebhook } from '@kubernetes/client-node';
import { generateServingCertificate } from '../../webhook/src/webhook/tls/self-signed.js';
import { execArgs } from './control-plane.js';
import { clusterHttpsGet, insidePort } from './network/portal.js';
import { kubeconfigPath, repoRoot } from './paths.js';
import { eventually } from './poll.js';
import { startDaemon, stopDaemon } from './processes.js';
import { progress } from './progress.js';
import { runTool } from './run-tool.js';

/** The recording server, run inside the cluster namespace: every review to DIR, then allowed. */
function serve(port: number, dir: string, cert: string, key: string): void {
  let seq = 0;
  https
    .createServer({ cert, key }, (req, res) => {
      if (req.method !== 'POST') {
        res.writeHead(200).end('ok');
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request: { uid: string; operation: string; name?: string; resource: { resource: string }; subResource?: string } };
        const r = review.request;
        // The path names the entry that called (see the configuration below).
        const entry = (req.url ?? '/').split('?')[0]!.replace(/^\//, '') || 'unknown';
        const file = `${String(++seq).padStart(2, '0')}-${r.resource.resource}${r.subResource ? `-${r.subResource}` : ''}-${r.operation.toLowerCase()}-${r.name ?? 'unnamed'}.${entry}.json`;
        writeFileSync(path.join(dir, file), `${JSON.stringify(review, null, 2)}\n`);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: r.uid, allowed: true } }));
      });
    })
    .listen(port, '127.0.0.1');
}

export async function recordReviews(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const tls = await generateServingCertificate({ dnsNames: [], ipAddresses: ['127.0.0.1'] });
  const port = insidePort();
  // The compiled file, also when this module was loaded from source (the e2e tests).
  const compiled = path.join(repoRoot, 'dist', 'scripts', 'cluster', 'record-reviews.js');
  const [cmd, ...args] = execArgs([process.execPath, compiled, '--serve', String(port), dir]);
  const log = path.join(os.tmpdir(), `rainbow-record-reviews-${process.pid}.log`);
  const server = startDaemon('record-reviews', cmd!, args, log, { ...process.env, RECORD_CERT: tls.cert, RECORD_KEY: tls.key });
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  const ns = `record-reviews-${Date.now().toString(36)}`;
  const name = `rainbow-${ns}`;
  const kubectl = async (...a: string[]) => {
    const r = await runTool('kubectl', ['-n', ns, ...a]);
    if (r.code !== 0) throw new Error(`kubectl ${a.join(' ')}: ${r.stderr}`);
    progress(`  kubectl ${a.join(' ')}`);
  };
  try {
    await eventually('the recording webhook', async () => (await clusterHttpsGet(`https://127.0.0.1:${port}/`, tls.caCert, 1000)).status === 200, 20_000, 100);
    await core.createNamespace({ body: { metadata: { name: ns } } });
    const hook = (entry: string, rules: V1ValidatingWebhook['rules'], withObjectSelector: boolean): V1ValidatingWebhook => ({
      name: `${entry}.record.rainbow.dev`,
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      failurePolicy: 'Ignore',
      timeoutSeconds: 5,
      clientConfig: { url: `https://127.0.0.1:${port}/${entry}`, caBundle: Buffer.from(tls.caCert).toString('base64') },
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
      ...(withObjectSelector ? { objectSelector: { matchExpressions: [{ key: 'rainbow.dev/app', operator: 'Exists' }] } } : {}),
      rules,
    });
    const rule = (apiGroups: string[], resources: string[], operations: string[]) => ({ apiGroups, apiVersions: ['v1'], operations, resources, scope: 'Namespaced' as const });
    await admission.createValidatingWebhookConfiguration({
      body: {
        metadata: { name },
        webhooks: [
          // With the chart's objectSelector: the files named .selected are what it lets through.
          hook('selected', [rule([''], ['pods'], ['DELETE']), rule([''], ['pods/eviction'], ['CREATE']), rule(['apps'], ['deployments', 'replicasets', 'deployments/scale', 'replicasets/scale'], ['UPDATE'])], true),
          // Subresources without a selector (.unselected), to see what they hold.
          hook('unselected', [rule([''], ['pods/eviction'], ['CREATE']), rule(['apps'], ['deployments/scale', 'replicasets/scale'], ['UPDATE'])], false),
        ],
      },
    });
    const labels = { 'rainbow.dev/app': 'web', 'rainbow.dev/color': '3c3fdc' };
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web-3c3fdc', labels },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'reporter', image: 'rainbow:record', args: ['reporter', '--ports', '8081'] }] } },
        },
      },
    });
    const pods = await eventually('2 running pods', async () => {
      const ps = (await core.listNamespacedPod({ namespace: ns })).items.filter((p) => p.status?.phase === 'Running');
      return ps.length === 2 ? ps : undefined;
    }, 60_000, 200);
    progress(`recording into ${dir}`);
    // Pods first, while both run: a user's delete, and what `kubectl drain` sends for each pod.
    await kubectl('delete', 'pod', pods[0]!.metadata!.name!, '--wait=false');
    await core.createNamespacedPodEviction({ name: pods[1]!.metadata!.name!, namespace: ns, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pods[1]!.metadata!.name!, namespace: ns } } });
    progress(`  eviction of ${pods[1]!.metadata!.name}`);
    await kubectl('scale', 'deployment', 'web-3c3fdc', '--replicas=3');
    await kubectl('patch', 'deployment', 'web-3c3fdc', '--type=merge', '-p', '{"spec":{"replicas":2}}');
    const rs = (await apps.listNamespacedReplicaSet({ namespace: ns })).items[0]!.metadata!.name!;
    await kubectl('set', 'env', 'deployment/web-3c3fdc', 'RECORDED=yes');
    await kubectl('scale', 'replicaset', rs, '--replicas=1');
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    await admission.deleteValidatingWebhookConfiguration({ name }).catch(() => undefined);
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
    await stopDaemon(server, 5_000);
  }
}

export const defaultRecordDir = path.join(repoRoot, 'test', 'fixtures', 'admission', 'recorded');

// Started by recordReviews inside the cluster namespace as `node record-reviews.js --serve PORT DIR`.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--serve') {
  serve(Number(process.argv[3]), process.argv[4]!, process.env.RECORD_CERT!, process.env.RECORD_KEY!);
}
