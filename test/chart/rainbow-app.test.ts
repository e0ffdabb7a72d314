// chart/rainbow-app: what `helm upgrade --install web chart/rainbow-app --set color=…` gives
// Kubernetes, checked on the parsed objects, and the errors bad values get.
import type { V1Container, V1Deployment, V1PodDisruptionBudget, V1PodSpec, V1SecurityContext, V1Service, V1ServiceAccount } from '@kubernetes/client-node';

import { DEFAULTS, ENV_COLOR, LABEL_APP, LABEL_COLOR } from '../../webhook/src/domain/contract.js';
import { parseDuration } from '../../webhook/src/domain/durations.js';
import { appService, colorDeployment } from '../../scripts/cluster/app-objects.js';
import { render, renderError, renderNotes, type Rendered } from './render.js';

const COLOR = '3c3fdc';

const deployment = (r: Rendered, name = `web-${COLOR}`) => r.get<V1Deployment>('Deployment', name);
const service = (r: Rendered) => r.get<V1Service>('Service', 'web');
const podSpec = (r: Rendered, name?: string): V1PodSpec => deployment(r, name).spec!.template.spec!;
const appContainer = (r: Rendered, name?: string): V1Container => podSpec(r, name).containers.find((c) => c.name === 'app')!;
const reporter = (r: Rendered, name?: string): V1Container | undefined => podSpec(r, name).initContainers?.find((c) => c.name === 'reporter');
const allContainers = (spec: V1PodSpec): V1Container[] => [...(spec.initContainers ?? []), ...spec.containers];

let defaults: Rendered;
beforeAll(async () => {
  defaults = await render('rainbow-app', { set: { color: COLOR } });
});

describe('names and labels', () => {
  it('renders Deployment <release>-<color> and Service <release>, nothing else by default', () => {
    expect(defaults.names()).toEqual([`Deployment/web-${COLOR}`, 'Service/web']);
    for (const o of defaults.objects) expect(o.metadata.namespace).toBe('shop');
  });

  it('selects pods by exactly rainbow.dev/app and rainbow.dev/color', () => {
    const d = deployment(defaults);
    expect(d.spec!.selector.matchLabels).toEqual({ [LABEL_APP]: 'web', [LABEL_COLOR]: COLOR });
    expect(d.spec!.selector.matchExpressions).toBeUndefined();
    expect(d.spec!.template.metadata!.labels).toMatchObject({ [LABEL_APP]: 'web', [LABEL_COLOR]: COLOR });
  });

  it('labels the Deployment with the app, the color and the standard labels, but no app.kubernetes.io/version', () => {
    const d = deployment(defaults);
    expect(d.metadata!.labels).toMatchObject({
      [LABEL_APP]: 'web',
      [LABEL_COLOR]: COLOR,
      'app.kubernetes.io/name': 'web',
      'app.kubernetes.io/instance': 'web',
      'app.kubernetes.io/managed-by': 'Helm',
      'helm.sh/chart': 'rainbow-app-0.1.0',
    });
    const everyLabelMap = [d.metadata!.labels, d.spec!.selector.matchLabels, d.spec!.template.metadata!.labels, service(defaults).metadata!.labels];
    for (const labels of everyLabelMap) expect(Object.keys(labels ?? {})).not.toContain('app.kubernetes.io/version');
  });

  it('keeps pod labels free of anything that changes with the chart version', () => {
    const labels = deployment(defaults).spec!.template.metadata!.labels!;
    expect(Object.keys(labels)).not.toContain('helm.sh/chart');
  });

  it('podLabels add to the pod labels but cannot change the selector labels', async () => {
    const r = await render('rainbow-app', { values: { color: COLOR, podLabels: { team: 'blue', [LABEL_COLOR]: 'other', [LABEL_APP]: 'other' } } });
    expect(deployment(r).spec!.template.metadata!.labels).toMatchObject({ team: 'blue', [LABEL_APP]: 'web', [LABEL_COLOR]: COLOR });
  });

  it('tells Helm to keep the Deployment (old colors are deleted by the controller once drained)', () => {
    expect(deployment(defaults).metadata!.annotations).toMatchObject({ 'helm.sh/resource-policy': 'keep' });
  });

  it('says on each color what becomes of it when the app is uninstalled (drain.onUninstall: drain by default, keep), never on the Service', async () => {
    expect(deployment(defaults).metadata!.annotations!['rainbow.dev/on-uninstall']).toBe('drain');
    const kept = await render('rainbow-app', { values: { color: COLOR, drain: { onUninstall: 'keep' } } });
    expect(deployment(kept).metadata!.annotations!['rainbow.dev/on-uninstall']).toBe('keep');
    expect(service(kept).metadata!.annotations!['rainbow.dev/on-uninstall']).toBeUndefined();
    const none = await render('rainbow-app', { values: { color: COLOR, drain: { onUninstall: null } } });
    expect(deployment(none).metadata!.annotations!['rainbow.dev/on-uninstall']).toBeUndefined();
    await expect(render('rainbow-app', { values: { color: COLOR, drain: { onUninstall: 'delete' } } })).rejects.toThrow(/onUninstall/);
  });

  it('tells Argo CD and Flux not to prune a color nor count it as drift, unless gitopsAnnotations is false', async () => {
    const gitops = { 'argocd.argoproj.io/sync-options': 'Prune=false', 'argocd.argoproj.io/compare-options': 'IgnoreExtraneous', 'kustomize.toolkit.fluxcd.io/prune': 'disabled' };
    expect(deployment(defaults).metadata!.annotations).toMatchObject(gitops);
    const off = deployment(await render('rainbow-app', { values: { color: COLOR, gitopsAnnotations: false } })).metadata!.annotations!;
    expect(Object.keys(off).filter((k) => k in gitops)).toEqual([]);
    expect(off['helm.sh/resource-policy']).toBe('keep');
    // Only the Deployment: the Service must stay prunable and compared.
    expect(Object.keys(service(defaults).metadata!.annotations ?? {}).filter((k) => k in gitops)).toEqual([]);
  });

  it('a new color is a new Deployment and the Service follows it', async () => {
    const next = await render('rainbow-app', { set: { color: 'a1b2c3d' } });
    expect(next.names()).toEqual(['Deployment/web-a1b2c3d', 'Service/web']);
    expect(service(next).spec!.selector).toEqual({ [LABEL_APP]: 'web', [LABEL_COLOR]: 'a1b2c3d' });
  });

  it('takes the app name from the release', async () => {
    const r = await render('rainbow-app', { release: 'chat', namespace: 'talk', set: { color: COLOR } });
    expect(r.names()).toEqual([`Deployment/chat-${COLOR}`, 'Service/chat']);
    expect(r.get<V1Service>('Service').spec!.selector).toEqual({ [LABEL_APP]: 'chat', [LABEL_COLOR]: COLOR });
  });
});

