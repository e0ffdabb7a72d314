// Cost at the API server: client-observed latency of Service updates through kube-apiserver when
// the rainbow Service webhook is called, against the same updates when it is not. Goal: the
// webhook makes a Service update at most 1.3× slower, at the median and at p99.
//
// Design: two namespaces, set up the same way (an Available Deployment of one color and a Service
// labelled rainbow.dev/app that selects it), and ONE MutatingWebhookConfiguration registered for
// the whole run, shaped like the chart's Service entry (failurePolicy Ignore, objectSelector
// rainbow.dev/app Exists) but with a namespaceSelector that matches only the first namespace. The
// webhook is the real `rainbow webhook`, a local process registered by URL with its caBundle, as
// the e2e tests do. Updates go to the two Services alternately, in pairs whose order flips every
// time (ABBA), one at a time: both sides see the same API server, etcd, cache and machine load at
// the same moment, so drift (other work on the 2 cores, etcd compaction, GC) hits both alike.
// Registering and unregistering in blocks instead would measure each side at other times and add
// the API server's webhook-configuration reloads to the run; the stable registration is fairer.
//
// Every measured update is a real write: a JSON merge patch that changes an annotation, so the
// object changes, its resourceVersion moves and it is stored in etcd. For the matched namespace
// the API server sends an AdmissionReview; the webhook reads the app's Deployments and Services
// (from its watch caches by default), decides ("available": keep the selector) and answers. Before measuring, a probe shows the webhook's effect (a selector
// without rainbow.dev/color comes back with it filled in), then both sides warm up. At the end
// the webhook's /metrics must show at least one answered review per measured update, so the
// benchmark cannot silently measure a webhook that was skipped (failurePolicy Ignore would hide that).
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

export interface ApiServerCostResult {
  /** Measured updates per side. */
  updates: number;
  warmup: number;
  design: string;
  /** Flags given to `rainbow webhook` beyond the ones every run needs. */
  webhookArgs: string[];
  withoutWebhook: Stats;
  withWebhook: Stats;
  ratio: { p50: number; p99: number };
  goal: { maxRatio: number; met: boolean };
  webhook: { reviewsAnswered: number; reviewsDuringMeasurement: number };
  samplesMs: { withoutWebhook: number[]; withWebhook: number[] };
}

const APP = 'web';
const COLOR = 'c1a2b3';
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
      await core.createNamespacedService({ namespace: ns, body: benchService(APP, COLOR) });
    }

    const rendered = await renderWebhookConfigurations({ name: `rainbow-bench-apiserver-${id}`, namespace: hooked, url: webhook.url, caBundle: Buffer.from(webhook.ca).toString('base64') });
    configName = rendered.name;
    await admission.createMutatingWebhookConfiguration({ body: rendered.mutating });
    say(`  webhook ${webhook.url} (pid ${webhook.pid}) registered for namespace ${hooked}; ${plain} is not matched`);

    for (const ns of [hooked, plain]) {
      await eventually(`Deployment ${ns}/${APP}-${COLOR} Available`, async () => isDeploymentAvailable(await apps.readNamespacedDeployment({ namespace: ns, name: `${APP}-${COLOR}` })), 120_000, 250);
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
    let seq = 0;
    const update = async (namespace: string): Promise<number> => {
      const body = { metadata: { annotations: { 'bench.rainbow.dev/update': String(++seq) } } };
      const t = performance.now();
      await core.patchNamespacedService({ namespace, name: APP, body }, merge);
      return performance.now() - t;
    };
    for (let i = 0; i < warmup; i++) {
      await update(hooked);
      await update(plain);
    }

    // The webhook counts a review just after answering it: let the warm-up's last count land.
    await sleep(300);
    const before = await serviceReviews();
    const withWebhook: number[] = [];
    const withoutWebhook: number[] = [];
    for (let i = 0; i < updates; i++) {
      // ABBA: neither side is always first after the other.
      if (i % 2 === 0) {
        withWebhook.push(await update(hooked));
        withoutWebhook.push(await update(plain));
      } else {
        withoutWebhook.push(await update(plain));
        withWebhook.push(await update(hooked));
      }
      if ((i + 1) % 100 === 0) say(`  ${i + 1}/${updates} pairs`);
    }
    // Same race at the end: the last review may be counted a moment after its update returned.
    const reviewsAnswered = await eventually('the webhook to count its reviews', async () => {
      const n = await serviceReviews();
      return n - before >= updates && n;
    }, 2_000, 100).catch(() => serviceReviews());
    const reviewsDuringMeasurement = reviewsAnswered - before;
    if (reviewsDuringMeasurement < updates) {
      throw new Error(`the webhook answered only ${reviewsDuringMeasurement} reviews for ${updates} updates in its namespace: the API server skipped it (failurePolicy Ignore); see ${webhook.log}`);
    }

    const w = stats(withWebhook);
    const wo = stats(withoutWebhook);
    const ratio = { p50: round(w.p50 / wo.p50, 2), p99: round(w.p99 / wo.p99, 2) };
    failed = false;
    return {
      updates,
      warmup,
      webhookArgs,
      design: 'two namespaces, one matched by the namespaceSelector of a stable MutatingWebhookConfiguration; updates alternate ABBA, one at a time',
      withoutWebhook: wo,
      withWebhook: w,
      ratio,
      goal: { maxRatio: MAX_RATIO, met: ratio.p50 <= MAX_RATIO && ratio.p99 <= MAX_RATIO },
      webhook: { reviewsAnswered, reviewsDuringMeasurement },
      samplesMs: { withoutWebhook: withoutWebhook.map((x) => round(x, 2)), withWebhook: withWebhook.map((x) => round(x, 2)) },
    };
  } finally {
    await admission.deleteMutatingWebhookConfiguration({ name: configName }).catch(() => undefined);
    await webhook.stop(failed);
    for (const ns of [hooked, plain]) await core.deleteNamespace({ name: ns }).catch(() => undefined);
  }
}
