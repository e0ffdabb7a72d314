// `kubectl rainbow doctor` as a user runs it (kubectl finding the plugin on PATH, the host
// kubeconfig), against objects shaped as the products it reads write them: kubeadm's kube-proxy
// ConfigMap and Cilium's cilium-config in kube-system, Calico's FelixConfiguration CRD and its
// `default`, GKE's BackendConfig CRD and one of them, NetworkPolicies, a LoadBalancer Service with
// AWS NLB annotations, and rainbow-system installed with helm. Between runs the objects change so
// that each check is seen ok, warn and fail (where it has them); kube-system's objects and the
// CRDs are shared, so they are deleted at the end.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bin, kubeconfigPath, repoRoot } from '../../scripts/cluster/paths.js';
import { colorDeployment, appService } from '../../scripts/cluster/app-objects.js';
import { kubeadmKubeProxyData } from '../support/kube-proxy-config.js';
import { clients, eventually, kubectl, testNamespace } from './support/cluster.js';
import { installRainbowSystem, type InClusterSystem } from './support/system.js';

const run = promisify(execFile);
const { kc, core, apps, coordination, discovery } = clients();
const A = '5e9b2c';
const OTHER = '7a7a7a';
const FELIX_CRD = 'felixconfigurations.crd.projectcalico.org';
const BACKENDCONFIG_CRD = 'backendconfigs.cloud.google.com';
const NLB = {
  'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
  'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
};
const ATTRIBUTES = 'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes';

let ns: Awaited<ReturnType<typeof testNamespace>>;
let system: InClusterSystem;
let pluginDir: string;

interface Check {
  area: string;
  check: string;
  status: 'ok' | 'warn' | 'fail';
  finding: string;
  fix: string | null;
}
interface Doctor {
  code: number;
  stdout: string;
  stderr: string;
  doc?: { summary: Record<string, number>; exitCode: number; checks: Check[] };
}

/** `kubectl rainbow doctor …` with the plugin on PATH, as `kubectl` runs any `kubectl-<name>`. */
async function doctor(args: string[], kubeconfig = kubeconfigPath): Promise<Doctor> {
  const env = { ...process.env, PATH: `${pluginDir}:${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`, KUBECONFIG: kubeconfig, NO_COLOR: '1' };
  const all = ['rainbow', 'doctor', '-n', ns.name, '--release', system.release, `--kubeconfig=${kubeconfig}`, ...args];
  let result: Doctor;
  try {
    const { stdout, stderr } = await run(bin('kubectl'), all, { env, timeout: 60_000, maxBuffer: 8 << 20 });
    result = { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    result = { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
  if (args.includes('json')) result.doc = JSON.parse(result.stdout) as Doctor['doc'];
  return result;
}

/** The status of each check, as `area/check: status` (`warn,ok` when a check has two results). */
function statuses(d: Doctor): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of d.doc!.checks) {
    const key = `${c.area}/${c.check}`;
    out[key] = out[key] ? `${out[key]},${c.status}` : c.status;
  }
  return out;
}
const finding = (d: Doctor, key: string) => d.doc!.checks.find((c) => `${c.area}/${c.check}` === key)?.finding;

async function apply(objects: object[]): Promise<void> {
  const res = await kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
  if (res.code !== 0) throw new Error(`kubectl apply failed: ${res.stderr}`);
}

const configMap = (name: string, data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'kube-system' }, data });

function crd(group: string, kind: string, plural: string, scope: 'Cluster' | 'Namespaced') {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope,
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  };
}

const felix = (spec: Record<string, unknown>) => ({ apiVersion: 'crd.projectcalico.org/v1', kind: 'FelixConfiguration', metadata: { name: 'default' }, spec });
const backendConfig = (drainingTimeoutSec: number) => ({
  apiVersion: 'cloud.google.com/v1',
  kind: 'BackendConfig',
  metadata: { name: 'web-draining', namespace: ns.name },
  spec: { connectionDraining: { drainingTimeoutSec } },
});