describe('the Service', () => {
  it('selects the color and carries only rainbow.dev/app of the rainbow labels', () => {
    const s = service(defaults);
    expect(s.spec!.selector).toEqual({ [LABEL_APP]: 'web', [LABEL_COLOR]: COLOR });
    expect(s.metadata!.labels![LABEL_APP]).toBe('web');
    expect(s.metadata!.labels![LABEL_COLOR]).toBeUndefined();
    expect(s.spec!.type).toBe('ClusterIP');
  });

  it('exposes every port by name', () => {
    expect(service(defaults).spec!.ports).toEqual([
      { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' },
      { name: 'tcp', port: 8081, targetPort: 'tcp', protocol: 'TCP' },
    ]);
  });

  it('writes the drain and cutover defaults of the contract as annotations', () => {
    const annotations = service(defaults).metadata!.annotations!;
    expect(annotations).toEqual({
      'rainbow.dev/cutover': DEFAULTS.cutover,
      'rainbow.dev/keep-colors': String(DEFAULTS.keepColors),
      'rainbow.dev/drain-grace': '60s',
      'rainbow.dev/max-drain': '48h',
      'rainbow.dev/shrink': String(DEFAULTS.shrink),
    });
    expect(parseDuration(annotations['rainbow.dev/drain-grace']!)).toBe(DEFAULTS.drainGraceSeconds);
    expect(parseDuration(annotations['rainbow.dev/max-drain']!)).toBe(DEFAULTS.maxDrainSeconds);
  });

  it('takes the annotations from drain.*, cutover and service.annotations', async () => {
    const r = await render('rainbow-app', {
      values: { color: COLOR, cutover: 'immediate', drain: { keepColors: 3, grace: '5m', maxDrain: '72h', shrink: false }, service: { annotations: { 'example.com/team': 'blue' } } },
    });
    expect(service(r).metadata!.annotations).toEqual({
      'rainbow.dev/cutover': 'immediate',
      'rainbow.dev/keep-colors': '3',
      'rainbow.dev/drain-grace': '5m',
      'rainbow.dev/max-drain': '72h',
      'rainbow.dev/shrink': 'false',
      'example.com/team': 'blue',
    });
  });

  it('writes a duration given in seconds as "<n>s", and leaves out a drain setting set to null', async () => {
    const r = await render('rainbow-app', { set: { color: COLOR, 'drain.grace': 90, 'drain.maxDrain': 'null', 'drain.keepColors': 0 } });
    const annotations = service(r).metadata!.annotations!;
    expect(annotations['rainbow.dev/drain-grace']).toBe('90s');
    expect(annotations['rainbow.dev/keep-colors']).toBe('0');
    expect(annotations).not.toHaveProperty('rainbow.dev/max-drain');
  });

  it('service.annotations cannot override the rainbow annotations from values', async () => {
    const r = await render('rainbow-app', { values: { color: COLOR, cutover: 'ready', service: { annotations: { 'rainbow.dev/cutover': 'immediate' } } } });
    expect(service(r).metadata!.annotations!['rainbow.dev/cutover']).toBe('ready');
  });

  it('takes a type and nodePorts per port (the seed used NodePorts 31080 and 31081)', async () => {
    const r = await render('rainbow-app', {
      values: {
        color: COLOR,
        service: { type: 'NodePort' },
        ports: [
          { name: 'http', containerPort: 8080, nodePort: 31080 },
          { name: 'tcp', containerPort: 8081, nodePort: 31081, servicePort: 81 },
        ],
      },
    });
    expect(service(r).spec!.type).toBe('NodePort');
    expect(service(r).spec!.ports).toEqual([
      { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP', nodePort: 31080 },
      { name: 'tcp', port: 81, targetPort: 'tcp', protocol: 'TCP', nodePort: 31081 },
    ]);
  });
});

describe('the app container', () => {
  it('runs the demo app of the rainbow image, tagged with the color', () => {
    const app = appContainer(defaults);
    expect(app.image).toBe(`rainbow:${COLOR}`);
    expect(app.imagePullPolicy).toBe('IfNotPresent');
    expect(app.args).toEqual(['app']);
    expect(app.command).toBeUndefined();
  });

  it('gets RAINBOW_COLOR=<color>, also when the color is all digits (which --set reads as a number)', async () => {
    expect(appContainer(defaults).env).toContainEqual({ name: ENV_COLOR, value: COLOR });
    const digits = await render('rainbow-app', { set: { color: '123456' } });
    expect(digits.names()).toContain('Deployment/web-123456');
    expect(appContainer(digits, 'web-123456').env).toContainEqual({ name: ENV_COLOR, value: '123456' });
    expect(appContainer(digits, 'web-123456').image).toBe('rainbow:123456');
    expect(deployment(digits, 'web-123456').spec!.selector.matchLabels![LABEL_COLOR]).toBe('123456');
    const fromFile = await render('rainbow-app', { values: { color: 1234567 } });
    expect(appContainer(fromFile, 'web-1234567').env).toContainEqual({ name: ENV_COLOR, value: '1234567' });
  });

  it('takes image, command, args, extraEnv, probes and resources from values', async () => {
    const r = await render('rainbow-app', {
      values: {
        color: COLOR,
        image: { repository: 'registry.example.com/shop/web', tag: 'v2', pullPolicy: 'Always' },
        command: ['/bin/web'],
        args: ['--listen', ':8080'],
        extraEnv: [{ name: 'LOG_LEVEL', value: 'debug' }],
        readinessProbe: { httpGet: null, tcpSocket: { port: 'http' }, periodSeconds: 5 },
        livenessProbe: { httpGet: { path: '/live', port: 'http' } },
        resources: { requests: { cpu: '100m' } },
      },
    });
    const app = appContainer(r);
    expect(app.image).toBe('registry.example.com/shop/web:v2');
    expect(app.imagePullPolicy).toBe('Always');
    expect(app.command).toEqual(['/bin/web']);
    expect(app.args).toEqual(['--listen', ':8080']);
    expect(app.env).toEqual([
      { name: ENV_COLOR, value: COLOR },
      { name: 'LOG_LEVEL', value: 'debug' },
    ]);
    expect(app.readinessProbe).toEqual({ tcpSocket: { port: 'http' }, periodSeconds: 5 });
    expect(app.livenessProbe).toEqual({ httpGet: { path: '/live', port: 'http' } });
    // Helm merges the values into the defaults: the default memory request stays.
    expect(app.resources).toEqual({ requests: { cpu: '100m', memory: '64Mi' } });
  });

  it('has a readiness probe on /healthz every 2 s by default, and no liveness probe', () => {
    const app = appContainer(defaults);
    expect(app.readinessProbe).toEqual({ httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 2 });
    expect(app.livenessProbe).toBeUndefined();
    expect(app.ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'tcp', containerPort: 8081, protocol: 'TCP' },
    ]);
  });
});

