// The admission webhook end to end: `rainbow webhook` as a process next to the API server,
// registered by URL; real pods of the project's image holding real TCP connections through
// kube-proxy.
import { isDeploymentAvailable } from '../../webhook/src/domain/availability.js';
import { clients, eventually, kubectl, testNamespace } from './support/cluster.js';
import { connectionsOf as colorConnections, openStream, openStreamTo } from './support/controller.js';
import { clusterHost, connectInside } from './support/network.js';
import { startWebhook, type RegisteredWebhook } from './support/webhook.js';
import { appService, colorDeployment } from '../../scripts/cluster/app-objects.js';

const { core, apps } = clients();
let ns: Awaited<ReturnType<typeof testNamespace>>;
let webhook: RegisteredWebhook;
const A = 'a1b2c3';
const B = 'b4d5e6';


async function waitAvailable(name: string) {
  return eventually(`${name} Available`, async () => {
    const d = await apps.readNamespacedDeployment({ namespace: ns.name, name });
    return isDeploymentAvailable(d) ? d : undefined;
  }, 60_000);
}

/** A stream through the Service's NodePort on the cluster's host address, as a client would hold one. */
const openNodePortStream = (nodePort: number) => openStream(clusterHost(), nodePort);
const connectionsOf = (deployment: string) => colorConnections(ns.name, deployment.split('-').pop()!);

beforeAll(async () => {
  ns = await testNamespace('webhook');
  webhook = await startWebhook(ns.name);
});
afterAll(async () => {
  await webhook?.stop();
  await ns?.remove();
});

test('the webhook answers health, readiness and metrics over HTTPS', async () => {
  const res = await kubectl(['get', '--raw', '/api/v1/namespaces/default']); // the cluster itself is fine
  expect(res.code).toBe(0);
  expect(webhook.process.output()).toContain('rainbow webhook serving');
});

test('the API server calls the Service webhook only for updates the cutover can act on (matchConditions)', async () => {
  await apps.createNamespacedDeployment({ namespace: ns.name, body: colorDeployment('calls', A, { replicas: 1 }) });
  await waitAvailable(`calls-${A}`);
  await core.createNamespacedService({ namespace: ns.name, body: appService('calls', A, { 'rainbow.dev/drain-grace': '60s' }, 'ClusterIP') });
  const reviews = () => webhook.metric('rainbow_admission_requests_total', 'webhook="mutate-services"');
  const start = await reviews();
  let expected = 0;
  const update = async (args: string[], called: boolean) => {
    const res = await kubectl(['-n', ns.name, ...args]);
    expect([args.join(' '), res.code]).toEqual([args.join(' '), 0]);
    if (called) expected += 1;
    // A call is counted the moment it is answered, before kubectl returns; a count that reaches
    // `expected` later would mean the API server called the webhook for an update it should skip.
    expect([args.join(' '), await reviews() - start]).toEqual([args.join(' '), expected]);
    return res;
  };
  await update(['annotate', 'service', 'calls', 'example.com/owner=team-a'], false);
  await update(['label', 'service', 'calls', 'tier=front'], false);
  await update(['annotate', 'service', 'calls', 'example.com/owner=team-b', '--overwrite'], false);
  await update(['annotate', 'service', 'calls', 'rainbow.dev/drain-grace=5m', '--overwrite'], true);
  const dropped = await update(['patch', 'service', 'calls', '--type=merge', '-p', JSON.stringify({ spec: { selector: { 'rainbow.dev/color': null } } })], true);
  // The webhook acted on the last one: the color the app serves is filled in again.
  expect(dropped.stderr).toContain(`filled in ${A}`);
  const svc = await core.readNamespacedService({ namespace: ns.name, name: 'calls' });
  expect(svc.spec?.selector?.['rainbow.dev/color']).toBe(A);
});

