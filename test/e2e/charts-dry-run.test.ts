// Every object the two charts render is accepted by the real API server, in a namespace that
// enforces Pod Security "restricted" (server-side dry run: admission runs, nothing is stored).
// Enforcement applies to Pods; for a Deployment's pod template the API server only warns, so the
// namespace also says warn=restricted and the tests require kubectl's stderr to be empty.
import { helm, kubectl, testNamespace } from './support/cluster.js';
import path from 'node:path';
import { repoRoot } from '../../scripts/cluster/paths.js';

let ns: Awaited<ReturnType<typeof testNamespace>>;
beforeAll(async () => {
  ns = await testNamespace('charts', { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted' });
});
afterAll(async () => {
  await ns?.remove();
});

async function renderAndApply(args: string[]): Promise<{ kinds: string[]; stderr: string }> {
  const rendered = await helm(['template', ...args, '-n', ns.name]);
  expect(rendered.stderr).toBe('');
  expect(rendered.code).toBe(0);
  const applied = await kubectl(['apply', '--dry-run=server', '-n', ns.name, '-o', 'name', '-f', '-'], { input: rendered.stdout });
  expect(applied.stderr).toBe('');
  expect(applied.code).toBe(0);
  return { kinds: applied.stdout.trim().split('\n').map((l) => l.split('/')[0]), stderr: applied.stderr };
}

test('rainbow-app renders objects the API server admits under restricted Pod Security', async () => {
  const { kinds } = await renderAndApply(['web', path.join(repoRoot, 'chart', 'rainbow-app'), '--set', 'color=3c3fdc', '--set', 'service.type=NodePort']);
  expect(kinds.sort()).toEqual(['deployment.apps', 'service']);
});

test('rainbow-system renders objects the API server admits under restricted Pod Security', async () => {
  // A release name of its own: cluster-scoped objects (webhook configurations, ClusterRoles) are
  // named after it, and a dry run against another install's objects would test that install.
  const { kinds } = await renderAndApply([`dry-${ns.name}`.slice(0, 40), path.join(repoRoot, 'chart', 'rainbow-system'), '--set', 'networkPolicy.enabled=true']);
  expect(kinds).toEqual(
    expect.arrayContaining([
      'deployment.apps',
      'service',
      'serviceaccount',
      'clusterrole.rbac.authorization.k8s.io',
      'clusterrolebinding.rbac.authorization.k8s.io',
      'mutatingwebhookconfiguration.admissionregistration.k8s.io',
      'validatingwebhookconfiguration.admissionregistration.k8s.io',
      'poddisruptionbudget.policy',
      'role.rbac.authorization.k8s.io',
      'rolebinding.rbac.authorization.k8s.io',
      'networkpolicy.networking.k8s.io',
    ]),
  );
});