function loadBalancer(attributes?: string) {
  const s = appService('web', A, { 'rainbow.dev/max-drain': '1h', 'cloud.google.com/backend-config': '{"default": "web-draining"}', ...NLB, ...(attributes ? { [ATTRIBUTES]: attributes } : {}) });
  return { apiVersion: 'v1', kind: 'Service', ...s, metadata: { ...s.metadata, name: 'web-lb', namespace: ns.name }, spec: { ...s.spec, type: 'LoadBalancer', allocateLoadBalancerNodePorts: false } };
}

function admitRainbow(port: number | string) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'web-ingress', namespace: ns.name },
    spec: {
      podSelector: { matchLabels: { 'rainbow.dev/app': 'web' } },
      policyTypes: ['Ingress'],
      ingress: [
        { ports: [{ protocol: 'TCP', port: 8080 }, { protocol: 'TCP', port: 8081 }] },
        { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': system.namespace } } }], ports: [{ protocol: 'TCP', port }] },
      ],
    },
  };
}

async function available(name: string): Promise<void> {
  await eventually(`${name} Available`, async () => ((await apps.readNamespacedDeployment({ namespace: ns.name, name })).status?.availableReplicas ?? 0) >= 1, 90_000, 250);
}

/** A kubeconfig for a ServiceAccount of the test namespace that may read only the app's objects there. */
async function restrictedKubeconfig(): Promise<string> {
  const name = 'doctor-reader';
  await apply([
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns.name } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name, namespace: ns.name },
      rules: [
        { apiGroups: [''], resources: ['services', 'pods'], verbs: ['list'] },
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list'] },
        { apiGroups: [''], resources: ['pods/proxy'], verbs: ['get'] },
      ],
    },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace: ns.name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: [{ kind: 'ServiceAccount', name, namespace: ns.name }] },
  ]);
  const token = await core.createNamespacedServiceAccountToken({ namespace: ns.name, name, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const cluster = kc.getCurrentCluster()!;
  const file = path.join(pluginDir, 'reader.kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'local', cluster: { server: cluster.server, 'certificate-authority-data': cluster.caData } }],
      users: [{ name, user: { token: token.status!.token } }],
      contexts: [{ name, context: { cluster: 'local', user: name, namespace: ns.name } }],
      'current-context': name,
    }),
  );
  return file;
}

beforeAll(async () => {
  pluginDir = mkdtempSync(path.join(os.tmpdir(), 'doctor-plugin-'));
  const plugin = path.join(repoRoot, 'dist', 'webhook', 'src', 'kubectl-rainbow.js');
  chmodSync(plugin, 0o755);
  symlinkSync(plugin, path.join(pluginDir, 'kubectl-rainbow'));
  ns = await testNamespace('doctor');
  system = await installRainbowSystem(ns.name);
  await apps.createNamespacedDeployment({ namespace: ns.name, body: colorDeployment('web', A) });
  await core.createNamespacedService({ namespace: ns.name, body: appService('web', A, { 'rainbow.dev/max-drain': '1h' }, 'ClusterIP') });
  await available(`web-${A}`);
  await eventually('the controller holding its Lease', async () => Boolean((await coordination.readNamespacedLease({ namespace: system.namespace, name: 'rainbow-controller' })).spec?.holderIdentity), 60_000, 250);
}, 600_000);

afterAll(async () => {
  await kubectl(['delete', 'configmap', 'kube-proxy', 'cilium-config', '-n', 'kube-system', '--ignore-not-found']);
  await kubectl(['delete', 'crd', FELIX_CRD, BACKENDCONFIG_CRD, '--ignore-not-found', '--wait=true']);
  // The webhook configurations go first: with the webhook scaled down they would refuse the namespace's cleanup.
  await system?.uninstall();
  await ns?.remove();
  if (pluginDir) rmSync(pluginDir, { recursive: true, force: true });
});

