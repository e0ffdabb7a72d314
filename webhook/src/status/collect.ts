// The reads behind `rainbow status`: Services, Deployments and Pods labelled rainbow.dev/app in
// one namespace or all, then each color's pods asked for their connections — through the API
// server's pod proxy by default (works from a workstation, needs RBAC on pods/proxy), or straight
// at the pod IPs with `direct` (inside the cluster network, like the controller).
import http from 'node:http';
import https from 'node:https';
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Deployment, type V1Pod, type V1Service } from '@kubernetes/client-node';
import { answerReport, askPods, type PodReport, type PodTarget } from '../net/ask-pods.js';
import { LABEL_APP } from '../domain/contract.js';
import { colorStates, type ProbeResult } from '../domain/color-states.js';
import { probeColors, type AskPodsFn } from '../net/probe.js';
import { deploymentOfColor } from '../domain/availability.js';
import { isBeingDeleted } from '../domain/objects.js';
import { appKey, appsOf, buildStatus, type StatusReport } from './model.js';
import { apiClient } from '../kube/client.js';

export interface CollectOptions {
  /** undefined: every namespace. */
  namespace?: string;
  app?: string;
  podTimeoutMs?: number;
  /** Ask pod IPs directly instead of through the API server's pod proxy. */
  direct?: boolean;
  now?: () => Date;
  /** Replaces both ways of asking (tests). */
  askPods?: AskPodsFn;
}

/** What `rainbow status` reads: the objects labelled rainbow.dev/app, in one namespace or all. */
export interface StatusObjects {
  services: V1Service[];
  deployments: V1Deployment[];
  pods: V1Pod[];
}

export async function readStatusObjects(kc: KubeConfig, opts: Pick<CollectOptions, 'namespace' | 'app'> = {}): Promise<StatusObjects> {
  const core = apiClient(kc, CoreV1Api);
  const apps = apiClient(kc, AppsV1Api);
  const labelSelector = opts.app ? `${LABEL_APP}=${opts.app}` : LABEL_APP;
  const ns = opts.namespace;
  const [services, deployments, pods] = await Promise.all([
    ns ? core.listNamespacedService({ namespace: ns, labelSelector }) : core.listServiceForAllNamespaces({ labelSelector }),
    ns ? apps.listNamespacedDeployment({ namespace: ns, labelSelector }) : apps.listDeploymentForAllNamespaces({ labelSelector }),
    ns ? core.listNamespacedPod({ namespace: ns, labelSelector }) : core.listPodForAllNamespaces({ labelSelector }),
  ]);
  return { services: services.items, deployments: deployments.items, pods: pods.items };
}

/** The report of objects already read: each color's pods asked for their connections. */
export async function statusOfObjects(kc: KubeConfig, objects: StatusObjects, opts: CollectOptions = {}): Promise<StatusReport> {
  const { services, deployments, pods } = objects;
  const ask = opts.askPods ?? (opts.direct ? askPods : proxyAskPods(kc, podNamespaces(pods)));
  const probes = new Map<string, Map<string, ProbeResult>>();
  const now = opts.now ?? (() => new Date());
  await Promise.all(
    appsOf([...services, ...deployments], opts.app).map(async ({ namespace, app }) => {
      const inApp = <T extends { metadata?: { namespace?: string; labels?: Record<string, string> } }>(list: readonly T[]) =>
        list.filter((o) => o.metadata?.namespace === namespace && o.metadata?.labels?.[LABEL_APP] === app);
      const appDeployments = inApp(deployments);
      const states = colorStates({ app, namespace, services: inApp(services), deployments: appDeployments, drain: new Map(), now: now() });
      const colors = states.colors
        .map((c) => ({ color: c.color, deployment: deploymentOfColor(appDeployments, app, c.color) }))
        .filter((c) => c.deployment && !isBeingDeleted(c.deployment));
      const results = await probeColors(inApp(pods), colors, ask, { timeoutMs: opts.podTimeoutMs ?? 2000 });
      probes.set(appKey(namespace, app), new Map([...results].map(([color, r]) => [color, r.unknown === undefined ? { count: r.count } : { count: r.count, unknown: r.unknown }])));
    }),
  );
  return buildStatus({ services, deployments, probes, now: now(), ...(opts.app ? { app: opts.app } : {}) });
}

export async function collectStatus(kc: KubeConfig, opts: CollectOptions = {}): Promise<StatusReport> {
  return statusOfObjects(kc, await readStatusObjects(kc, opts), opts);
}

function podNamespaces(pods: readonly V1Pod[]): Map<string, string> {
  return new Map(pods.map((p) => [p.metadata?.name ?? '', p.metadata?.namespace ?? 'default']));
}

/**
 * askPods through `GET /api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH`. Same reports as
 * askPods; `namespaces` maps pod names to their namespace.
 */
export function proxyAskPods(kc: KubeConfig, namespaces: ReadonlyMap<string, string>): AskPodsFn {
  return (targets, opts) => askPods(targets, opts, (t, { timeoutMs }) => askThroughProxy(kc, namespaces.get(t.name) ?? 'default', t, timeoutMs));
}

async function askThroughProxy(kc: KubeConfig, namespace: string, t: PodTarget, timeoutMs: number): Promise<PodReport> {
  const fail = (reason: 'timeout' | 'refused' | 'network' | 'bad-status', error: string): PodReport => ({ name: t.name, ok: false, reason, error: `pod ${t.name}: ${error}` });
  const server = kc.getCurrentCluster()?.server;
  if (!server) return fail('network', 'no cluster server in the kubeconfig');
  const path = t.path.startsWith('/') ? t.path : `/${t.path}`;
  const url = new URL(`${server.replace(/\/$/, '')}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(t.name)}:${t.port}/proxy${path}`);
  const options: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json' }, timeout: timeoutMs };
  try {
    await kc.applyToHTTPSOptions(options);
  } catch (err) {
    return fail('network', `cannot authenticate to the API server: ${(err as Error).message}`);
  }
  const where = `port ${t.port}${path} through the API server's pod proxy`;
  return new Promise<PodReport>((resolve) => {
    const lib = url.protocol === 'http:' ? http : https;
    const timer = setTimeout(() => {
      req.destroy();
      resolve(fail('timeout', `timeout after ${timeoutMs} ms asking ${where}`));
    }, timeoutMs);
    const req = lib.request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => {
        clearTimeout(timer);
        resolve(fail('network', `${where}: ${err.message}`));
      });
      res.on('end', () => {
        clearTimeout(timer);
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) {
          let message = body.trim().slice(0, 200);
          try {
            message = (JSON.parse(body) as { message?: string }).message ?? message;
          } catch {
            /* not a Status */
          }
          resolve(fail(/connection refused/i.test(message) ? 'refused' : 'bad-status', `status ${res.statusCode} asking ${where}: ${message || '(empty body)'}`));
          return;
        }
        resolve(answerReport(t.name, where, body));
      });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      resolve(fail('network', `${where}: ${err.message}`));
    });
    req.end();
  });
}