describe('the pod', () => {
  it('has 2 replicas, a 60 s termination grace period and no API token by default', () => {
    const d = deployment(defaults);
    expect(d.spec!.replicas).toBe(2);
    expect(podSpec(defaults).terminationGracePeriodSeconds).toBe(60);
    expect(podSpec(defaults).automountServiceAccountToken).toBe(false);
    expect(podSpec(defaults).serviceAccountName).toBe('default');
  });

  it('takes replicas (0 allowed), scheduling, annotations and the grace period from values', async () => {
    const r = await render('rainbow-app', {
      values: {
        color: COLOR,
        replicas: 0,
        terminationGracePeriodSeconds: 600,
        nodeSelector: { pool: 'web' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }],
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } },
        podAnnotations: { 'prometheus.io/scrape': 'true' },
        priorityClassName: 'high',
      },
    });
    const d = deployment(r);
    const spec = podSpec(r);
    expect(d.spec!.replicas).toBe(0);
    expect(spec.terminationGracePeriodSeconds).toBe(600);
    expect(spec.nodeSelector).toEqual({ pool: 'web' });
    expect(spec.tolerations).toHaveLength(1);
    expect(spec.affinity!.nodeAffinity).toBeDefined();
    expect(spec.priorityClassName).toBe('high');
    expect(d.spec!.template.metadata!.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'rainbow.dev/connections-port': '9471' });
  });

  it('creates a ServiceAccount named after the app when asked, shared by all colors', async () => {
    const r = await render('rainbow-app', { values: { color: COLOR, serviceAccount: { create: true, annotations: { 'example.com/role': 'web' } } } });
    const sa = r.get<V1ServiceAccount>('ServiceAccount', 'web');
    expect(sa.metadata!.annotations).toEqual({ 'example.com/role': 'web' });
    expect(sa.metadata!.labels![LABEL_APP]).toBe('web');
    expect(podSpec(r).serviceAccountName).toBe('web');
  });

  it('points the delete guard at the connection count with pod and Deployment annotations', () => {
    const expected = { 'rainbow.dev/connections-port': String(DEFAULTS.connectionsPort), 'rainbow.dev/connections-path': DEFAULTS.connectionsPath };
    expect(deployment(defaults).spec!.template.metadata!.annotations).toEqual(expected);
    expect(deployment(defaults).metadata!.annotations).toMatchObject(expected);
  });
});

