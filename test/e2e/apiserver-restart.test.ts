// Fault: kube-apiserver restarts under a running controller and webhook. Their watches break and
// the controller's Lease cannot be renewed for a while; once the API server is back the
// controller must relist, recover, and do what is due exactly once (here: promote a pending color
// that became Available meanwhile), and the webhook must decide from the state after the restart.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { restartDaemon } from '../../scripts/cluster/control-plane.js';
import { clients, eventually, testNamespace } from './support/cluster.js';
import { appService, colorDeployment } from '../../scripts/cluster/app-objects.js';
import { controllerEvents, startController, waitAvailable, type ControllerProcess } from './support/controller.js';
import { startWebhook, type RegisteredWebhook } from './support/webhook.js';

const { core, apps } = clients();
let ns: Awaited<ReturnType<typeof testNamespace>>;
let ctl: ControllerProcess | undefined;
let webhook: RegisteredWebhook | undefined;

beforeAll(async () => {
  ns = await testNamespace('apiserver-restart');
});
afterAll(async () => {
  await ctl?.stop();
  await webhook?.stop();
  await ns?.remove();
});

test('the controller recovers from an API server restart and promotes once; the webhook decides on fresh state', async () => {
  const [A, B] = ['a1b2c3', 'b4d5e6'];
  await apps.createNamespacedDeployment({ namespace: ns.name, body: colorDeployment('web', A) });
  await waitAvailable(ns.name, `web-${A}`);
  await core.createNamespacedService({ namespace: ns.name, body: appService('web', A) });
  ctl = startController(ns.name, 'ctl-restart-api');
  await ctl.logged('leading');
  webhook = await startWebhook(ns.name);

  // B becomes ready only after 8 s. The Service asks for it now, as `helm upgrade` would: the
  // webhook keeps A and records B as pending.
  await apps.createNamespacedDeployment({ namespace: ns.name, body: colorDeployment('web', B, { readyAfterSeconds: 8 }) });
  const asked = await core.patchNamespacedService(
    { namespace: ns.name, name: 'web', body: { spec: { selector: { 'rainbow.dev/color': B } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  expect(asked.spec?.selector?.['rainbow.dev/color']).toBe(A);
  expect(asked.metadata?.annotations?.['rainbow.dev/pending-color']).toBe(B);

  // The API server goes away for 3 s (SIGTERM, as an operator's restart), then comes back.
  await restartDaemon('kube-apiserver', 3000);

  // kube-controller-manager has to notice the restart too before it counts B's ready pod
  // (seconds, as the local cluster runs it over HTTP/1.1); rainbow's part starts when B is Available.
  await waitAvailable(ns.name, `web-${B}`, 120_000);
  const svc = await eventually('Service promoted to B once B is Available', async () => {
    const s = await core.readNamespacedService({ namespace: ns.name, name: 'web' });
    return s.spec?.selector?.['rainbow.dev/color'] === B ? s : undefined;
  }, 15_000, 100);
  expect(svc.metadata?.annotations?.['rainbow.dev/pending-color']).toBeUndefined();
  expect(ctl.proc.exitCode).toBeNull(); // it recovered; it did not die and get restarted

  // Acted once: one Promoted Event on B's Deployment, one DrainStarted on A.
  await eventually('DrainStarted on A', async () => (await controllerEvents(ns.name)).some((e) => e.reason === 'DrainStarted' && e.object === `web-${A}`), 15_000);
  await new Promise((r) => setTimeout(r, 3000)); // a few more reconcile rounds
  const events = await controllerEvents(ns.name);
  expect(events.filter((e) => e.reason === 'Promoted' && e.kind === 'Deployment' && e.object === `web-${B}`)).toHaveLength(1);
  expect(events.filter((e) => e.reason === 'DrainStarted' && e.object === `web-${A}`)).toHaveLength(1);
  // It did notice: its watches failed and were established again.
  expect(ctl.output()).toMatch(/watch failed; restarting/);
  expect(ctl.output()).toMatch(/watch established again/);

  // The webhook's watch caches broke too; it now holds B (Available only since the restart)
  // against a color that does not exist, which it can only do from state read after the restart.
  expect(webhook.process.proc.exitCode).toBeNull();
  await eventually('webhook caches watching again', async () => /watch cache: watching again/.test(webhook!.process.output()), 30_000);
  const held = await core.patchNamespacedService(
    { namespace: ns.name, name: 'web', body: { spec: { selector: { 'rainbow.dev/color': 'c0c0c0' } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  expect(held.spec?.selector?.['rainbow.dev/color']).toBe(B);
  expect(held.metadata?.annotations?.['rainbow.dev/pending-color']).toBe('c0c0c0');
}, 240_000);
