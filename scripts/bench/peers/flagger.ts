// Flagger's blue/green with its Kubernetes provider (no mesh), analysis skipped: the real Flagger
// controller (built from github.com/fluxcd/flagger, scripts/cluster/tools/flagger) runs as a
// process in the cluster's network namespace and watches the strategy's namespace only.
//
// What Flagger does with it, from its source (pkg/controller/scheduler.go) and as seen on the
// local cluster: the user's Deployment `app` is the "canary" target. When the Canary is created,
// Flagger copies it into Deployment `app-primary` (pods labelled app=app-primary), creates the
// Services `app-primary` and `app-canary`, makes Service `app` (the apex, which clients use) select
// the primary pods, and scales `app` to 0. A release is a change of `app`'s pod template: on its
// next analysis tick Flagger scales `app` back up (New revision detected); on the tick after its
// pods are ready it copies the template into `app-primary` — an ordinary rolling update of the
// primary's pods, which Service `app` keeps selecting throughout — scales `app` to 0 again and
// marks the Canary Succeeded. With the Kubernetes provider no traffic ever goes to the canary pods
// through Service `app`: the "blue/green switch" is the primary's own rolling update, so the old
// primary pods get SIGTERM (the demo app stops accepting, keeps its streams) and SIGKILL after the
// grace period, as with a plain Deployment, only one to two analysis ticks (10-20 s) later.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ApiextensionsV1Api, loadAllYaml, PatchStrategy, setHeaderOptions, type V1CustomResourceDefinition, type V1Deployment } from '@kubernetes/client-node';
import { isDeploymentAvailable } from '../../../webhook/src/domain/availability.js';
import { buildTools, requiredVersion, selectGroups } from '../../cluster/build-tools.js';
import { execArgs } from '../../cluster/control-plane.js';
import { kubeProxyEndpoints } from '../../cluster/kube-proxy-rules.js';
import { bin, insideKubeconfigPath, toolsDir } from '../../cluster/paths.js';
import { eventually } from '../../cluster/poll.js';
import { isRunning, runCommand, startDaemon, stopDaemon, type Daemon } from '../../cluster/processes.js';
import { appPodTemplate, servedBy, serves } from './app-objects.js';
import type { AppVersion, PeerContext, Strategy } from './strategy.js';

/** Flagger's analysis ticks: 10 s is the shortest interval it accepts (GetAnalysisInterval). */
const ANALYSIS_INTERVAL = '10s';
const ITERATIONS = 1;
const PROGRESS_DEADLINE_S = 300;
const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

interface FlaggerState {
  daemon?: Daemon;
  /** CRDs this run created (and so removes); ones already there are left alone. */
  createdCrds: string[];
}

const state: FlaggerState = { createdCrds: [] };

/** The Flagger module's folder in the Go module cache, as the tools folder's go.mod pins it. */
function flaggerModuleDir(): string {
  const out = execFileSync('go', ['mod', 'download', '-json', 'github.com/fluxcd/flagger'], { cwd: path.join(toolsDir, 'flagger'), encoding: 'utf8' });
  const dir = (JSON.parse(out) as { Dir?: string }).Dir;
  if (!dir) throw new Error('go mod download did not report the folder of github.com/fluxcd/flagger');
  return dir;
}

/** A TCP port nothing listens on inside the cluster's namespace at the moment, for Flagger's /metrics and /healthz. */
async function freePortInside(): Promise<number> {
  const probe = "const s=require('net').createServer().listen(0,()=>{console.log(s.address().port);s.close()})";
  return Number((await runCommand(execArgs([process.execPath, '-e', probe]), { where: "inside the cluster's namespace" })).trim());
}