describe('the reporter sidecar', () => {
  it('is a native sidecar (init container, restartPolicy Always) counting the app ports at the pod IP', () => {
    const spec = podSpec(defaults);
    expect(spec.initContainers).toHaveLength(1);
    const r = reporter(defaults)!;
    expect(r.restartPolicy).toBe('Always');
    expect(r.image).toBe(`rainbow:${COLOR}`);
    expect(r.args).toEqual(['reporter', '--ports', '8080,8081', '--port', '9471', '--pod-ip', '$(POD_IP)']);
    expect(r.env).toEqual([
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'NODE_OPTIONS', value: '--max-semi-space-size=1' },
    ]);
    expect(r.ports).toEqual([{ name: 'connections', containerPort: 9471, protocol: 'TCP' }]);
    expect(r.readinessProbe).toEqual({ httpGet: { path: '/connections', port: 'connections' }, periodSeconds: 2 });
  });

  it('counts the TCP ports of the ports list, and serves on connections.port', async () => {
    const r = await render('rainbow-app', {
      values: {
        color: COLOR,
        connections: { port: 9999 },
        // The readiness probe names a port of the list (the default names "http").
        readinessProbe: { httpGet: { path: '/healthz', port: 'web' } },
        ports: [
          { name: 'web', containerPort: 3000 },
          { name: 'stats', containerPort: 8125, protocol: 'UDP' },
          { name: 'grpc', containerPort: 50051, protocol: 'TCP' },
        ],
      },
    });
    const sidecar = reporter(r)!;
    expect(sidecar.args).toEqual(['reporter', '--ports', '3000,50051', '--port', '9999', '--pod-ip', '$(POD_IP)']);
    expect(sidecar.ports).toEqual([{ name: 'connections', containerPort: 9999, protocol: 'TCP' }]);
    expect(deployment(r).spec!.template.metadata!.annotations!['rainbow.dev/connections-port']).toBe('9999');
  });

  it('is left out with connections.source=app, and the annotations say where the app serves the count', async () => {
    const r = await render('rainbow-app', { values: { color: COLOR, connections: { source: 'app', port: 8080, path: '/internal/connections' } } });
    expect(podSpec(r).initContainers).toBeUndefined();
    expect(deployment(r).spec!.template.metadata!.annotations).toEqual({
      'rainbow.dev/connections-port': '8080',
      'rainbow.dev/connections-path': '/internal/connections',
    });
  });

  it('runs Node.js with reporter.nodeOptions (a 1 MiB young generation by default), none when it is empty', async () => {
    const nodeOptions = (c: V1Container) => c.env?.filter((e) => e.name === 'NODE_OPTIONS');
    expect(nodeOptions(reporter(defaults)!)).toEqual([{ name: 'NODE_OPTIONS', value: '--max-semi-space-size=1' }]);
    const lean = await render('rainbow-app', { values: { color: COLOR, reporter: { nodeOptions: '--jitless --max-semi-space-size=1' } } });
    expect(nodeOptions(reporter(lean)!)).toEqual([{ name: 'NODE_OPTIONS', value: '--jitless --max-semi-space-size=1' }]);
    for (const none of ['', null]) {
      const r = await render('rainbow-app', { values: { color: COLOR, reporter: { nodeOptions: none } } });
      expect(reporter(r)!.env).toEqual([{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }]);
    }
    // The flags are the reporter's alone: the app keeps its own runtime settings.
    expect(appContainer(defaults).env!.map((e) => e.name)).not.toContain('NODE_OPTIONS');
  });

  it('runs the app image unless reporter.image names another, which then defaults to the chart appVersion', async () => {
    const sameTag = await render('rainbow-app', { values: { color: COLOR, image: { tag: 'build-7' } } });
    expect(reporter(sameTag)!.image).toBe('rainbow:build-7');
    const own = await render('rainbow-app', { values: { color: COLOR, image: { repository: 'acme/web' }, reporter: { image: { repository: 'ghcr.io/acme/rainbow' } } } });
    expect(appContainer(own).image).toBe(`acme/web:${COLOR}`);
    expect(reporter(own)!.image).toBe('ghcr.io/acme/rainbow:0.1.0');
    const pinned = await render('rainbow-app', { values: { color: COLOR, reporter: { image: { repository: 'ghcr.io/acme/rainbow', tag: '0.2.0', pullPolicy: 'Always' } } } });
    expect(reporter(pinned)!.image).toBe('ghcr.io/acme/rainbow:0.2.0');
    expect(reporter(pinned)!.imagePullPolicy).toBe('Always');
  });
});

