// Argo Rollouts blue-green: the real controller (github.com/argoproj/argo-rollouts v1.8.3, cmd
// rollouts-controller, built from scripts/cluster/tools/argo-rollouts/go.mod as the optional
// group `argo-rollouts` of scripts/cluster/build-tools.ts), run as a process inside the cluster's
// network namespace against the inside kubeconfig, namespaced to the benchmark's namespace. Its
// CRDs are the module's own manifests/crds/, applied at install and deleted at uninstall.
//
// The app is a Rollout `app` (the same pod template as the Deployment strategy's) with strategy
// blueGreen, activeService `app`, and the project's defaults written out: autoPromotionEnabled
// true, scaleDownDelaySeconds 30. A release changes the Rollout's pod template: the controller
// brings up the new ReplicaSet, moves the active Service's selector to it once it is available,
// and scales the old ReplicaSet to 0 scaleDownDelaySeconds later, whatever its pods still hold.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { buildTools } from '../../cluster/build-tools.js';
import { execArgs } from '../../cluster/control-plane.js';
import { clusterGet } from '../../cluster/network/portal.js';
import { bin, insideKubeconfigPath, toolsDir } from '../../cluster/paths.js';
import { eventually } from '../../cluster/poll.js';
import { isRunning, startDaemon, stopDaemon, type Daemon } from '../../cluster/processes.js';
import { runTool } from '../../cluster/run-tool.js';
import { appPodTemplate, appService, serves } from './app-objects.js';
import type { AppVersion, PeerContext, Strategy } from './strategy.js';

const exec = promisify(execFile);
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const GROUP = 'argoproj.io';
const VERSION = 'v1alpha1';
/** Ports of the controller inside the cluster's namespace (its defaults, 8090 and 8080, are common ones). */
const METRICS_PORT = 18090;
const HEALTHZ_PORT = 18080;
const labels = (app: string) => ({ 'app.kubernetes.io/name': app });

async function must(name: 'kubectl' | 'helm', args: string[], timeoutMs = 120_000): Promise<string> {
  const r = await runTool(name, args, { timeoutMs });
  if (r.code !== 0) throw new Error(`${name} ${args.slice(0, 4).join(' ')} … failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 1000)}`);
  return r.stdout;
}

/** The module's folder in the Go module cache (downloaded if need be). */
async function moduleDir(): Promise<string> {
  const cwd = path.join(toolsDir, 'argo-rollouts');
  const dir = async () => (await exec('go', ['list', '-m', '-f', '{{.Dir}}', 'github.com/argoproj/argo-rollouts'], { cwd, encoding: 'utf8' })).stdout.trim();
  let d = await dir().catch(() => '');
  if (!d) {
    await exec('go', ['mod', 'download', 'github.com/argoproj/argo-rollouts'], { cwd, timeout: 600_000 });
    d = await dir();
  }
  if (!d) throw new Error('go list -m did not give the folder of github.com/argoproj/argo-rollouts');
  return d;
}

