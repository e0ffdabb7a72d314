// Cost at the API server: client-observed latency of Service updates through kube-apiserver when
// the rainbow Service webhook is registered, against the same updates when it is not, for two
// kinds of update. Goals: an update that cannot change the color costs nothing (the chart's
// matchConditions keep it from the webhook: its review counter does not move), and one that does
// is at most 1.3× slower, at the median and at p99.
//
// Design: two namespaces, set up the same way (two Available colors of an app and a Service
// labelled rainbow.dev/app that selects one), and ONE MutatingWebhookConfiguration registered for
// the whole run, the chart's own (failurePolicy Ignore, objectSelector rainbow.dev/app Exists,
// matchConditions) with a namespaceSelector that matches only the first namespace. The webhook is
// the real `rainbow webhook`, a local process registered by URL with its caBundle, as the e2e
// tests do. Updates go to the two Services alternately, in pairs whose order flips every time
// (ABBA), one at a time: both sides see the same API server, etcd, cache and machine load at the
// same moment, so drift (other work on the 2 cores, etcd compaction, GC) hits both alike.
// Registering and unregistering in blocks instead would measure each side at other times and add
// the API server's webhook-configuration reloads to the run; the stable registration is fairer.
//
// Every measured update is a real write (the object changes, its resourceVersion moves, etcd
// stores it): first a merge patch of an annotation that is not rainbow's (`unchanged`), then a
// merge patch of the selector to the other Available color (`color`), which the webhook reviews:
// it reads the app's Deployments and Services (from its watch caches by default), decides
// ("available": select it) and answers. Before measuring, a probe shows the webhook's effect (a
// selector without rainbow.dev/color comes back with it filled in). The webhook's /metrics are
// read before and after each kind: `color` must count one review per update, so the benchmark
// cannot silently measure a webhook that was skipped (failurePolicy Ignore would hide that).
//
// What the webhook reads with matters most here. With `--reads live` each review LISTs the app's
// Deployments and Services; a LIST without resourceVersion is a consistent read, and right after
// a write (the previous update) kube-apiserver holds it until its watch cache has caught up with
// etcd, so the webhook's answer waits too (README, Benchmarks). `benchApiServerCost(n,
// { webhookArgs: ['--reads', 'live'] })` measures that mode; the default (watch caches) is what
// `npm run bench -- apiserver` measures.
import { setTimeout as sleep } from 'node:timers/promises';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { isDeploymentAvailable } from '../../webhook/src/domain/availability.js';
import { renderWebhookConfigurations } from '../cluster/webhook-registration.js';
import { eventually } from '../cluster/poll.js';
import { benchColor, benchService } from './cluster-objects.js';
import { benchCluster, percentiles, round, type Percentiles } from './common.js';
import { startWebhookProcess } from './webhook-process.js';

interface Stats extends Percentiles {
  samples: number;
  mean: number;
}

/** An update that cannot change the color (an annotation of someone else), or one that moves the selector. */
export type UpdateKind = 'unchanged' | 'color';
const KINDS: Record<UpdateKind, string> = {
  unchanged: 'merge patch of an annotation that is not rainbow.dev/ (the color stays): matchConditions skip the webhook',
  color: 'merge patch of spec.selector to the other Available color: the webhook reviews it and selects it',
};

export interface KindResult {
  what: string;
  /** Whether the chart's matchConditions call the webhook for this kind. */
  webhookCalled: boolean;
  withoutWebhook: Stats;
  withWebhook: Stats;
  ratio: { p50: number; p99: number };
  /** Reviews the webhook's /metrics counted during the measured updates of this kind. */
  reviewsAnswered: number;
  samplesMs: { withoutWebhook: number[]; withWebhook: number[] };
}

export interface ApiServerCostResult {
  /** Measured updates per side and kind. */
  updates: number;
  warmup: number;
  design: string;
  /** Flags given to `rainbow webhook` beyond the ones every run needs. */
  webhookArgs: string[];
  kinds: Record<UpdateKind, KindResult>;
  goal: { unchanged: string; maxRatio: number; met: boolean };
}

const APP = 'web';
const COLOR = 'c1a2b3';
const COLOR_B = 'd4e5f6';
const MAX_RATIO = 1.3;

function stats(values: number[]): Stats {
  return { samples: values.length, ...percentiles(values, 2), mean: round(values.reduce((a, b) => a + b, 0) / values.length, 2) };
}

export interface ApiServerCostOptions {
  /** Extra flags for `rainbow webhook`, e.g. ['--reads', 'live'] to measure live reads per review. */
  webhookArgs?: string[];
  say?: (line: string) => void;
}