describe('Pod Security Standard "restricted"', () => {
  const restricted: V1SecurityContext = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };

  it('sets it on the pod and on every container, with a writable /tmp', () => {
    const spec = podSpec(defaults);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    const containers = allContainers(spec);
    expect(containers.map((c) => c.name)).toEqual(['reporter', 'app']);
    for (const c of containers) {
      expect(c.securityContext).toMatchObject(restricted);
      expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    }
    expect(spec.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } });
  });

  it('keeps the restricted settings when some are changed (runAsUser) and without the sidecar', async () => {
    const r = await render('rainbow-app', { values: { color: COLOR, podSecurityContext: { runAsUser: 1000 }, connections: { source: 'app' } } });
    const spec = podSpec(r);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    for (const c of allContainers(spec)) expect(c.securityContext).toMatchObject(restricted);
  });

  it('mounts extra volumes next to /tmp', async () => {
    const r = await render('rainbow-app', {
      values: { color: COLOR, extraVolumes: [{ name: 'cache', emptyDir: {} }], extraVolumeMounts: [{ name: 'cache', mountPath: '/var/cache/web' }] },
    });
    expect(podSpec(r).volumes).toEqual([
      { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
      { name: 'cache', emptyDir: {} },
    ]);
    expect(appContainer(r).volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'cache', mountPath: '/var/cache/web' },
    ]);
  });
});

describe('the shape the e2e tests build by hand (scripts/cluster/app-objects.ts)', () => {
  it('matches the chart in names, selectors, containers, sidecar and Service ports', async () => {
    const r = await render('rainbow-app', {
      values: { color: COLOR, image: { tag: 'e2e' }, service: { type: 'NodePort' } },
    });
    const byHand = colorDeployment('web', COLOR);
    const d = deployment(r);
    expect(d.metadata!.name).toBe(byHand.metadata!.name);
    expect(d.spec!.selector).toEqual(byHand.spec!.selector);
    expect(d.spec!.template.metadata!.labels).toMatchObject(byHand.spec!.template.metadata!.labels!);

    const handSpec = byHand.spec!.template.spec!;
    const spec = podSpec(r);
    const handReporter = handSpec.initContainers![0]!;
    const chartReporter = reporter(r)!;
    expect(chartReporter.name).toBe(handReporter.name);
    expect(chartReporter.image).toBe(handReporter.image);
    expect(chartReporter.restartPolicy).toBe(handReporter.restartPolicy);
    // The e2e sidecar runs with Node.js defaults; the chart adds NODE_OPTIONS (reporter.nodeOptions).
    expect(chartReporter.env!.filter((e) => e.name !== 'NODE_OPTIONS')).toEqual(handReporter.env);
    expect(chartReporter.ports!.map((p) => [p.name, p.containerPort])).toEqual(handReporter.ports!.map((p) => [p.name, p.containerPort]));
    // The e2e sidecar leaves --port at its default; the chart spells it out.
    const withoutPort = chartReporter.args!.filter((a, i, all) => a !== '--port' && all[i - 1] !== '--port');
    expect(withoutPort).toEqual(handReporter.args);
    expect(chartReporter.readinessProbe!.httpGet!.path).toBe(handReporter.readinessProbe!.httpGet!.path);

    const handApp = handSpec.containers[0]!;
    const chartApp = appContainer(r);
    expect(spec.containers.map((c) => c.name)).toEqual(handSpec.containers.map((c) => c.name));
    expect(chartApp.image).toBe(handApp.image);
    expect(chartApp.args).toEqual(handApp.args);
    expect(chartApp.env).toEqual(handApp.env);
    expect(chartApp.ports!.map((p) => [p.name, p.containerPort])).toEqual(handApp.ports!.map((p) => [p.name, p.containerPort]));
    expect(chartApp.readinessProbe!.httpGet).toEqual(handApp.readinessProbe!.httpGet);

    const handService = appService('web', COLOR);
    const s = service(r);
    expect(s.metadata!.name).toBe(handService.metadata!.name);
    expect(s.metadata!.labels).toMatchObject(handService.metadata!.labels!);
    expect(s.spec!.type).toBe(handService.spec!.type);
    expect(s.spec!.selector).toEqual(handService.spec!.selector);
    expect(s.spec!.ports!.map(({ name, port, targetPort }) => ({ name, port, targetPort }))).toEqual(handService.spec!.ports);
  });
});

