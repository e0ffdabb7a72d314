// Fault: kube-apiserver restarts under a running controller. Its watches break and its Lease
// cannot be renewed for a while; once the API server is back it must relist, recover, and do
// what is due exactly once (here: promote a pending color that became Available meanwhile).
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { restartDaemon } from '../../scripts/cluster/control-plane.js';
import { clients, eventually, testNamespace } from './support/cluster.js';
import { appService, colorDeployment } from './support/app-objects.js';
import { controllerEvents, startController, waitAvailable, type ControllerProcess } from './support/controller.js';

const { core, apps } = clients();
let ns: Awaited<ReturnType<typeof testNamespace>>;
let ctl: ControllerProcess | undefined;

beforeAll(async () => {
  ns = await testNamespace('apiserver-restart');
});
afterAll(async () => {
  await ctl?.stop();
  await ns?.remove();
});

test('the controller recovers from an API server restart and promotes once', async () => {
  const [A, B] = ['a1b2c3', 'b4d5e6'];
  await apps.createNamespacedDeployment({ namespace: ns.name, body: colorDeployment('web', A) });
  await waitAvailable(ns.name, `web-${A}`);
  await core.createNamespacedService({ namespace: ns.name, body: appService('web', A) });
  ctl = startController(ns.name, 'ctl-restart-api');
  await ctl.logged('leading');

  // B becomes ready only after 8 s; the Service asks for it now (what the webhook would record).
  await apps.createNamespacedDeployment({ namespace: ns.name, body: colorDeployment('web', B, { readyAfterSeconds: 8 }) });
  await core.patchNamespacedService(
    { namespace: ns.name, name: 'web', body: { metadata: { annotations: { 'rainbow.dev/pending-color': B } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );

  // The API server goes away for 3 s (SIGTERM, as an operator's restart), then comes back.
  await restartDaemon('kube-apiserver', 3000);

  // kube-controller-manager's own informers back off while the API server is away and can take
  // a minute to count B's ready pod; rainbow's part starts when B is Available.
  await waitAvailable(ns.name, `web-${B}`, 170_000);
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
  // It did notice: its watches failed and were restarted.
  expect(ctl.output()).toMatch(/watch failed; restarting/);
}, 300_000);
