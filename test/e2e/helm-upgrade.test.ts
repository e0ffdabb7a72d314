// Helm end to end: rainbow-system installed with real helm (webhook by URL, controller in the
// cluster), then rainbow-app upgraded from color A to color B and rolled back.
import { isDeploymentAvailable } from '../../webhook/src/domain/availability.js';
import path from 'node:path';
import { clients, eventually, helm, testNamespace } from './support/cluster.js';
import { installRainbowSystem, type InClusterSystem as RainbowSystem } from './support/system.js';
import { repoRoot } from '../../scripts/cluster/paths.js';

const { core, apps, coordination } = clients();
let ns: Awaited<ReturnType<typeof testNamespace>>;
let system: RainbowSystem;
const chart = path.join(repoRoot, 'chart', 'rainbow-app');
const A = '3c3fdc';
const B = '9d2cc9';

beforeAll(async () => {
  ns = await testNamespace('helm');
  system = await installRainbowSystem(ns.name);
});
afterAll(async () => {
  await system?.uninstall();
  await ns?.remove();
});

const deploy = (color: string, extra: string[] = []) =>
  helm(['upgrade', '--install', 'web', chart, '-n', ns.name, '--set', `color=${color}`, '--set', 'replicas=1', '--set', 'readinessProbe.periodSeconds=1', '--set', 'drain.grace=3s', ...extra]);
const service = () => core.readNamespacedService({ namespace: ns.name, name: 'web' });

test('the controller runs in the cluster under its ServiceAccount and holds the Lease', async () => {
  const lease = await eventually('controller lease held', async () => {
    const l = await coordination.readNamespacedLease({ namespace: system.namespace, name: 'rainbow-controller' }).catch(() => undefined);
    return l?.spec?.holderIdentity ? l : undefined;
  }, 60_000);
  expect(lease.spec?.holderIdentity).toContain('controller');
});

test('upgrade A → B keeps A until B is Available, then serves B; rollback returns to A at once', async () => {
  const first = await deploy(A, ['--wait', '--timeout', '60s']);
  expect(first.code).toBe(0);
  expect((await service()).spec?.selector).toEqual({ 'rainbow.dev/app': 'web', 'rainbow.dev/color': A });

  // B becomes ready only after 5 s: Helm applies the Service first, the webhook keeps A.
  const second = await deploy(B, ['--set', 'readinessProbe.initialDelaySeconds=5']);
  expect(second.code).toBe(0);
  expect(`${second.stdout}\n${second.stderr}`).toMatch(/Warning: Service web: color 9d2cc9 .*still serving 3c3fdc/);
  const held = await service();
  expect(held.spec?.selector?.['rainbow.dev/color']).toBe(A);
  expect(held.metadata?.annotations?.['rainbow.dev/pending-color']).toBe(B);
  const names = (await apps.listNamespacedDeployment({ namespace: ns.name, labelSelector: 'rainbow.dev/app=web' })).items.map((d) => d.metadata!.name).sort();
  expect(names).toEqual([`web-${A}`, `web-${B}`]); // Helm did not delete A

  // The controller promotes B once it is Available.
  const b = await eventually(`web-${B} Available`, async () => {
    const d = await apps.readNamespacedDeployment({ namespace: ns.name, name: `web-${B}` });
    return isDeploymentAvailable(d) ? d : undefined;
  }, 60_000);
  expect(b.metadata?.name).toBe(`web-${B}`);
  const promoted = await eventually('Service on B', async () => {
    const s = await service();
    return s.spec?.selector?.['rainbow.dev/color'] === B ? s : undefined;
  }, 15_000, 100);
  expect(promoted.metadata?.annotations?.['rainbow.dev/pending-color']).toBeUndefined();
  const stamped = await eventually('drain-started on A', async () => {
    const d = await apps.readNamespacedDeployment({ namespace: ns.name, name: `web-${A}` });
    return d.metadata?.annotations?.['rainbow.dev/drain-started'];
  }, 15_000, 100);
  expect(Date.parse(stamped)).not.toBeNaN();
  const events = await eventually('Promoted event', async () => {
    const list = (await core.listNamespacedEvent({ namespace: ns.name })).items;
    return list.some((e) => e.reason === 'Promoted') ? list : undefined;
  }, 15_000);
  expect(events.find((e) => e.reason === 'Promoted')?.source?.component ?? events.find((e) => e.reason === 'Promoted')?.reportingComponent).toBe('rainbow-controller');

  // Rollback to revision 1: A is still running and Available, so the Service moves back at once.
  // The controller changed the selector after Helm's last apply; it must not own the field, or
  // Helm 4's server-side apply would refuse with a conflict (see controller/field-ownership.ts).
  const rollback = await helm(['rollback', 'web', '1', '-n', ns.name]);
  expect(rollback.stderr).not.toMatch(/conflict|Error/);
  expect(rollback.code).toBe(0);
  const back = await service();
  expect(back.spec?.selector?.['rainbow.dev/color']).toBe(A);
  expect(back.metadata?.annotations?.['rainbow.dev/pending-color']).toBeUndefined();
  // B is kept (resource-policy keep), now the previous color.
  await apps.readNamespacedDeployment({ namespace: ns.name, name: `web-${B}` });
});