describe('drain.shrink', () => {
  it('renders rainbow.dev/shrink "true" by default and "false" from --set drain.shrink=false; null leaves it out', async () => {
    expect(service(defaults).metadata!.annotations!['rainbow.dev/shrink']).toBe('true');
    const off = await render('rainbow-app', { set: { color: COLOR, 'drain.shrink': false } });
    expect(service(off).metadata!.annotations!['rainbow.dev/shrink']).toBe('false');
    const unset = await render('rainbow-app', { set: { color: COLOR, 'drain.shrink': 'null' } });
    expect(service(unset).metadata!.annotations).not.toHaveProperty('rainbow.dev/shrink');
  });

  it('the value is a boolean: a string is refused by the schema', async () => {
    expect(await renderError('rainbow-app', { values: { color: COLOR, drain: { shrink: 'sometimes' } } })).toMatch(/at '\/drain\/shrink'/);
  });

  it('NOTES.txt says so, and not when it is off', async () => {
    expect(await renderNotes('rainbow-app', { set: { color: COLOR } })).toMatch(/scaled down, once drain.grace has passed,\s+to\s+the pods that still hold connections \(drain.shrink\)/);
    expect(await renderNotes('rainbow-app', { set: { color: COLOR, 'drain.shrink': false } })).not.toContain('drain.shrink');
  });
});

