// chart/rainbow-system: webhook, controller, RBAC, webhook configurations and TLS, checked on the
// objects `helm template` renders, and the errors bad values get.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1Container,
  V1Deployment,
  V1MutatingWebhookConfiguration,
  V1NetworkPolicy,
  V1PodDisruptionBudget,
  V1PodSpec,
  V1PolicyRule,
  V1Role,
  V1RoleBinding,
  V1Service,
  V1ValidatingWebhook,
  V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';

import { LABEL_APP } from '../../webhook/src/domain/contract.js';
import { generateServingCertificate } from '../../webhook/src/webhook/tls/self-signed.js';
import { chartDir, render, renderError, renderNotes, type Rendered } from './render.js';

const NS = 'rainbow-system';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

const mutating = (r: Rendered) => r.get<V1MutatingWebhookConfiguration>('MutatingWebhookConfiguration', 'rainbow');
const validating = (r: Rendered) => r.get<V1ValidatingWebhookConfiguration>('ValidatingWebhookConfiguration', 'rainbow');
const guardEntry = (r: Rendered, name: string): V1ValidatingWebhook => validating(r).webhooks!.find((w) => w.name === name)!;
const allWebhooks = (r: Rendered) => [...mutating(r).webhooks!, ...validating(r).webhooks!];
const podSpec = (r: Rendered, name: string): V1PodSpec => r.get<V1Deployment>('Deployment', name).spec!.template.spec!;
const container = (r: Rendered, name: string): V1Container => podSpec(r, name).containers[0]!;

let ca: string;
let defaults: Rendered;
beforeAll(async () => {
  ca = (await generateServingCertificate({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] })).caCert;
  defaults = await render('rainbow-system');
});

describe('objects', () => {
  it('renders the webhook, the controller, their RBAC and both webhook configurations (no TLS Secret: the webhook makes it)', () => {
    expect(defaults.names()).toEqual([
      'ClusterRole/rainbow-controller',
      'ClusterRole/rainbow-webhook',
      'ClusterRoleBinding/rainbow-controller',
      'ClusterRoleBinding/rainbow-webhook',
      'Deployment/rainbow-controller',
      'Deployment/rainbow-webhook',
      'MutatingWebhookConfiguration/rainbow',
      'PodDisruptionBudget/rainbow-webhook',
      'Role/rainbow-controller-leader-election',
      'Role/rainbow-webhook',
      'RoleBinding/rainbow-controller-leader-election',
      'RoleBinding/rainbow-webhook',
      'Service/rainbow-webhook',
      'ServiceAccount/rainbow-controller',
      'ServiceAccount/rainbow-webhook',
      'ValidatingWebhookConfiguration/rainbow',
    ]);
  });

  it('puts namespaced objects in the release namespace and labels every object the standard way', () => {
    const clusterScoped = ['ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];
    for (const o of defaults.objects) {
      expect(o.metadata.namespace).toBe(clusterScoped.includes(o.kind) ? undefined : NS);
      expect(o.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'rainbow',
        'app.kubernetes.io/instance': 'rainbow',
        'app.kubernetes.io/version': '0.1.0',
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/part-of': 'rainbow',
        'helm.sh/chart': 'rainbow-system-0.1.0',
      });
    }
  });

  it('names objects after the release, unless the release name already says rainbow', async () => {
    const r = await render('rainbow-system', { release: 'platform', namespace: 'ops' });
    expect(r.has('Deployment', 'platform-rainbow-webhook')).toBe(true);
    expect(r.has('MutatingWebhookConfiguration', 'platform-rainbow')).toBe(true);
    const o = await render('rainbow-system', { release: 'x', values: { fullnameOverride: 'rb' } });
    expect(o.has('Deployment', 'rb-webhook')).toBe(true);
    expect(container(o, 'rb-webhook').args).toEqual(expect.arrayContaining(['--tls-secret', 'rb-tls', '--inject-ca', 'mutating/rb,validating/rb']));
  });
});