export async function benchApiServerCost(updates = 500, opts: ApiServerCostOptions = {}): Promise<ApiServerCostResult> {
  const say = opts.say ?? console.log;
  const webhookArgs = opts.webhookArgs ?? [];
  const { core, apps, admission } = await benchCluster();
  const id = Date.now().toString(36);
  const hooked = `bench-apiserver-${id}-hook`;
  const plain = `bench-apiserver-${id}-plain`;
  let configName = '';
  const warmup = Math.max(10, Math.round(updates / 20));

  // Inside the cluster's namespace: the API server calls it there.
  const webhook = await startWebhookProcess({ args: webhookArgs, where: 'inside' });
  const hint = { hint: `webhook log: ${webhook.log}` };
  const serviceReviews = () => webhook.metric('rainbow_admission_requests_total', 'webhook="mutate-services"');
  let failed = true;
  try {
    for (const ns of [hooked, plain]) {
      await core.createNamespace({ body: { metadata: { name: ns } } });
      await apps.createNamespacedDeployment({ namespace: ns, body: benchColor(APP, COLOR) });
      await apps.createNamespacedDeployment({ namespace: ns, body: benchColor(APP, COLOR_B) });
      await core.createNamespacedService({ namespace: ns, body: benchService(APP, COLOR) });
    }

    const rendered = await renderWebhookConfigurations({ name: `rainbow-bench-apiserver-${id}`, namespace: hooked, url: webhook.url, caBundle: Buffer.from(webhook.ca).toString('base64') });
    configName = rendered.name;
    await admission.createMutatingWebhookConfiguration({ body: rendered.mutating });
    say(`  webhook ${webhook.url} (pid ${webhook.pid}) registered for namespace ${hooked}; ${plain} is not matched`);

    for (const ns of [hooked, plain]) {
      for (const c of [COLOR, COLOR_B]) {
        await eventually(`Deployment ${ns}/${APP}-${c} Available`, async () => isDeploymentAvailable(await apps.readNamespacedDeployment({ namespace: ns, name: `${APP}-${c}` })), 120_000, 250);
      }
    }

    // The webhook is really called: a selector without the color comes back with it filled in.
    const dropColor = { spec: { selector: { 'rainbow.dev/color': null } } };
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    await eventually(
      'the API server to call the webhook (selector color filled in)',
      async () => {
        const s = await core.patchNamespacedService({ namespace: hooked, name: APP, body: dropColor }, merge);
        if (s.spec?.selector?.['rainbow.dev/color'] === COLOR) return true;
        await core.patchNamespacedService({ namespace: hooked, name: APP, body: { spec: { selector: { 'rainbow.dev/color': COLOR } } } }, merge);
        return false;
      },
      30_000,
      200,
      hint,
    );
    const unmatched = await core.patchNamespacedService({ namespace: plain, name: APP, body: dropColor }, merge);
    if (unmatched.spec?.selector?.['rainbow.dev/color'] !== undefined) throw new Error(`namespace ${plain} is not meant to be matched by the webhook, but its Service was mutated`);
    await core.patchNamespacedService({ namespace: plain, name: APP, body: { spec: { selector: { 'rainbow.dev/color': COLOR } } } }, merge);
    say('  the webhook fills in a missing color in its namespace and leaves the other one alone');
    // Each namespace's Service flips between the two Available colors, so every such update is a real cutover.
    const onB = new Map<string, boolean>();
    let seq = 0;
    const bodies: Record<UpdateKind, (namespace: string) => object> = {
      unchanged: () => ({ metadata: { annotations: { 'bench.rainbow.dev/update': String(++seq) } } }),
      color: (namespace) => {
        const b = !onB.get(namespace);
        onB.set(namespace, b);
        return { spec: { selector: { 'rainbow.dev/color': b ? COLOR_B : COLOR } } };
      },
    };
    const update = async (kind: UpdateKind, namespace: string): Promise<number> => {
      const body = bodies[kind](namespace);
      const t = performance.now();
      await core.patchNamespacedService({ namespace, name: APP, body }, merge);
      return performance.now() - t;
    };

    const measure = async (kind: UpdateKind): Promise<KindResult> => {
      for (let i = 0; i < warmup; i++) {
        await update(kind, hooked);
        await update(kind, plain);
      }
      // The webhook counts a review just after answering it: let the warm-up's last count land.
      await sleep(300);
      const before = await serviceReviews();
      const withWebhook: number[] = [];
      const withoutWebhook: number[] = [];
      for (let i = 0; i < updates; i++) {
        // ABBA: neither side is always first after the other.
        if (i % 2 === 0) {
          withWebhook.push(await update(kind, hooked));
          withoutWebhook.push(await update(kind, plain));
        } else {
          withoutWebhook.push(await update(kind, plain));
          withWebhook.push(await update(kind, hooked));
        }
        if ((i + 1) % 100 === 0) say(`  [${kind}] ${i + 1}/${updates} pairs`);
      }
      // Same race at the end: the last review may be counted a moment after its update returned.
      await sleep(300);
      const reviews = (await serviceReviews()) - before;
      const w = stats(withWebhook);
      const wo = stats(withoutWebhook);
      return {
        what: KINDS[kind],
        webhookCalled: kind === 'color',
        withoutWebhook: wo,
        withWebhook: w,
        ratio: { p50: round(w.p50 / wo.p50, 2), p99: round(w.p99 / wo.p99, 2) },
        reviewsAnswered: reviews,
        samplesMs: { withoutWebhook: withoutWebhook.map((x) => round(x, 2)), withWebhook: withWebhook.map((x) => round(x, 2)) },
      };
    };

    const unchanged = await measure('unchanged');
    const color = await measure('color');
    if (color.reviewsAnswered < updates) {
      throw new Error(`the webhook answered only ${color.reviewsAnswered} reviews for ${updates} color changes in its namespace: the API server skipped it (failurePolicy Ignore); see ${webhook.log}`);
    }
    failed = false;
    return {
      updates,
      warmup,
      webhookArgs,
      design:
        'two namespaces, one matched by the namespaceSelector of a stable MutatingWebhookConfiguration (the chart\'s, with its matchConditions); ' +
        'per kind of update, pairs alternate ABBA, one update at a time; the webhook\'s review counter is read before and after each kind',
      kinds: { unchanged, color },
      goal: {
        unchanged: 'webhook not called (0 reviews), so 1.0×',
        maxRatio: MAX_RATIO,
        met: unchanged.reviewsAnswered === 0 && color.ratio.p50 <= MAX_RATIO && color.ratio.p99 <= MAX_RATIO,
      },
    };
  } finally {
    await admission.deleteMutatingWebhookConfiguration({ name: configName }).catch(() => undefined);
    await webhook.stop(failed);
    for (const ns of [hooked, plain]) await core.deleteNamespace({ name: ns }).catch(() => undefined);
  }
}
