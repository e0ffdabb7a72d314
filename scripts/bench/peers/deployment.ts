// The baseline: one plain Deployment `app` behind Service `app`, released by changing its pod
// template, so the Deployment controller rolls it with Kubernetes' defaults (RollingUpdate,
// maxSurge 25%, maxUnavailable 25%; terminationGracePeriodSeconds 30). Old pods get SIGTERM
// (the demo app stops accepting, keeps its streams) and SIGKILL 30 s later.
import { eventually } from '../../cluster/poll.js';
import { isDeploymentAvailable } from '../../../webhook/src/domain/availability.js';
import { appPodTemplate, appService, serves } from './app-objects.js';
import type { AppVersion, PeerContext, Strategy } from './strategy.js';

const labels = (app: string) => ({ 'app.kubernetes.io/name': app });

export const deployment: Strategy = {
  name: 'deployment',
  version: "Kubernetes' Deployment controller (the cluster's kube-controller-manager)",
  settings:
    'one Deployment, strategy RollingUpdate with the defaults (maxSurge 25%, maxUnavailable 25%), terminationGracePeriodSeconds left to its default (30 s); ' +
    'readiness probe GET /healthz every 1 s; the release changes the pod template (RAINBOW_COLOR)',
  async install() {
    // Nothing to install: the Deployment controller is the controller manager's.
  },
  async deploy(ctx: PeerContext, v: AppVersion) {
    await ctx.core.createNamespacedService({ namespace: ctx.namespace, body: appService(ctx.app, labels(ctx.app)) });
    await ctx.apps.createNamespacedDeployment({
      namespace: ctx.namespace,
      body: {
        metadata: { name: ctx.app, labels: labels(ctx.app) },
        spec: { replicas: v.replicas, selector: { matchLabels: labels(ctx.app) }, template: appPodTemplate(labels(ctx.app), v.color, ctx.image) },
      },
    });
    await eventually(`Deployment ${ctx.app} Available`, async () => isDeploymentAvailable(await ctx.apps.readNamespacedDeployment({ namespace: ctx.namespace, name: ctx.app })), 180_000, 250);
    await eventually(`Service ${ctx.app} serving ${v.color}`, () => serves(ctx, v.color, v.replicas), 60_000, 250);
  },
  async release(ctx: PeerContext, v: AppVersion) {
    const d = await ctx.apps.readNamespacedDeployment({ namespace: ctx.namespace, name: ctx.app });
    d.spec!.replicas = v.replicas;
    d.spec!.template = appPodTemplate(labels(ctx.app), v.color, ctx.image);
    await ctx.apps.replaceNamespacedDeployment({ namespace: ctx.namespace, name: ctx.app, body: d });
  },
  async uninstall(ctx: PeerContext) {
    await ctx.apps.deleteNamespacedDeployment({ namespace: ctx.namespace, name: ctx.app }).catch(() => undefined);
    await ctx.core.deleteNamespacedService({ namespace: ctx.namespace, name: ctx.app }).catch(() => undefined);
  },
};