describe('NOTES.txt', () => {
  it('says which color was deployed, how the Service moves, who cleans up, and what to run next', async () => {
    const notes = await renderNotes('rainbow-app', { set: { color: COLOR } });
    expect(notes).toContain(`Deployed color ${COLOR} (#${COLOR}) of app web in namespace shop`);
    expect(notes).toContain(`Deployment web-${COLOR}`);
    expect(notes).toMatch(/only once that color's Deployment is Available/);
    expect(notes).toMatch(/rainbow-controller does/);
    expect(notes).toContain('kubectl rainbow status web -n shop');
    expect(notes).toContain('kubectl get deploy -n shop -l rainbow.dev/app=web');
  });

  it('says so when the cutover is immediate, and warns when the reporter would run an app image', async () => {
    const notes = await renderNotes('rainbow-app', { values: { color: COLOR, cutover: 'immediate', image: { repository: 'acme/web' } } });
    expect(notes).toContain('switches to 3c3fdc at once (cutover: immediate)');
    expect(notes).toMatch(/WARNING: the reporter sidecar runs your app's image \(acme\/web:3c3fdc\)/);
  });
});

describe('bad values fail with a readable error', () => {
  it('no color: says it is required and how to give it', async () => {
    const err = await renderError('rainbow-app');
    expect(err).toContain('color is required: helm upgrade --install web chart/rainbow-app --set color=$(git rev-parse --short=6 HEAD)');
  });

  it('an uppercase color: the schema names /color and the pattern', async () => {
    const err = await renderError('rainbow-app', { set: { color: '3C3FDC' } });
    expect(err).toMatch(/at '\/color': '3C3FDC' does not match pattern/);
  });

  it('a color of 41 characters: the schema says at most 40', async () => {
    const err = await renderError('rainbow-app', { set: { color: 'a'.repeat(41) } });
    expect(err).toMatch(/at '\/color': maxLength: got 41, want 40/);
  });

  it('colors that are not DNS labels', async () => {
    for (const color of ['-abc', 'abc-', 'ab_cd', 'ab.cd']) {
      expect(await renderError('rainbow-app', { set: { color } })).toMatch(/at '\/color'/);
    }
  });

  it('a bad color still fails in the templates when schema validation is skipped', async () => {
    const err = await renderError('rainbow-app', { set: { color: 'ABC' }, args: ['--skip-schema-validation'] });
    expect(err).toContain('color "ABC" is not valid: a color is a DNS-label-safe string of at most 40 characters');
  });

  it('negative replicas', async () => {
    expect(await renderError('rainbow-app', { set: { color: COLOR, replicas: -1 } })).toMatch(/at '\/replicas': minimum: got -1, want 0/);
    const skipped = await renderError('rainbow-app', { set: { color: COLOR, replicas: -1 }, args: ['--skip-schema-validation'] });
    expect(skipped).toContain('replicas must be 0 or more, got -1');
  });

  it('unknown keys, unknown cutover modes and durations with days', async () => {
    expect(await renderError('rainbow-app', { set: { color: COLOR, replica: 3 } })).toMatch(/additional properties 'replica' not allowed/);
    expect(await renderError('rainbow-app', { set: { color: COLOR, cutover: 'soon' } })).toMatch(/at '\/cutover': value must be one of 'ready', 'immediate'/);
    expect(await renderError('rainbow-app', { set: { color: COLOR, 'drain.grace': '2d' } })).toMatch(/at '\/drain\/grace'/);
    expect(await renderError('rainbow-app', { set: { color: COLOR, 'connections.source': 'magic' } })).toMatch(/at '\/connections\/source'/);
  });

  it('a release name that cannot name a Service', async () => {
    const err = await renderError('rainbow-app', { release: '9web', set: { color: COLOR } });
    expect(err).toContain('release name "9web" cannot name an app');
  });

  it('inconsistent ports and connections', async () => {
    const nodePort = await renderError('rainbow-app', { values: { color: COLOR, ports: [{ name: 'http', containerPort: 8080, nodePort: 31080 }] } });
    expect(nodePort).toContain('ports: http has a nodePort but service.type is ClusterIP');
    const twice = await renderError('rainbow-app', { values: { color: COLOR, ports: [{ name: 'http', containerPort: 8080 }, { name: 'http', containerPort: 8081 }] } });
    expect(twice).toContain('ports: the name "http" is used twice');
    const clash = await renderError('rainbow-app', { values: { color: COLOR, ports: [{ name: 'http', containerPort: 9471 }] } });
    expect(clash).toContain('which is connections.port');
    const path = await renderError('rainbow-app', { values: { color: COLOR, connections: { path: '/count' } } });
    expect(path).toContain('the reporter sidecar serves /connections only');
    const none = await renderError('rainbow-app', { values: { color: COLOR, ports: [] } });
    expect(none).toMatch(/at '\/ports': minItems/);
  });
});

describe('resources, /tmp and the image digest', () => {
  it('requests 10m CPU and 64Mi memory for the app container by default, with no limits; null for none', async () => {
    expect(appContainer(defaults).resources).toEqual({ requests: { cpu: '10m', memory: '64Mi' } });
    const none = await render('rainbow-app', { values: { color: COLOR, resources: null } });
    expect(appContainer(none).resources).toBeUndefined();
    const own = await render('rainbow-app', { values: { color: COLOR, resources: { requests: null, limits: { memory: '1Gi' } } } });
    expect(appContainer(own).resources).toEqual({ limits: { memory: '1Gi' } });
  });

  it('limits the /tmp emptyDir to tmp.sizeLimit (256Mi), none when null; a bad quantity is refused', async () => {
    expect(podSpec(defaults).volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } }]);
    const big = await render('rainbow-app', { set: { color: COLOR, 'tmp.sizeLimit': '2Gi' } });
    expect(podSpec(big).volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '2Gi' } }]);
    const unlimited = await render('rainbow-app', { set: { color: COLOR, 'tmp.sizeLimit': 'null' } });
    expect(podSpec(unlimited).volumes).toEqual([{ name: 'tmp', emptyDir: {} }]);
    expect(await renderError('rainbow-app', { set: { color: COLOR, 'tmp.sizeLimit': '2 GB' } })).toMatch(/at '\/tmp\/sizeLimit'/);
  });

  it('image.digest pins the app image (and the reporter, which runs it) to <repository>@<digest>', async () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const r = await render('rainbow-app', { values: { color: COLOR, image: { repository: 'registry.example.com/rainbow', tag: 'ignored', digest } } });
    expect(appContainer(r).image).toBe(`registry.example.com/rainbow@${digest}`);
    expect(reporter(r)!.image).toBe(`registry.example.com/rainbow@${digest}`);
    // The color stays the color: labels, names and RAINBOW_COLOR do not follow the image.
    expect(appContainer(r).env).toContainEqual({ name: ENV_COLOR, value: COLOR });
    expect(await renderError('rainbow-app', { values: { color: COLOR, image: { digest: 'latest' } } })).toMatch(/at '\/image\/digest'/);
  });

  it('reporter.image.digest pins the reporter of its own; a reporter tag of its own wins over the app digest', async () => {
    const app = `sha256:${'ab'.repeat(32)}`;
    const own = `sha256:${'cd'.repeat(32)}`;
    const r = await render('rainbow-app', { values: { color: COLOR, image: { repository: 'acme/web', digest: app }, reporter: { image: { repository: 'ghcr.io/acme/rainbow', digest: own } } } });
    expect(appContainer(r).image).toBe(`acme/web@${app}`);
    expect(reporter(r)!.image).toBe(`ghcr.io/acme/rainbow@${own}`);
    const tagged = await render('rainbow-app', { values: { color: COLOR, image: { digest: app }, reporter: { image: { tag: '0.2.0' } } } });
    expect(reporter(tagged)!.image).toBe('rainbow:0.2.0');
    const sameRepo = await render('rainbow-app', { values: { color: COLOR, reporter: { image: { digest: own } } } });
    expect(appContainer(sameRepo).image).toBe(`rainbow:${COLOR}`);
    expect(reporter(sameRepo)!.image).toBe(`rainbow@${own}`);
  });
});