test('cutover, delete guard and drain, step by step', async () => {
  // Color A, first deploy: nothing serves yet, so the Service takes A as it is.
  await apps.createNamespacedDeployment({ namespace: ns.name, body: colorDeployment('web', A, { replicas: 2 }) });
  await waitAvailable(`web-${A}`);
  const svc = await core.createNamespacedService({ namespace: ns.name, body: appService('web', A) });
  expect(svc.spec?.selector?.['rainbow.dev/color']).toBe(A);
  const nodePort = svc.spec!.ports!.find((p) => p.name === 'tcp')!.nodePort!;

  // A long-lived stream to color A.
  const old = await openNodePortStream(nodePort);
  expect(old.lines[0]).toBe(`The color is #${A}`);

  // Color B is created but not Available yet (readiness starts after 6 s): asking the Service for B
  // keeps A, records B as pending, and kubectl shows the webhook's warning.
  await apps.createNamespacedDeployment({ namespace: ns.name, body: colorDeployment('web', B, { replicas: 2, readyAfterSeconds: 6 }) });
  const patch = await kubectl(['-n', ns.name, 'patch', 'service', 'web', '--type=merge', '-p', JSON.stringify({ spec: { selector: { 'rainbow.dev/color': B } } })]);
  expect(patch.code).toBe(0);
  expect(patch.stderr).toMatch(/Warning: .*b4d5e6.*not Available/);
  let now = await core.readNamespacedService({ namespace: ns.name, name: 'web' });
  expect(now.spec?.selector?.['rainbow.dev/color']).toBe(A);
  expect(now.metadata?.annotations?.['rainbow.dev/pending-color']).toBe(B);

  // Deleting the serving color is refused.
  const delServing = await kubectl(['-n', ns.name, 'delete', 'deployment', `web-${A}`, '--wait=false']);
  expect(delServing.code).not.toBe(0);
  expect(delServing.stderr).toContain('denied the request');
  expect(delServing.stderr).toMatch(/serv/);

  // Once B is Available, the same request switches the Service to B (no controller in this test).
  await waitAvailable(`web-${B}`);
  const switched = await kubectl(['-n', ns.name, 'patch', 'service', 'web', '--type=merge', '-p', JSON.stringify({ spec: { selector: { 'rainbow.dev/color': B } } })]);
  expect(switched.code).toBe(0);
  now = await core.readNamespacedService({ namespace: ns.name, name: 'web' });
  expect(now.spec?.selector?.['rainbow.dev/color']).toBe(B);
  expect(now.metadata?.annotations?.['rainbow.dev/pending-color']).toBeUndefined();

  // New streams get B, the old one keeps printing A.
  const fresh = await openStreamTo(B, clusterHost(), nodePort);
  expect(fresh.lines[0]).toBe(`The color is #${B}`);
  expect(old.socket.destroyed).toBe(false);

  // A still holds the old stream: deleting A is refused, naming the count and how to proceed.
  expect(await connectionsOf(`web-${A}`)).toBe(1);
  const refused = await kubectl(['-n', ns.name, 'delete', 'deployment', `web-${A}`, '--wait=false']);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/1 established connection/);
  expect(refused.stderr).toContain('rainbow.dev/force-delete');
  // A server-side dry run gets the same answer and changes nothing.
  const dry = await kubectl(['-n', ns.name, 'delete', 'deployment', `web-${A}`, '--dry-run=server']);
  expect(dry.code).not.toBe(0);
  expect(dry.stderr).toMatch(/1 established connection/);
  // So is scaling it to zero.
  const scale = await kubectl(['-n', ns.name, 'scale', 'deployment', `web-${A}`, '--replicas=0']);
  expect(scale.code).not.toBe(0);
  expect(scale.stderr).toMatch(/established connection/);

  // The old client leaves: A drains to 0 and the delete goes through.
  old.socket.destroy();
  await eventually('color A drained', async () => (await connectionsOf(`web-${A}`)) === 0, 20_000);
  const deleted = await kubectl(['-n', ns.name, 'delete', 'deployment', `web-${A}`, '--wait=false']);
  expect(deleted.stderr).toBe('');
  expect(deleted.code).toBe(0);
  fresh.socket.destroy();
});

test('force-delete lets a color with connections go, with a warning', async () => {
  const C = 'c0ffee';
  await apps.createNamespacedDeployment({ namespace: ns.name, body: colorDeployment('cafe', C) });
  await waitAvailable(`cafe-${C}`);
  const pod = (await core.listNamespacedPod({ namespace: ns.name, labelSelector: `rainbow.dev/color=${C}` })).items[0];
  const s = connectInside(pod.status!.podIP!, 8081);
  await new Promise((r) => s.once('data', r));
  const refused = await kubectl(['-n', ns.name, 'delete', 'deployment', `cafe-${C}`, '--wait=false']);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain(pod.metadata!.name!);
  await kubectl(['-n', ns.name, 'annotate', 'deployment', `cafe-${C}`, 'rainbow.dev/force-delete=true']);
  const forced = await kubectl(['-n', ns.name, 'delete', 'deployment', `cafe-${C}`, '--wait=false']);
  expect(forced.code).toBe(0);
  expect(forced.stderr).toMatch(/Warning: .*force-delete/);
  s.destroy();
});