describe('the webhook', () => {
  it('runs `rainbow webhook` from the rainbow image tagged with the appVersion, 2 replicas', () => {
    const d = defaults.get<V1Deployment>('Deployment', 'rainbow-webhook');
    expect(d.spec!.replicas).toBe(2);
    const c = container(defaults, 'rainbow-webhook');
    expect(c.image).toBe('rainbow:0.1.0');
    expect(c.args).toEqual([
      'webhook',
      '--tls-secret',
      'rainbow-tls',
      '--dns-names',
      'rainbow-webhook,rainbow-webhook.rainbow-system,rainbow-webhook.rainbow-system.svc,rainbow-webhook.rainbow-system.svc.cluster.local',
      '--inject-ca',
      'mutating/rainbow,validating/rainbow',
      '--tls-validity-days',
      '365',
      '--tls-renew-before-days',
      '30',
      '--cert-dir',
      '/tls',
      '--port',
      '8443',
      '--on-unknown',
      'deny',
      '--pod-timeout',
      '2s',
      '--guard-budget',
      '8s',
      '--concurrency',
      '16',
      '--shutdown-grace',
      '10s',
      '--request-timeout',
      '15s',
      '--max-connections',
      '1024',
    ]);
    expect(c.ports).toEqual([{ name: 'https', containerPort: 8443, protocol: 'TCP' }]);
  });

  it('takes its flags from values', async () => {
    const r = await render('rainbow-system', {
      values: { image: { repository: 'ghcr.io/acme/rainbow', tag: '1.2.3' }, webhook: { onUnknown: 'allow', podTimeout: '1s', guardBudget: '5s', concurrency: 4, shutdownGrace: '20s', timeoutSeconds: 30, maxConnections: 64, extraArgs: ['--bind=0.0.0.0'] } },
    });
    const c = container(r, 'rainbow-webhook');
    expect(c.image).toBe('ghcr.io/acme/rainbow:1.2.3');
    expect(c.args!.slice(c.args!.indexOf('--cert-dir'))).toEqual(['--cert-dir', '/tls', '--port', '8443', '--on-unknown', 'allow', '--pod-timeout', '1s', '--guard-budget', '5s', '--concurrency', '4', '--shutdown-grace', '20s', '--request-timeout', '35s', '--max-connections', '64', '--bind=0.0.0.0']);
  });

  it('is probed over HTTPS: readiness /readyz, liveness /healthz', () => {
    const c = container(defaults, 'rainbow-webhook');
    expect(c.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'https', scheme: 'HTTPS' });
    expect(c.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'https', scheme: 'HTTPS' });
  });

  it('mounts its TLS Secret (optional: the webhook creates it) at /tls, and knows its namespace', () => {
    const spec = podSpec(defaults, 'rainbow-webhook');
    expect(spec.volumes).toContainEqual({ name: 'tls', secret: { secretName: 'rainbow-tls', optional: true } });
    expect(spec.containers[0]!.env).toEqual([{ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }]);
    expect(spec.containers[0]!.volumeMounts).toContainEqual({ name: 'tls', mountPath: '/tls', readOnly: true });
    expect(spec.serviceAccountName).toBe('rainbow-webhook');
  });

  it('prefers one pod per node', () => {
    const spec = podSpec(defaults, 'rainbow-webhook');
    const preferred = spec.affinity!.podAntiAffinity!.preferredDuringSchedulingIgnoredDuringExecution!;
    expect(preferred).toHaveLength(1);
    expect(preferred[0]!.podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    expect(preferred[0]!.podAffinityTerm.labelSelector!.matchLabels).toEqual(defaults.get<V1Deployment>('Deployment', 'rainbow-webhook').spec!.selector.matchLabels);
  });

  it('is behind Service rainbow-webhook, 443 → the https port, selecting only webhook pods', () => {
    const s = defaults.get<V1Service>('Service', 'rainbow-webhook');
    const d = defaults.get<V1Deployment>('Deployment', 'rainbow-webhook');
    expect(s.spec!.ports).toEqual([{ name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' }]);
    expect(s.spec!.selector).toEqual(d.spec!.selector.matchLabels);
    expect(d.spec!.template.metadata!.labels).toMatchObject(s.spec!.selector!);
    expect(s.spec!.selector!['app.kubernetes.io/component']).toBe('webhook');
  });

  it('has a PodDisruptionBudget of minAvailable 1 over its pods, and none with a single replica', async () => {
    const pdb = defaults.get<V1PodDisruptionBudget>('PodDisruptionBudget', 'rainbow-webhook');
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(pdb.spec!.minAvailable).toBe(1);
    expect(pdb.spec!.selector!.matchLabels).toEqual(defaults.get<V1Deployment>('Deployment', 'rainbow-webhook').spec!.selector.matchLabels);
    const single = await render('rainbow-system', { set: { 'webhook.replicas': 1 } });
    expect(single.has('PodDisruptionBudget')).toBe(false);
  });
});

describe('the controller', () => {
  it('runs `rainbow controller --leader-elect` with one replica, and extraArgs', async () => {
    const d = defaults.get<V1Deployment>('Deployment', 'rainbow-controller');
    expect(d.spec!.replicas).toBe(1);
    expect(container(defaults, 'rainbow-controller').image).toBe('rainbow:0.1.0');
    expect(container(defaults, 'rainbow-controller').args).toEqual(['controller', '--leader-elect', '--metrics-port', '9090']);
    expect(podSpec(defaults, 'rainbow-controller').serviceAccountName).toBe('rainbow-controller');
    const r = await render('rainbow-system', { values: { controller: { replicas: 2, metricsPort: 9100, extraArgs: ['--interval=30s'] } } });
    expect(container(r, 'rainbow-controller').args).toEqual(['controller', '--leader-elect', '--metrics-port', '9100', '--interval=30s']);
    expect(container(r, 'rainbow-controller').ports).toEqual([{ name: 'metrics', containerPort: 9100, protocol: 'TCP' }]);
  });

  it('is probed on its metrics port: readiness /readyz (informers synced), liveness /healthz', () => {
    const c = container(defaults, 'rainbow-controller');
    expect(c.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(c.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
  });

  it('knows its pod name and namespace (the Lease identity)', () => {
    const env = container(defaults, 'rainbow-controller').env!;
    expect(env).toContainEqual({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    expect(env).toContainEqual({ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } });
  });

  it('controller.enabled=false leaves out its Deployment, ServiceAccount and RBAC', async () => {
    const r = await render('rainbow-system', { set: { 'controller.enabled': false } });
    expect(r.names().filter((n) => n.includes('controller'))).toEqual([]);
    expect(r.has('Deployment', 'rainbow-webhook')).toBe(true);
  });
});

describe('RBAC', () => {
  const rulesOf = (r: Rendered) =>
    Object.fromEntries([...r.all<V1ClusterRole>('ClusterRole'), ...r.all<V1Role>('Role')].map((role) => [`${role.kind}/${role.metadata!.name}`, role.rules]));

  it('gives each role exactly the verbs it needs', () => {
    expect(rulesOf(defaults)).toEqual({
      'ClusterRole/rainbow-webhook': [
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get'] },
        { apiGroups: [''], resources: ['services'], verbs: ['list', 'watch'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
        {
          apiGroups: ['admissionregistration.k8s.io'],
          resources: ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'],
          resourceNames: ['rainbow'],
          verbs: ['get', 'patch'],
        },
      ],
      'Role/rainbow-webhook': [
        { apiGroups: [''], resources: ['secrets'], resourceNames: ['rainbow-tls'], verbs: ['get', 'update'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      ],
      'ClusterRole/rainbow-controller': [
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list', 'watch', 'patch', 'delete'] },
        { apiGroups: [''], resources: ['services'], verbs: ['list', 'watch', 'patch'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['list', 'patch'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create'] },
      ],
      'Role/rainbow-controller-leader-election': [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }],
    });
  });

  it('has no wildcard anywhere in any rule, and no non-resource URLs', () => {
    const roles = [...defaults.all<V1ClusterRole>('ClusterRole'), ...defaults.all<V1Role>('Role')];
    expect(roles.map((r) => `${r.kind}/${r.metadata!.name}`).sort()).toEqual(['ClusterRole/rainbow-controller', 'ClusterRole/rainbow-webhook', 'Role/rainbow-controller-leader-election', 'Role/rainbow-webhook']);
    const rules: V1PolicyRule[] = roles.flatMap((r) => r.rules ?? []);
    for (const rule of rules) {
      for (const field of [rule.apiGroups, rule.resources, rule.verbs, rule.resourceNames, rule.nonResourceURLs]) {
        for (const v of field ?? []) expect(v).not.toContain('*');
      }
      expect(rule.nonResourceURLs).toBeUndefined();
    }
  });

  it('with tls.existingSecret, gives the webhook no access to Secrets or webhook configurations', async () => {
    const r = await render('rainbow-system', { values: { tls: { existingSecret: 'webhook-cert', caBundle: b64(ca) } } });
    const rules = rulesOf(r);
    expect(rules['Role/rainbow-webhook']).toBeUndefined();
    expect(r.has('RoleBinding', 'rainbow-webhook')).toBe(false);
    expect(rules['ClusterRole/rainbow-webhook']).toEqual([
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get'] },
      { apiGroups: [''], resources: ['services'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
    ]);
  });

  it('names the Secret and the configurations of the release in resourceNames', async () => {
    const r = await render('rainbow-system', { release: 'platform', namespace: 'ops' });
    const rules = rulesOf(r);
    expect(rules['Role/platform-rainbow-webhook']![0]!.resourceNames).toEqual(['platform-rainbow-tls']);
    expect(rules['ClusterRole/platform-rainbow-webhook']![5]!.resourceNames).toEqual(['platform-rainbow']);
  });

  it('does not depend on values (only whether a role is installed does)', async () => {
    const other = await render('rainbow-system', {
      values: { webhook: { replicas: 5, onUnknown: 'allow', excludeNamespaces: ['x'], timeoutSeconds: 20 }, controller: { replicas: 3, extraArgs: ['--x'] }, tls: { validityDays: 90, renewBeforeDays: 7 } },
    });
    expect(rulesOf(other)).toEqual(rulesOf(defaults));
  });

  it('binds each role to its own ServiceAccount in the release namespace', () => {
    for (const b of [...defaults.all<V1ClusterRoleBinding>('ClusterRoleBinding'), ...defaults.all<V1RoleBinding>('RoleBinding')]) {
      const role = b.metadata!.name!.replace(/-leader-election$/, '');
      expect(defaults.has(b.kind === 'RoleBinding' ? 'Role' : 'ClusterRole', b.metadata!.name)).toBe(true);
      expect(b.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: b.kind === 'RoleBinding' ? 'Role' : 'ClusterRole', name: b.metadata!.name });
      expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: role, namespace: NS }]);
      expect(defaults.has('ServiceAccount', role)).toBe(true);
    }
    for (const role of defaults.all<V1Role>('Role')) expect(role.metadata!.namespace).toBe(NS);
  });
});

describe('webhook configurations', () => {
  it('mutates Services on CREATE/UPDATE, failing open', () => {
    const [w, ...more] = mutating(defaults).webhooks!;
    expect(more).toEqual([]);
    expect(w).toMatchObject({ name: 'services.rainbow.dev', failurePolicy: 'Ignore', sideEffects: 'None', admissionReviewVersions: ['v1'], timeoutSeconds: 10 });
    expect(w!.rules).toEqual([{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['services'], scope: 'Namespaced' }]);
    expect(w!.clientConfig.service).toEqual({ name: 'rainbow-webhook', namespace: NS, path: '/mutate/services', port: 443 });
    expect(w!.objectSelector).toEqual({ matchExpressions: [{ key: LABEL_APP, operator: 'Exists' }] });
  });

  it('guards Deployment and ReplicaSet DELETE/UPDATE, failing closed, with an objectSelector', () => {
    const w = guardEntry(defaults, 'workloads.rainbow.dev');
    expect(w).toMatchObject({ failurePolicy: 'Fail', sideEffects: 'None', admissionReviewVersions: ['v1'], timeoutSeconds: 10 });
    expect(w.rules).toEqual([{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['DELETE', 'UPDATE'], resources: ['deployments', 'replicasets'], scope: 'Namespaced' }]);
    expect(w.clientConfig.service).toEqual({ name: 'rainbow-webhook', namespace: NS, path: '/validate/deployments', port: 443 });
    expect(w.objectSelector).toEqual({ matchExpressions: [{ key: LABEL_APP, operator: 'Exists' }] });
  });

  it('guards deployments/scale and replicasets/scale in a second entry without objectSelector (a Scale has no labels)', () => {
    expect(validating(defaults).webhooks!.map((w) => w.name)).toEqual(['workloads.rainbow.dev', 'scale.rainbow.dev', 'pods.rainbow.dev', 'evictions.rainbow.dev']);
    const w = guardEntry(defaults, 'scale.rainbow.dev');
    expect(w).toMatchObject({ failurePolicy: 'Fail', sideEffects: 'None', admissionReviewVersions: ['v1'], timeoutSeconds: 10 });
    expect(w.rules).toEqual([{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['deployments/scale', 'replicasets/scale'], scope: 'Namespaced' }]);
    expect(w.clientConfig.service!.path).toBe('/validate/deployments');
    expect(w.objectSelector).toBeUndefined();
  });

  it('guards pod DELETEs of rainbow\'s pods failing closed, and evictions failing open unless told otherwise', async () => {
    const pods = guardEntry(defaults, 'pods.rainbow.dev');
    expect(pods).toMatchObject({ failurePolicy: 'Fail', sideEffects: 'None', timeoutSeconds: 10 });
    expect(pods.rules).toEqual([{ apiGroups: [''], apiVersions: ['v1'], operations: ['DELETE'], resources: ['pods'], scope: 'Namespaced' }]);
    expect(pods.objectSelector).toEqual({ matchExpressions: [{ key: LABEL_APP, operator: 'Exists' }] });
    expect(pods.clientConfig.service!.path).toBe('/validate/deployments');
    const evictions = guardEntry(defaults, 'evictions.rainbow.dev');
    expect(evictions).toMatchObject({ failurePolicy: 'Ignore', sideEffects: 'None' });
    expect(evictions.rules).toEqual([{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods/eviction'], scope: 'Namespaced' }]);
    // An Eviction has no labels: an objectSelector would keep every eviction from the webhook.
    expect(evictions.objectSelector).toBeUndefined();
    expect(evictions.matchConditions).toBeUndefined();

    const fail = await render('rainbow-system', { set: { 'webhook.podGuard.evictionFailurePolicy': 'Fail' } });
    expect(guardEntry(fail, 'evictions.rainbow.dev').failurePolicy).toBe('Fail');
    const off = await render('rainbow-system', { set: { 'webhook.podGuard.enabled': false } });
    expect(validating(off).webhooks!.map((w) => w.name)).toEqual(['workloads.rainbow.dev', 'scale.rainbow.dev']);
    await expect(render('rainbow-system', { set: { 'webhook.podGuard.evictionFailurePolicy': 'ignore' } })).rejects.toThrow(/evictionFailurePolicy/);
  });

  it('leaves out kube-system and the release namespace (and excludeNamespaces) in every entry', async () => {
    for (const w of allWebhooks(defaults)) {
      expect(w.namespaceSelector).toEqual({ matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', NS] }] });
    }
    const r = await render('rainbow-system', {
      namespace: 'rainbow',
      values: { webhook: { excludeNamespaces: ['monitoring', 'kube-system'], namespaceSelector: { matchLabels: { 'rainbow.dev/enabled': 'true' } } } },
    });
    for (const w of allWebhooks(r)) {
      expect(w.namespaceSelector).toEqual({
        matchLabels: { 'rainbow.dev/enabled': 'true' },
        matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'rainbow', 'monitoring'] }],
      });
    }
  });

  it('takes timeoutSeconds from values', async () => {
    const r = await render('rainbow-system', { set: { 'webhook.timeoutSeconds': 20 } });
    for (const w of allWebhooks(r)) expect(w.timeoutSeconds).toBe(20);
  });

  it('calls the webhook only for what can stop a color (matchConditions), unless turned off', async () => {
    // The Service entry's condition is checked against the cutover in match-conditions.test.ts.
    expect(mutating(defaults).webhooks![0]!.matchConditions!.map((c) => c.name)).toEqual(['cutover-can-act']);
    expect(guardEntry(defaults, 'workloads.rainbow.dev').matchConditions).toEqual([
      {
        name: 'removes-pods',
        expression:
          "request.operation == 'DELETE' || (has(object.spec) && has(oldObject.spec) && " +
          '((has(object.spec.replicas) && has(oldObject.spec.replicas) && object.spec.replicas < oldObject.spec.replicas) || ' +
          '(has(object.spec.template) && has(oldObject.spec.template) && object.spec.template != oldObject.spec.template)))',
      },
    ]);
    expect(guardEntry(defaults, 'scale.rainbow.dev').matchConditions).toEqual([
      // A Scale has no labels: its status.selector string tells a rainbow color's workload.
      { name: 'rainbow-color', expression: "has(object.status) && has(object.status.selector) && object.status.selector.matches('(^|,)rainbow\\\\.dev/app( in |=|,|$)')" },
      {
        name: 'scale-down',
        expression: '!has(object.spec) || !has(object.spec.replicas) || (has(oldObject.spec) && has(oldObject.spec.replicas) && object.spec.replicas < oldObject.spec.replicas)',
      },
    ]);
    expect(guardEntry(defaults, 'pods.rainbow.dev').matchConditions).toEqual([{ name: 'not-terminating', expression: '!has(oldObject.metadata.deletionTimestamp)' }]);
    // The regular expression of rainbow-color, out of its CEL string literal, on selectors as the
    // API server formats them (metav1.FormatLabelSelector): only rainbow.dev/app itself counts.
    const cel = guardEntry(defaults, 'scale.rainbow.dev').matchConditions![0]!.expression;
    const pattern = new RegExp(/matches\('(.*)'\)$/.exec(cel)![1]!.replace(/\\\\/g, '\\'));
    for (const sel of ['rainbow.dev/app=web,rainbow.dev/color=3c3fdc', 'rainbow.dev/color=3c3fdc,rainbow.dev/app=web', 'rainbow.dev/app in (shop,web)', 'tier=front,rainbow.dev/app']) {
      expect([sel, pattern.test(sel)]).toEqual([sel, true]);
    }
    for (const sel of ['app=web', 'x.rainbow.dev/app=web', 'rainbow.dev/application=web', 'rainbowXdev/app=web', '']) {
      expect([sel, pattern.test(sel)]).toEqual([sel, false]);
    }
    const off = await render('rainbow-system', { set: { 'webhook.matchConditions': false } });
    for (const w of allWebhooks(off)) expect(w.matchConditions).toBeUndefined();
  });
});

describe('TLS', () => {
  it('renders no certificate and no caBundle: the webhook makes the Secret and injects its CA', () => {
    expect(defaults.has('Secret')).toBe(false);
    for (const w of allWebhooks(defaults)) expect(w.clientConfig.caBundle).toBeUndefined();
    const c = container(defaults, 'rainbow-webhook');
    const arg = (flag: string) => c.args![c.args!.indexOf(flag) + 1];
    expect(arg('--tls-secret')).toBe('rainbow-tls');
    expect(arg('--inject-ca')).toBe(`mutating/${mutating(defaults).metadata!.name},validating/${validating(defaults).metadata!.name}`);
    expect(arg('--dns-names')!.split(',')).toEqual(['rainbow-webhook', 'rainbow-webhook.rainbow-system', 'rainbow-webhook.rainbow-system.svc', 'rainbow-webhook.rainbow-system.svc.cluster.local']);
    expect(arg('--cert-dir')).toBe('/tls');
  });

  it('renders the same every time (no genCA, no lookup): stable for helm template and GitOps', async () => {
    const again = await render('rainbow-system');
    expect(again.objects).toEqual(defaults.objects);
    const templates = path.join(chartDir('rainbow-system'), 'templates');
    const text = readFileSync(path.join(templates, 'webhook-configurations.yaml'), 'utf8');
    expect(text).not.toMatch(/genCA|genSignedCert|lookup /);
    for (const file of readdirSync(templates)) expect([file, readFileSync(path.join(templates, file), 'utf8')]).toEqual([file, expect.not.stringMatching(/genCA|genSignedCert|lookup /)]);
  });

  it('takes the certificate validity, renewal and cluster domain from values', async () => {
    const r = await render('rainbow-system', { values: { clusterDomain: 'corp.example', tls: { validityDays: 90, renewBeforeDays: 10 } } });
    const args = container(r, 'rainbow-webhook').args!;
    const arg = (flag: string) => args[args.indexOf(flag) + 1];
    expect(arg('--tls-validity-days')).toBe('90');
    expect(arg('--tls-renew-before-days')).toBe('10');
    expect(arg('--dns-names')).toContain('rainbow-webhook.rainbow-system.svc.corp.example');
  });

  it('uses tls.existingSecret (no Secret rendered) with the CA from tls.caBundle, base64 or PEM', async () => {
    for (const caBundle of [b64(ca), ca]) {
      const r = await render('rainbow-system', { values: { tls: { existingSecret: 'webhook-cert', caBundle } } });
      expect(r.has('Secret')).toBe(false);
      expect(podSpec(r, 'rainbow-webhook').volumes).toContainEqual({ name: 'tls', secret: { secretName: 'webhook-cert' } });
      const c = container(r, 'rainbow-webhook');
      expect(c.args!.slice(0, 3)).toEqual(['webhook', '--cert-dir', '/tls']);
      expect(c.args!.filter((a) => a.startsWith('--tls') || a === '--inject-ca' || a === '--dns-names')).toEqual([]);
      expect(c.env).toBeUndefined();
      for (const w of allWebhooks(r)) expect(unb64(w.clientConfig.caBundle!)).toContain('-----BEGIN CERTIFICATE-----');
    }
  });

  it('with tls.existingSecret and cert-manager CA injection, leaves caBundle to the injector', async () => {
    const r = await render('rainbow-system', {
      values: { tls: { existingSecret: 'webhook-cert' }, webhookConfigurationAnnotations: { 'cert-manager.io/inject-ca-from': 'rainbow-system/webhook-cert' } },
    });
    for (const w of allWebhooks(r)) expect(w.clientConfig.caBundle).toBeUndefined();
    expect(mutating(r).metadata!.annotations).toEqual({ 'cert-manager.io/inject-ca-from': 'rainbow-system/webhook-cert' });
  });
});

describe('webhook.url: the webhook runs outside the cluster', () => {
  let r: Rendered;
  beforeAll(async () => {
    r = await render('rainbow-system', { values: { webhook: { url: 'https://127.0.0.1:8443', caBundle: b64(ca) }, controller: { enabled: false } } });
  });

  it('points every entry at the URL with the given CA', () => {
    expect(mutating(r).webhooks![0]!.clientConfig).toEqual({ url: 'https://127.0.0.1:8443/mutate/services', caBundle: b64(ca) });
    for (const w of validating(r).webhooks!) expect(w.clientConfig).toEqual({ url: 'https://127.0.0.1:8443/validate/deployments', caBundle: b64(ca) });
  });

  it('renders only the webhook configurations (no webhook Deployment, Service, PDB, Secret or RBAC)', () => {
    expect(r.names()).toEqual(['MutatingWebhookConfiguration/rainbow', 'ValidatingWebhookConfiguration/rainbow']);
  });

  it('keeps the selectors and policies', () => {
    expect(mutating(r).webhooks![0]!.failurePolicy).toBe('Ignore');
    expect(validating(r).webhooks!.map((w) => [w.name, w.failurePolicy, w.objectSelector !== undefined])).toEqual([
      ['workloads.rainbow.dev', 'Fail', true],
      ['scale.rainbow.dev', 'Fail', false],
      ['pods.rainbow.dev', 'Fail', true],
      ['evictions.rainbow.dev', 'Ignore', false],
    ]);
  });

  it('accepts a PEM caBundle, and a trailing slash on the URL', async () => {
    const pem = await render('rainbow-system', { values: { webhook: { url: 'https://127.0.0.1:9443/', caBundle: ca } } });
    expect(mutating(pem).webhooks![0]!.clientConfig).toEqual({ url: 'https://127.0.0.1:9443/mutate/services', caBundle: b64(ca.trim() + '\n') });
    expect(pem.has('Deployment', 'rainbow-controller')).toBe(true);
  });
});

describe('Pod Security Standard "restricted"', () => {
  it('holds for every pod and container', () => {
    const deployments = defaults.all<V1Deployment>('Deployment');
    expect(deployments).toHaveLength(2);
    for (const d of deployments) {
      const spec = d.spec!.template.spec!;
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      }
    }
  });
});

describe('NOTES.txt', () => {
  it('says what runs where and what to do next', async () => {
    const notes = await renderNotes('rainbow-system');
    expect(notes).toContain('Deployment rainbow-webhook (2 replicas), Service rainbow-webhook.rainbow-system.svc:443');
    expect(notes).toContain('TLS from the Secret rainbow-tls (made, rotated and kept by the webhook itself');
    expect(notes).toContain('guarded deletes of\nrainbow colors are refused');
    expect(notes).toContain('Deployment rainbow-controller');
    expect(notes).toContain('Namespaces kube-system and rainbow-system are left out.');
    expect(notes).toContain('helm upgrade --install web chart/rainbow-app');
  });

  it('says where the webhook is when it runs outside', async () => {
    const notes = await renderNotes('rainbow-system', { values: { webhook: { url: 'https://127.0.0.1:8443', caBundle: b64(ca) }, controller: { enabled: false } } });
    expect(notes).toContain('Webhook: outside the cluster, at https://127.0.0.1:8443');
    expect(notes).toContain('controller.enabled=false');
  });
});

describe('bad values fail with a readable error', () => {
  it('webhook.url without webhook.caBundle', async () => {
    const err = await renderError('rainbow-system', { set: { 'webhook.url': 'https://127.0.0.1:8443' } });
    expect(err).toContain('webhook.url is set, so webhook.caBundle is required');
  });

  it('webhook.url that is not https, and a caBundle that is not a certificate', async () => {
    expect(await renderError('rainbow-system', { set: { 'webhook.url': 'http://127.0.0.1:8443' } })).toMatch(/at '\/webhook\/url'/);
    const notCa = await renderError('rainbow-system', { values: { webhook: { url: 'https://127.0.0.1:8443', caBundle: b64('hello') } } });
    expect(notCa).toContain('webhook.caBundle must be a CA certificate');
  });

  it('tls.renewBeforeDays not shorter than tls.validityDays', async () => {
    const err = await renderError('rainbow-system', { values: { tls: { validityDays: 30, renewBeforeDays: 30 } } });
    expect(err).toContain('tls.renewBeforeDays (30) must be less than tls.validityDays (30)');
  });

  it('tls.existingSecret without a CA', async () => {
    const err = await renderError('rainbow-system', { set: { 'tls.existingSecret': 'webhook-cert' } });
    expect(err).toContain('tls.existingSecret=webhook-cert: give its CA in tls.caBundle');
  });

  it('timeouts the API server would refuse, or that leave the guard no time', async () => {
    expect(await renderError('rainbow-system', { set: { 'webhook.timeoutSeconds': 31 } })).toMatch(/at '\/webhook\/timeoutSeconds': maximum: got 31, want 30/);
    expect(await renderError('rainbow-system', { set: { 'webhook.timeoutSeconds': 5 } })).toContain('webhook.guardBudget (8s) must be shorter than webhook.timeoutSeconds (5 s)');
    expect(await renderError('rainbow-system', { set: { 'webhook.guardBudget': '1m' } })).toContain('webhook.guardBudget (1m) must be shorter');
  });

  it('negative replicas, unknown keys and unknown modes', async () => {
    expect(await renderError('rainbow-system', { set: { 'webhook.replicas': -1 } })).toMatch(/at '\/webhook\/replicas': minimum: got -1, want 0/);
    expect(await renderError('rainbow-system', { set: { 'webhook.replica': 3 } })).toMatch(/additional properties 'replica' not allowed/);
    expect(await renderError('rainbow-system', { set: { 'webhook.onUnknown': 'maybe' } })).toMatch(/at '\/webhook\/onUnknown': value must be one of 'deny', 'allow'/);
  });
});


describe('probes', () => {
  it('probes the webhook as before by default: readiness /readyz every 5 s, liveness /healthz after 10 s, every 10 s, 3 failures', () => {
    const c = container(defaults, 'rainbow-webhook');
    expect(c.readinessProbe).toEqual({ httpGet: { path: '/readyz', port: 'https', scheme: 'HTTPS' }, periodSeconds: 5 });
    expect(c.livenessProbe).toEqual({ httpGet: { path: '/healthz', port: 'https', scheme: 'HTTPS' }, initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 3 });
  });

  it('takes the webhook probes from webhook.readinessProbe and webhook.livenessProbe; null leaves one out', async () => {
    const r = await render('rainbow-system', { values: { webhook: { readinessProbe: { periodSeconds: 2, timeoutSeconds: 3 }, livenessProbe: null } } });
    const c = container(r, 'rainbow-webhook');
    expect(c.readinessProbe).toEqual({ httpGet: { path: '/readyz', port: 'https', scheme: 'HTTPS' }, periodSeconds: 2, timeoutSeconds: 3 });
    expect(c.livenessProbe).toBeUndefined();
  });

  it('fails when a probe names a port the container does not have', async () => {
    expect(await renderError('rainbow-system', { set: { 'webhook.readinessProbe.httpGet.port': 'http' } })).toContain(
      'webhook.readinessProbe.httpGet.port is "http", but the container has no port of that name (it has: https): name one of those, or give a number',
    );
    expect(await renderError('rainbow-system', { set: { 'controller.livenessProbe.httpGet.port': 'https' } })).toContain('controller.livenessProbe.httpGet.port is "https", but the container has no port of that name (it has: metrics)');
    const numbers = await render('rainbow-system', { set: { 'webhook.livenessProbe.httpGet.port': 8443, 'controller.readinessProbe.httpGet.port': 9090 } });
    expect(container(numbers, 'rainbow-webhook').livenessProbe!.httpGet!.port).toBe(8443);
    expect(container(numbers, 'rainbow-controller').readinessProbe!.httpGet!.port).toBe(9090);
  });
});

describe('image digest and /tmp', () => {
  it('image.digest runs <repository>@<digest> in both Deployments, whatever the tag', async () => {
    const digest = `sha256:${'0f'.repeat(32)}`;
    const r = await render('rainbow-system', { values: { image: { repository: 'ghcr.io/acme/rainbow', tag: '1.2.3', digest } } });
    for (const name of ['rainbow-webhook', 'rainbow-controller']) expect(container(r, name).image).toBe(`ghcr.io/acme/rainbow@${digest}`);
    expect(await renderError('rainbow-system', { set: { 'image.digest': 'sha256' } })).toMatch(/at '\/image\/digest'/);
  });

  it('limits the /tmp emptyDir of both Deployments to tmp.sizeLimit (32Mi), none when null', async () => {
    for (const name of ['rainbow-webhook', 'rainbow-controller']) expect(podSpec(defaults, name).volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '32Mi' } });
    const r = await render('rainbow-system', { set: { 'tmp.sizeLimit': 'null' } });
    for (const name of ['rainbow-webhook', 'rainbow-controller']) expect(podSpec(r, name).volumes).toContainEqual({ name: 'tmp', emptyDir: {} });
  });
});

describe('networkPolicy', () => {
  const policies = (r: Rendered) => Object.fromEntries(r.all<V1NetworkPolicy>('NetworkPolicy').map((p) => [p.metadata!.name!, p.spec!]));

  it('is off by default', () => {
    expect(defaults.has('NetworkPolicy')).toBe(false);
  });

  const prometheus = [{ namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }];

  it('lets only the webhook port reach the webhook, and nothing the controller but what networkPolicy.metrics.from names', async () => {
    const r = await render('rainbow-system', { values: { networkPolicy: { enabled: true, metrics: { from: prometheus } } } });
    const { 'rainbow-webhook': webhook, 'rainbow-controller': controller } = policies(r);
    expect(webhook).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'rainbow', 'app.kubernetes.io/instance': 'rainbow', 'app.kubernetes.io/component': 'webhook' } },
      policyTypes: ['Ingress'],
      // The API servers are not pods: any source, on that port only.
      ingress: [{ ports: [{ port: 'https', protocol: 'TCP' }] }],
    });
    expect(controller).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'rainbow', 'app.kubernetes.io/instance': 'rainbow', 'app.kubernetes.io/component': 'controller' } },
      policyTypes: ['Ingress'],
      ingress: [{ ports: [{ port: 'metrics', protocol: 'TCP' }], from: prometheus }],
    });
    expect(policies(await render('rainbow-system', { set: { 'networkPolicy.enabled': true } }))['rainbow-controller']!.ingress).toEqual([]);
    // The named ports exist on the pods they select.
    expect(container(r, 'rainbow-webhook').ports!.map((p) => p.name)).toContain('https');
    expect(container(r, 'rainbow-controller').ports!.map((p) => p.name)).toContain('metrics');
  });

  it('takes the webhook\'s callers from values', async () => {
    const r = await render('rainbow-system', { values: { networkPolicy: { enabled: true, webhook: { from: [{ ipBlock: { cidr: '10.0.0.0/24' } }] } } } });
    expect(policies(r)['rainbow-webhook']!.ingress).toEqual([{ ports: [{ port: 'https', protocol: 'TCP' }], from: [{ ipBlock: { cidr: '10.0.0.0/24' } }] }]);
  });

  it('refuses to shut the controller\'s scrapers out when its ServiceMonitor is on', async () => {
    const err = await renderError('rainbow-system', { set: { 'networkPolicy.enabled': true, 'monitoring.serviceMonitor.enabled': true } });
    expect(err).toContain('set networkPolicy.metrics.from to the pods that scrape the controller');
  });

  it('has no webhook policy when the webhook runs outside the cluster, and none for a controller that is off', async () => {
    const r = await render('rainbow-system', { set: { 'networkPolicy.enabled': true, 'webhook.url': 'https://rainbow.example.com:8443', 'webhook.caBundle': b64(ca), 'controller.enabled': false } });
    expect(r.has('NetworkPolicy')).toBe(false);
  });

  it('refuses a peer that is not a NetworkPolicyPeer', async () => {
    const err = await renderError('rainbow-system', { values: { networkPolicy: { enabled: true, webhook: { from: [{ cidr: '10.0.0.0/24' }] } } } });
    expect(err).toContain("at '/networkPolicy/webhook/from/0': additional properties 'cidr' not allowed");
  });
});