async function applyCrds(ctx: PeerContext): Promise<void> {
  const ext = ctx.kc.makeApiClient(ApiextensionsV1Api);
  const file = path.join(flaggerModuleDir(), 'artifacts', 'flagger', 'crd.yaml');
  // loadAllYaml maps the YAML's keys (x-kubernetes-…, $ref) to the client's models, which create() maps back.
  const crds = (loadAllYaml(readFileSync(file, 'utf8')) as Array<V1CustomResourceDefinition | null>).filter(
    (d): d is V1CustomResourceDefinition => d?.kind === 'CustomResourceDefinition',
  );
  for (const crd of crds) {
    const name = crd.metadata!.name!;
    try {
      await ext.createCustomResourceDefinition({ body: crd });
      state.createdCrds.push(name);
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
    }
    await eventually(`CRD ${name} Established`, async () => {
      const c = await ext.readCustomResourceDefinition({ name });
      return c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True');
    }, 60_000, 250);
  }
  ctx.say(`  flagger: ${crds.length} CRDs from ${path.relative(path.dirname(path.dirname(file)), file)} of the module (${state.createdCrds.length} created)`);
}

/** The user's Deployment: the demo app as every plain strategy runs it, selected by `app` (the first of Flagger's -selector-labels). */
function deployment(ctx: PeerContext, v: AppVersion): V1Deployment {
  const labels = { app: ctx.app };
  return {
    metadata: { name: ctx.app, labels },
    spec: { replicas: v.replicas, selector: { matchLabels: labels }, template: appPodTemplate(labels, v.color, ctx.image) },
  };
}

function canary(ctx: PeerContext): object {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: ctx.app },
    spec: {
      provider: 'kubernetes',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: ctx.app },
      progressDeadlineSeconds: PROGRESS_DEADLINE_S,
      // Port 8081 (named tcp) is the service port; portDiscovery adds the container's other ports (http 8080).
      service: { port: 8081, portName: 'tcp', targetPort: 8081, portDiscovery: true },
      skipAnalysis: true,
      analysis: { interval: ANALYSIS_INTERVAL, threshold: 1, iterations: ITERATIONS },
    },
  };
}

const canaryApi = (ctx: PeerContext) => ({ group: 'flagger.app', version: 'v1beta1', namespace: ctx.namespace, plural: 'canaries', name: ctx.app });

async function canaryPhase(ctx: PeerContext): Promise<string | undefined> {
  const c = (await ctx.custom.getNamespacedCustomObject(canaryApi(ctx))) as { status?: { phase?: string } };
  return c.status?.phase;
}

function abortHint(): { abort: () => string | undefined } {
  return { abort: () => (state.daemon && !isRunning(state.daemon) ? `flagger exited; see ${state.daemon.log}` : undefined) };
}

/** Service `app` serves `v`: it selects the primary, which has rolled out `v`, and its ready endpoints are `v`'s pods only. */
async function waitServes(ctx: PeerContext, v: AppVersion, timeoutMs: number): Promise<void> {
  const primary = `${ctx.app}-primary`;
  await eventually(`Service ${ctx.app} serving ${v.color} (${v.replicas} ready pods of ${primary})`, async () => {
    const svc = await ctx.core.readNamespacedService({ namespace: ctx.namespace, name: ctx.app });
    if (svc.spec?.selector?.app !== primary) return false;
    const d = await ctx.apps.readNamespacedDeployment({ namespace: ctx.namespace, name: primary });
    if (!isDeploymentAvailable(d) || d.status?.updatedReplicas !== v.replicas || d.status?.replicas !== v.replicas) return false;
    if (!(await serves(ctx, v.color, v.replicas))) return false;
    const eps = await servedBy(ctx);
    const programmed = (await kubeProxyEndpoints(ctx.namespace, ctx.app)).get('tcp') ?? [];
    return programmed.length === eps.length && eps.every((e) => programmed.includes(e.ip));
  }, timeoutMs, 500, abortHint());
}

/** The release scripts/cluster/tools/flagger/go.mod pins (what buildTools builds). */
const FLAGGER_VERSION = requiredVersion(selectGroups(['flagger'])[0]!);