export function argoRollouts(): Strategy {
  let controller: Daemon | undefined;
  let crdFiles: string[] = [];
  let log = '';
  const abort = () => (controller && !isRunning(controller) ? `rollouts-controller exited; see ${log}` : undefined);
  const s: Strategy = {
    name: 'argo-rollouts',
    version: 'Argo Rollouts (github.com/argoproj/argo-rollouts, as pinned in scripts/cluster/tools/argo-rollouts/go.mod)',
    settings:
      'a Rollout with strategy blueGreen, activeService app, autoPromotionEnabled true, scaleDownDelaySeconds 30 (the defaults, written out); ' +
      'the same pod template as the Deployment (readiness GET /healthz every 1 s, terminationGracePeriodSeconds 30); ' +
      'the controller run namespaced (--namespaced), without leader election, as a process in the cluster network namespace',
    async install(ctx: PeerContext) {
      ctx.say('building rollouts-controller if needed (the first build takes several minutes)');
      const versions = await buildTools({ groups: ['argo-rollouts'] });
      const dir = await moduleDir();
      crdFiles = readdirSync(path.join(dir, 'manifests', 'crds'))
        .filter((f) => f.endsWith('-crd.yaml'))
        .map((f) => path.join(dir, 'manifests', 'crds', f));
      if (crdFiles.length === 0) throw new Error(`no CRDs in ${path.join(dir, 'manifests', 'crds')}`);
      // The Rollout CRD's schema is too big for client-side apply's last-applied annotation.
      await must('kubectl', ['apply', '--server-side', '--force-conflicts', ...crdFiles.flatMap((f) => ['-f', f])]);
      await must('kubectl', ['wait', '--for=condition=Established', '--timeout=60s', ...crdFiles.flatMap((f) => ['-f', f])], 90_000);
      const reported = (await exec(bin('rollouts-controller'), ['--version'], { encoding: 'utf8' })).stdout.trim();
      s.version = `Argo Rollouts ${versions['argo-rollouts']} (Go module github.com/argoproj/argo-rollouts ${versions['argo-rollouts']}, built here; the binary reports ${reported})`;
      ctx.say(`${crdFiles.length} CRDs applied from ${path.join(dir, 'manifests', 'crds')}; ${reported}`);
      log = path.join(ctx.dir, 'rollouts-controller.log');
      const [cmd, ...args] = execArgs([
        bin('rollouts-controller'),
        `--kubeconfig=${insideKubeconfigPath}`,
        '--namespaced',
        `--namespace=${ctx.namespace}`,
        '--leader-elect=false',
        `--metricsport=${METRICS_PORT}`,
        `--healthzPort=${HEALTHZ_PORT}`,
        '--loglevel=info',
      ]);
      controller = startDaemon('rollouts-controller', cmd!, args, log, { ...process.env, POD_NAMESPACE: ctx.namespace });
      await eventually('rollouts-controller healthy', async () => (await clusterGet(`http://127.0.0.1:${HEALTHZ_PORT}/healthz`, 2000)).status === 200, 90_000, 500, { abort, hint: `see ${log}` });
      ctx.say(`rollouts-controller pid ${controller.pid} (log ${log})`);
    },
    async deploy(ctx: PeerContext, v: AppVersion) {
      await ctx.core.createNamespacedService({ namespace: ctx.namespace, body: appService(ctx.app, labels(ctx.app)) });
      await ctx.custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: ctx.namespace,
        plural: 'rollouts',
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'Rollout',
          metadata: { name: ctx.app },
          spec: {
            replicas: v.replicas,
            revisionHistoryLimit: 2,
            selector: { matchLabels: labels(ctx.app) },
            template: appPodTemplate(labels(ctx.app), v.color, ctx.image),
            strategy: { blueGreen: { activeService: ctx.app, autoPromotionEnabled: true, scaleDownDelaySeconds: 30 } },
          },
        },
      });
      await eventually(
        `Rollout ${ctx.app} Healthy`,
        async () => {
          const r = (await ctx.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ctx.namespace, plural: 'rollouts', name: ctx.app })) as { status?: { phase?: string } };
          return r.status?.phase === 'Healthy';
        },
        180_000,
        500,
        { abort },
      );
      await eventually(`Service ${ctx.app} serving ${v.color}`, () => serves(ctx, v.color, v.replicas), 60_000, 250, { abort });
    },
    async release(ctx: PeerContext, v: AppVersion) {
      await ctx.custom.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace: ctx.namespace, plural: 'rollouts', name: ctx.app, body: { spec: { replicas: v.replicas, template: appPodTemplate(labels(ctx.app), v.color, ctx.image) } } },
        merge,
      );
    },
    async uninstall(ctx: PeerContext) {
      try {
        await ctx.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ctx.namespace, plural: 'rollouts', name: ctx.app }).catch(() => undefined);
        await ctx.core.deleteNamespacedService({ namespace: ctx.namespace, name: ctx.app }).catch(() => undefined);
      } finally {
        if (controller) await stopDaemon(controller);
        controller = undefined;
        if (crdFiles.length) {
          const r = await runTool('kubectl', ['delete', '--ignore-not-found', '--wait=true', '--timeout=60s', ...crdFiles.flatMap((f) => ['-f', f])], { timeoutMs: 90_000 });
          if (r.code !== 0) ctx.say(`could not delete the Argo Rollouts CRDs: ${r.stderr.trim()}`);
        }
      }
    },
  };
  return s;
}