test('kubectl rainbow doctor sees each check ok, warn and fail as the cluster changes', async () => {
  // 1. The local cluster as it is: its kube-proxy runs outside the API, so nothing says what serves Services.
  const baseline = await doctor(['-o', 'json']);
  expect(baseline.stderr).toBe('');
  expect(baseline.code).toBe(1);
  expect(statuses(baseline)).toEqual({
    'datapath/kube-proxy': 'warn',
    'datapath/cilium': 'ok',
    'datapath/calico': 'ok',
    [`conntrack/${ns.name}/web`]: 'ok',
    'load balancers/Services': 'ok',
    [`network policies/${ns.name}/web`]: 'ok',
    'rainbow/configurations': 'ok',
    'rainbow/caBundle': 'ok',
    'rainbow/endpoints': 'ok',
    'rainbow/lease': 'ok',
    'rainbow/version': 'ok',
    [`apps/${ns.name}/web`]: 'ok',
  });
  expect(finding(baseline, `conntrack/${ns.name}/web`)).toBe("an idle established flow is kept 24h (assumed: kube-proxy's default, no kube-proxy configuration found), at least max-drain 1h");
  expect(finding(baseline, 'rainbow/endpoints')).toBe(`Service ${system.namespace}/${system.release}-webhook has 2 ready endpoints`);
  console.log(`kubectl rainbow doctor (baseline), exit ${baseline.code}:\n${(await doctor([])).stdout}`);

  // 2. kube-proxy's ConfigMap as kubeadm writes it (mode "": iptables): everything is ok.
  await apply([configMap('kube-proxy', kubeadmKubeProxyData())]);
  const healthy = await doctor(['-o', 'json']);
  expect(healthy.code).toBe(0);
  expect(healthy.doc!.summary).toEqual({ ok: 12, warn: 0, fail: 0 });
  expect(finding(healthy, 'datapath/kube-proxy')).toMatch(/^iptables mode \(mode "", the Linux default\) from config\.conf of ConfigMap kube-system\/kube-proxy: /);
  const table = await doctor([]);
  expect(table.code).toBe(0);
  expect(table.stdout.trimEnd().split('\n').at(-1)).toBe('12 ok, 0 warn, 0 fail');
  console.log(`kubectl rainbow doctor (all ok), exit ${table.code}:\n${table.stdout}`);

  // 3. Credentials that may read only the app: every other read is a warning naming it, never a crash.
  const reader = await doctor(['-o', 'json'], await restrictedKubeconfig());
  expect(reader.stderr).toBe('');
  expect(reader.code).toBe(1);
  expect(finding(reader, 'datapath/kube-proxy')).toMatch(
    new RegExp(`^cannot get configmaps kube-proxy in kube-system: forbidden \\(configmaps "kube-proxy" is forbidden: User "system:serviceaccount:${ns.name}:doctor-reader" cannot get resource "configmaps" in API group "" in the namespace "kube-system"\\); `),
  );
  expect(statuses(reader)).toMatchObject({ 'datapath/kube-proxy': 'warn', 'datapath/cilium': 'warn', 'datapath/calico': 'warn', 'rainbow/configurations': 'warn', 'rainbow/lease': 'warn', [`apps/${ns.name}/web`]: 'ok' });
  expect(reader.doc!.checks.find((c) => c.area === 'network policies')!.fix).toBe(`grant list on networkpolicies.networking.k8s.io in ${ns.name} to whoever runs doctor, or run it with credentials that have it`);

  // 4. Warnings: ipvs with a 30 min conntrack timeout, Cilium's kube-proxy replacement with an NLB
  // in front, Calico's eBPF dataplane, a short BackendConfig drain, a color whose counts cannot be read.
  await apply([
    configMap('kube-proxy', kubeadmKubeProxyData({ mode: 'ipvs', tcpEstablishedTimeout: '30m0s' })),
    configMap('cilium-config', { 'kube-proxy-replacement': 'true', 'enable-ipv4': 'true', 'tunnel-protocol': 'vxlan' }),
    crd('crd.projectcalico.org', 'FelixConfiguration', 'felixconfigurations', 'Cluster'),
    crd('cloud.google.com', 'BackendConfig', 'backendconfigs', 'Namespaced'),
  ]);
  expect((await kubectl(['wait', '--for=condition=Established', `crd/${FELIX_CRD}`, `crd/${BACKENDCONFIG_CRD}`, '--timeout=60s'])).code).toBe(0);
  await eventually('the new kinds served', async () => (await kubectl(['get', 'felixconfigurations,backendconfigs', '-A'])).code === 0, 30_000, 250);
  const other = colorDeployment('other', OTHER, { annotations: { 'rainbow.dev/connections-port': '9999' } });
  await apps.createNamespacedDeployment({ namespace: ns.name, body: other });
  await core.createNamespacedService({ namespace: ns.name, body: appService('other', OTHER, { 'rainbow.dev/max-drain': '1h' }, 'ClusterIP') });
  await apply([felix({ bpfEnabled: true, logSeverityScreen: 'Info' }), backendConfig(600), loadBalancer(), admitRainbow(9471)]);
  await available(`other-${OTHER}`);
  const warned = await doctor(['-o', 'json']);
  expect(warned.code).toBe(1);
  expect(statuses(warned)).toEqual({
    'datapath/kube-proxy': 'warn',
    'datapath/cilium': 'ok',
    'datapath/cilium (outside)': 'warn',
    'datapath/calico': 'warn',
    [`conntrack/${ns.name}/other`]: 'warn',
    [`conntrack/${ns.name}/web`]: 'warn',
    [`load balancers/Service ${ns.name}/web-lb`]: 'warn,warn',
    [`network policies/${ns.name}/other`]: 'ok',
    [`network policies/${ns.name}/web`]: 'ok',
    'rainbow/configurations': 'ok',
    'rainbow/caBundle': 'ok',
    'rainbow/endpoints': 'ok',
    'rainbow/lease': 'ok',
    'rainbow/version': 'ok',
    [`apps/${ns.name}/other`]: 'warn',
    [`apps/${ns.name}/web`]: 'ok',
  });
  const lbFindings = warned.doc!.checks.filter((c) => c.area === 'load balancers').map((c) => `${c.status}: ${c.finding}`);
  expect(lbFindings).toEqual([
    "warn: AWS NLB with ip targets: when the selector moves it deregisters the old color's pods and keeps their established flows for certain only for the deregistration delay, deregistration_delay.timeout_seconds=300 (the default); max-drain is 1h",
    "warn: BackendConfig web-draining: connectionDraining.drainingTimeoutSec is 600, and max-drain is 1h: when the selector moves, the load balancer removes the old color's pods from its backends and keeps their connections only that long",
  ]);
  expect(finding(warned, `conntrack/${ns.name}/web`)).toBe(
    'conntrack forgets an established TCP flow after 30m without a packet (conntrack.tcpEstablishedTimeout in config.conf of ConfigMap kube-system/kube-proxy), and max-drain is 1h: a connection to an old color that is idle longer than that and then sends again is sent to a current pod, which resets it',
  );
  expect(finding(warned, `apps/${ns.name}/other`)).toMatch(new RegExp(`^connections of color ${OTHER} cannot be read: pod other-${OTHER}-[a-z0-9-]+: .*9999`));
  console.log(`kubectl rainbow doctor (warnings), exit ${warned.code}:\n${(await doctor([])).stdout}`);

  // 5. Failures: Cilium without socket LB, Calico without connect-time LB, NLB connection
  // termination, a policy shutting rainbow out, a Service selecting every color, no webhook pod,
  // a CA removed, no controller; the BackendConfig now drains long enough.
  const lonely = appService('lonely', 'unused', { 'rainbow.dev/max-drain': '1h' }, 'ClusterIP');
  lonely.spec!.selector = { 'rainbow.dev/app': 'lonely' };
  await core.createNamespacedService({ namespace: ns.name, body: lonely });
  await apply([
    configMap('cilium-config', { 'kube-proxy-replacement': 'true', 'bpf-lb-sock': 'false' }),
    felix({ bpfEnabled: true, bpfConnectTimeLoadBalancing: 'Disabled' }),
    backendConfig(3600),
    loadBalancer('deregistration_delay.timeout_seconds=3600,deregistration_delay.connection_termination.enabled=true'),
    admitRainbow(8080),
  ]);
  const webhook = `${system.release}-webhook`;
  expect((await kubectl(['-n', system.namespace, 'set', 'image', `deployment/${webhook}`, 'webhook=rainbow:0.0.9'])).code).toBe(0);
  expect((await kubectl(['-n', system.namespace, 'scale', `deployment/${webhook}`, `deployment/${system.release}-controller`, '--replicas=0'])).code).toBe(0);
  await eventually('no ready webhook endpoint', async () => {
    const slices = (await discovery.listNamespacedEndpointSlice({ namespace: system.namespace, labelSelector: `kubernetes.io/service-name=${webhook}` })).items;
    return slices.every((s) => (s.endpoints ?? []).every((e) => e.conditions?.ready === false));
  }, 60_000, 250);
  await eventually('the Lease released', async () => !(await coordination.readNamespacedLease({ namespace: system.namespace, name: 'rainbow-controller' })).spec?.holderIdentity, 60_000, 250);
  expect((await kubectl(['patch', 'mutatingwebhookconfiguration', system.release, '--type=json', '-p', '[{"op":"remove","path":"/webhooks/0/clientConfig/caBundle"}]'])).code).toBe(0);
  const failed = await doctor(['-o', 'json']);
  expect(failed.code).toBe(2);
  expect(statuses(failed)).toEqual({
    'datapath/kube-proxy': 'warn',
    'datapath/cilium': 'fail',
    'datapath/cilium (outside)': 'warn',
    'datapath/calico': 'fail',
    [`conntrack/${ns.name}/lonely`]: 'warn',
    [`conntrack/${ns.name}/other`]: 'warn',
    [`conntrack/${ns.name}/web`]: 'warn',
    [`load balancers/Service ${ns.name}/web-lb`]: 'fail,ok',
    [`network policies/${ns.name}/other`]: 'ok',
    [`network policies/${ns.name}/web`]: 'fail',
    'rainbow/configurations': 'ok',
    'rainbow/caBundle': 'fail',
    'rainbow/endpoints': 'fail',
    'rainbow/lease': 'fail',
    'rainbow/version': 'warn',
    [`apps/${ns.name}/lonely`]: 'fail',
    [`apps/${ns.name}/other`]: 'warn',
    [`apps/${ns.name}/web`]: 'ok',
  });
  expect(finding(failed, 'rainbow/version')).toBe(`the webhook runs rainbow:0.0.9, this CLI is 0.1.0: what doctor checks assumes one release`);
  expect(finding(failed, `network policies/${ns.name}/web`)).toBe(
    `NetworkPolicy web-ingress selects the pods of color ${A} and admits neither the webhook nor the controller pods (namespace ${system.namespace}) to port 9471: the guard cannot ask those pods and so refuses to remove them, and the controller cannot count them and deletes no such color before max-drain`,
  );
  const failedTable = await doctor([]);
  expect(failedTable.code).toBe(2);
  console.log(`kubectl rainbow doctor (failures), exit ${failedTable.code}:\n${failedTable.stdout}`);

  // 6. A release that is not installed.
  const missing = await doctor(['-o', 'json', '--release', 'rainbow-missing']);
  expect(missing.code).toBe(2);
  expect(finding(missing, 'rainbow/configurations')).toBe(
    'no MutatingWebhookConfiguration rainbow-missing (Services are not held on an Available color) and no ValidatingWebhookConfiguration rainbow-missing (nothing refuses to remove colors that hold connections)',
  );

  // 7. A usage error exits 2 as well, before reading anything.
  const usage = await doctor(['-o', 'yaml']);
  expect(usage.code).toBe(2);
  expect(usage.stderr.trim()).toBe('kubectl rainbow doctor: --output must be table or json, got "yaml"');
});