export const flagger: Strategy = {
  name: 'flagger',
  version: `Flagger ${FLAGGER_VERSION}`,
  settings:
    `Canary (flagger.app/v1beta1) with provider kubernetes (no mesh: Service ${'`app`'} always selects the primary's pods), ` +
    `targetRef the Deployment, service port 8081 (portName tcp) with portDiscovery (adds http 8080), skipAnalysis: true, ` +
    `analysis { interval: ${ANALYSIS_INTERVAL} (Flagger's minimum), threshold: 1, iterations: ${ITERATIONS} } (blue/green; ignored with skipAnalysis but for the tick interval), ` +
    `progressDeadlineSeconds ${PROGRESS_DEADLINE_S}; the Deployment keeps Kubernetes' defaults (RollingUpdate 25%/25%, terminationGracePeriodSeconds 30), which Flagger copies to the primary. ` +
    `Controller flags: -mesh-provider=kubernetes -namespace=<the run's> -log-level=info -metrics-server=http://127.0.0.1:<a closed port> ` +
    `(no Prometheus: with skipAnalysis Flagger queries none, only a reachability check at start that logs an error); other flags at their defaults (control-loop-interval 10s).`,

  async install(ctx) {
    await buildTools({ groups: ['flagger'], quiet: true });
    await applyCrds(ctx);
    const closed = await freePortInside();
    const port = await freePortInside();
    const log = path.join(ctx.dir, 'flagger.log');
    const [cmd, ...args] = execArgs([
      bin('flagger'),
      `-kubeconfig=${insideKubeconfigPath}`,
      '-mesh-provider=kubernetes',
      `-namespace=${ctx.namespace}`,
      '-log-level=info',
      `-port=${port}`,
      // Nothing listens there: Flagger's start-up check of its metrics server logs "unreachable" and goes on.
      `-metrics-server=http://127.0.0.1:${closed === port ? port + 1 : closed}`,
    ]);
    state.daemon = startDaemon('flagger', cmd!, args, log);
    await eventually('flagger serving /healthz inside the cluster namespace', async () => {
      const out = await runCommand(execArgs([process.execPath, '-e', `fetch('http://127.0.0.1:${port}/healthz').then(r=>console.log(r.status),()=>console.log(0))`]));
      return out.trim() === '200';
    }, 60_000, 500, abortHint());
    ctx.say(`  flagger: ${flagger.version} pid ${state.daemon.pid}, watching ${ctx.namespace} (log ${log})`);
  },

  async deploy(ctx, v) {
    await ctx.apps.createNamespacedDeployment({ namespace: ctx.namespace, body: deployment(ctx, v) });
    await ctx.custom.createNamespacedCustomObject({ ...canaryApi(ctx), body: canary(ctx) });
    // Flagger picks a new Canary up on its next control loop (10 s), then Initializes it in one go.
    await eventually(`Canary ${ctx.app} Initialized`, async () => (await canaryPhase(ctx)) === 'Initialized', 180_000, 500, abortHint());
    await waitServes(ctx, v, 180_000);
  },

  async release(ctx, v) {
    const patch: { spec: Record<string, unknown> } = {
      spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'RAINBOW_COLOR', value: v.color }] }] } } },
    };
    // Flagger keeps `app` at 0 between releases and scales it up to the primary's replicas; a new count goes in the template's Deployment.
    const primary = await ctx.apps.readNamespacedDeployment({ namespace: ctx.namespace, name: `${ctx.app}-primary` });
    if ((primary.spec?.replicas ?? 1) !== v.replicas) patch.spec.replicas = v.replicas;
    await ctx.apps.patchNamespacedDeployment({ namespace: ctx.namespace, name: ctx.app, body: patch }, strategic);
  },

  async uninstall(ctx) {
    try {
      await ctx.custom.deleteNamespacedCustomObject(canaryApi(ctx)).catch(() => undefined);
      await ctx.apps.deleteNamespacedDeployment({ namespace: ctx.namespace, name: ctx.app }).catch(() => undefined);
      // The primary Deployment and the three Services are owned by the Canary: the garbage collector removes them.
      await eventually(`the app's pods gone`, async () => {
        const pods = (await ctx.core.listNamespacedPod({ namespace: ctx.namespace, labelSelector: `app in (${ctx.app},${ctx.app}-primary)` })).items;
        return pods.length === 0;
      }, 120_000, 500).catch((err: Error) => ctx.say(`  flagger: ${err.message}`));
    } finally {
      if (state.daemon) await stopDaemon(state.daemon);
      state.daemon = undefined;
      const ext = ctx.kc.makeApiClient(ApiextensionsV1Api);
      for (const name of state.createdCrds) await ext.deleteCustomResourceDefinition({ name }).catch(() => undefined);
      state.createdCrds = [];
    }
  },
};
