// rainbow: chart/rainbow-system installed with real helm (as scripts/demo/demo.ts does: the
// webhook's 2 pods and the controller's pod, scoped to the benchmark's namespace, controller
// --interval=2s), in a system namespace of its own; the app is chart/rainbow-app, released with
// `helm upgrade --install <app> chart/rainbow-app --set color=<v>`: each release its own
// Deployment <app>-<color>, the Service moved by the webhook/controller once the new color is
// Available, the old one deleted by the controller once its pods have read 0 connections for
// drain.grace (shrunk meanwhile: the chart's default drain.shrink true).
import path from 'node:path';
import { AdmissionregistrationV1Api } from '@kubernetes/client-node';
import { repoRoot } from '../../cluster/paths.js';
import { eventually } from '../../cluster/poll.js';
import { runTool } from '../../cluster/run-tool.js';
import { caInjected } from '../../cluster/webhook-registration.js';
import { serves } from './app-objects.js';
import type { AppVersion, PeerContext, Strategy } from './strategy.js';

async function must(args: string[], timeoutMs = 240_000): Promise<{ stdout: string; stderr: string }> {
  const r = await runTool('helm', args, { timeoutMs });
  if (r.code !== 0) throw new Error(`helm ${args.slice(0, 3).join(' ')} … failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 1500)}`);
  return r;
}

export interface RainbowOptions {
  drainGrace: string;
  controllerInterval: string;
}

export function rainbow(o: RainbowOptions = { drainGrace: '5s', controllerInterval: '2s' }): Strategy {
  let systemNamespace = '';
  let release = '';
  let installed = false;
  const appArgs = (ctx: PeerContext, v: AppVersion) => [
    'upgrade', '--install', ctx.app, path.join(repoRoot, 'chart', 'rainbow-app'), '-n', ctx.namespace,
    '--set-string', `color=${v.color}`, '--set', `replicas=${v.replicas}`,
    '--set', 'readinessProbe.periodSeconds=1', '--set-string', `drain.grace=${o.drainGrace}`, '--set', 'drain.keepColors=0',
  ];
  return {
    name: 'rainbow',
    version: 'rainbow (this checkout: chart/rainbow-system and chart/rainbow-app)',
    settings:
      `rainbow-system with its defaults (webhook 2 replicas, controller 1) scoped to the app's namespace, controller --interval=${o.controllerInterval}; ` +
      `rainbow-app with replicas as the others, readinessProbe.periodSeconds=1, drain.grace=${o.drainGrace}, drain.keepColors=0, the rest its defaults ` +
      '(cutover ready, drain.shrink true, drain.maxDrain 48h, terminationGracePeriodSeconds 60, the reporter sidecar)',
    async install(ctx: PeerContext) {
      systemNamespace = `${ctx.namespace}-system`;
      release = `${ctx.namespace}-rainbow`.slice(0, 53);
      installed = true;
      const t0 = Date.now();
      await must([
        'upgrade', '--install', release, path.join(repoRoot, 'chart', 'rainbow-system'),
        '-n', systemNamespace, '--create-namespace', '--wait', '--timeout', '180s',
        '--set-json', `webhook.namespaceSelector=${JSON.stringify({ matchLabels: { 'kubernetes.io/metadata.name': ctx.namespace } })}`,
        '--set-json', `controller.extraArgs=${JSON.stringify([`--namespace=${ctx.namespace}`, `--interval=${o.controllerInterval}`])}`,
      ]);
      const admission = ctx.kc.makeApiClient(AdmissionregistrationV1Api);
      await eventually('the rainbow webhook to inject its CA', () => caInjected(admission, release), 90_000, 250);
      ctx.say(`helm upgrade --install ${release} chart/rainbow-system -n ${systemNamespace}: deployed in ${((Date.now() - t0) / 1000).toFixed(1)} s (CA injected)`);
    },
    async deploy(ctx: PeerContext, v: AppVersion) {
      await must([...appArgs(ctx, v), '--wait', '--timeout', '180s']);
      await eventually(`Service ${ctx.app} serving ${v.color}`, () => serves(ctx, v.color, v.replicas), 60_000, 250);
    },
    async release(ctx: PeerContext, v: AppVersion) {
      const r = await must(appArgs(ctx, v));
      const warning = /Warning: ([^\n]*?)"?$/m.exec(r.stderr)?.[1];
      if (warning) ctx.say(`helm: Warning: ${warning}`);
    },
    async uninstall(ctx: PeerContext) {
      if (!installed) return;
      // The app first (its colors' Deployments are kept by helm and go with the namespace), then
      // rainbow-system with its webhook configurations, then its namespace.
      const app = await runTool('helm', ['uninstall', ctx.app, '-n', ctx.namespace, '--wait', '--timeout', '60s'], { timeoutMs: 90_000 });
      if (app.code !== 0 && !/not found/i.test(app.stderr)) ctx.say(`helm uninstall ${ctx.app}: ${app.stderr.trim()}`);
      const sys = await runTool('helm', ['uninstall', release, '-n', systemNamespace, '--wait', '--timeout', '90s'], { timeoutMs: 120_000 });
      if (sys.code !== 0 && !/not found/i.test(sys.stderr)) ctx.say(`helm uninstall ${release}: ${sys.stderr.trim()}`);
      await ctx.core.deleteNamespace({ name: systemNamespace }).catch(() => undefined);
      await eventually(`namespace ${systemNamespace} gone`, async () => ctx.core.readNamespace({ name: systemNamespace }).then(() => false, () => true), 120_000, 500).catch((e: Error) =>
        ctx.say(e.message),
      );
      installed = false;
    },
  };
}