describe('podDisruptionBudget', () => {
  const pdb = (r: Rendered) => r.get<V1PodDisruptionBudget>('PodDisruptionBudget', 'web');

  it('is off by default', () => {
    expect(defaults.has('PodDisruptionBudget')).toBe(false);
  });

  it('covers exactly the pods of this release\'s color, maxUnavailable 1, unhealthy pods always evictable', async () => {
    const r = await render('rainbow-app', { set: { color: COLOR, 'podDisruptionBudget.enabled': true } });
    expect(r.names()).toEqual(['Deployment/web-3c3fdc', 'PodDisruptionBudget/web', 'Service/web']);
    const p = pdb(r);
    expect(p.apiVersion).toBe('policy/v1');
    expect(p.metadata!.namespace).toBe('shop');
    expect(p.metadata!.labels).toMatchObject({ [LABEL_APP]: 'web' });
    expect(p.spec).toEqual({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow', selector: { matchLabels: deployment(r).spec!.selector.matchLabels } });
  });

  it('is one object per release whose selector moves to the new color, as the Service does', async () => {
    const next = await render('rainbow-app', { set: { color: 'a1b2c3d', 'podDisruptionBudget.enabled': true } });
    expect(pdb(next).spec!.selector!.matchLabels).toEqual({ [LABEL_APP]: 'web', [LABEL_COLOR]: 'a1b2c3d' });
    expect(pdb(next).spec!.selector!.matchLabels).toEqual(service(next).spec!.selector);
  });

  it('minAvailable, when set, replaces maxUnavailable; percentages are allowed; neither is an error', async () => {
    const min = await render('rainbow-app', { values: { color: COLOR, podDisruptionBudget: { enabled: true, minAvailable: '50%' } } });
    expect(pdb(min).spec).toMatchObject({ minAvailable: '50%' });
    expect(pdb(min).spec!.maxUnavailable).toBeUndefined();
    const pct = await render('rainbow-app', { values: { color: COLOR, podDisruptionBudget: { enabled: true, maxUnavailable: '25%' } } });
    expect(pdb(pct).spec!.maxUnavailable).toBe('25%');
    expect(await renderError('rainbow-app', { values: { color: COLOR, podDisruptionBudget: { enabled: true, maxUnavailable: null } } })).toContain(
      'podDisruptionBudget.enabled: set podDisruptionBudget.maxUnavailable or podDisruptionBudget.minAvailable',
    );
    expect(await renderError('rainbow-app', { values: { color: COLOR, podDisruptionBudget: { enabled: true, maxUnavailable: 'half' } } })).toMatch(/at '\/podDisruptionBudget\/maxUnavailable'/);
  });
});

describe('probes name ports the container has', () => {
  it('fails when the readiness probe names a port that is not in ports', async () => {
    const err = await renderError('rainbow-app', { values: { color: COLOR, ports: [{ name: 'web', containerPort: 3000 }] } });
    expect(err).toContain('readinessProbe.httpGet.port is "http", but the app container has no port of that name (ports: web): name one of those, or give a number');
  });

  it('checks the liveness and startup probes too, tcpSocket as well as httpGet', async () => {
    const live = await renderError('rainbow-app', { values: { color: COLOR, livenessProbe: { tcpSocket: { port: 'grpc' } } } });
    expect(live).toContain('livenessProbe.tcpSocket.port is "grpc", but the app container has no port of that name (ports: http, tcp)');
    const startup = await renderError('rainbow-app', { values: { color: COLOR, startupProbe: { httpGet: { path: '/', port: 'admin' } } } });
    expect(startup).toContain('startupProbe.httpGet.port is "admin"');
  });

  it('the reporter\'s readiness probe must name its own port "connections"', async () => {
    const err = await renderError('rainbow-app', { values: { color: COLOR, reporter: { readinessProbe: { httpGet: { port: 'http' } } } } });
    expect(err).toContain('reporter.readinessProbe.httpGet.port is "http", but the reporter sidecar has no port of that name (its port: connections)');
  });

  it('lets numbers, other named ports of the list, and no probe at all through', async () => {
    const r = await render('rainbow-app', {
      values: { color: COLOR, readinessProbe: { httpGet: { path: '/ready', port: 9000 } }, livenessProbe: { tcpSocket: { port: 'tcp' } }, startupProbe: null },
    });
    expect(appContainer(r).readinessProbe!.httpGet!.port).toBe(9000);
    expect(appContainer(r).livenessProbe!.tcpSocket!.port).toBe('tcp');
    const none = await render('rainbow-app', { values: { color: COLOR, readinessProbe: null, ports: [{ name: 'web', containerPort: 3000 }] } });
    expect(appContainer(none).readinessProbe).toBeUndefined();
  });
});