describe('templates: one file per component and kind', () => {
  const templates = path.join(chartDir('rainbow-system'), 'templates');
  const files = readdirSync(templates).filter((f) => f.endsWith('.yaml'));
  // What each file may render: the kinds of its name (rbac: the roles and their bindings).
  const kindsOf = (file: string): string[] => {
    const kind = file.replace(/^(webhook|controller|monitoring)-/, '').replace(/\.yaml$/, '');
    if (kind === 'rbac') return ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];
    if (kind === 'configurations') return ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];
    const kinds: Record<string, string> = {
      deployment: 'Deployment',
      service: 'Service',
      poddisruptionbudget: 'PodDisruptionBudget',
      serviceaccount: 'ServiceAccount',
      servicemonitor: 'ServiceMonitor',
      prometheusrule: 'PrometheusRule',
      'grafana-dashboard': 'ConfigMap',
      networkpolicy: 'NetworkPolicy',
    };
    return [kinds[kind]!];
  };
  // Monitoring and the NetworkPolicies are off by default; with them on, every file renders something.
  const monitoring = {
    values: { monitoring: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true }, grafanaDashboard: { enabled: true } }, networkPolicy: { enabled: true, metrics: { from: [{ namespaceSelector: {} }] } } },
  };

  it('has exactly the cert-manager-style files', () => {
    expect(files.sort()).toEqual([
      'controller-deployment.yaml',
      'controller-networkpolicy.yaml',
      'controller-rbac.yaml',
      'controller-service.yaml',
      'controller-serviceaccount.yaml',
      'monitoring-grafana-dashboard.yaml',
      'monitoring-prometheusrule.yaml',
      'monitoring-servicemonitor.yaml',
      'webhook-configurations.yaml',
      'webhook-deployment.yaml',
      'webhook-networkpolicy.yaml',
      'webhook-poddisruptionbudget.yaml',
      'webhook-rbac.yaml',
      'webhook-service.yaml',
      'webhook-serviceaccount.yaml',
    ]);
  });

  it.each(files)('%s renders only objects of its component and kind', async (file) => {
    const r = await render('rainbow-system', { ...monitoring, args: ['--show-only', `templates/${file}`] });
    expect(r.objects.length).toBeGreaterThan(0);
    const component = file.split('-')[0];
    for (const o of r.objects) {
      expect([o.kind, kindsOf(file)]).toEqual([o.kind, expect.arrayContaining([o.kind])]);
      expect(o.metadata.labels!['app.kubernetes.io/component']).toBe(component);
    }
  });

  it('together render what the chart renders', async () => {
    const parts = await Promise.all(files.map((f) => render('rainbow-system', { ...monitoring, args: ['--show-only', `templates/${f}`] })));
    expect(parts.flatMap((p) => p.names()).sort()).toEqual((await render('rainbow-system', monitoring)).names());
  });
});
