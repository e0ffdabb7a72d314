// `npm run bench`: every benchmark, results in bench-results/*.json, a summary on stdout.
// The reporter and guard benchmarks need no cluster; promotion, apiserver and shrink run on the local control plane.
import { benchAdmission } from './admission.js';
import { benchApiServerCost } from './apiserver-cost.js';
import { benchGuard } from './guard.js';
import { benchPromotion } from './promotion.js';
import { benchReporter } from './reporter.js';
import { benchShrink } from './shrink.js';
import { machine, writeResult } from './common.js';

const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);
console.log(`rainbow benchmarks on ${machine()}`);
if (want('reporter')) {
  console.log('\nreporter: /proc/net/tcp parsing and memory');
  console.log(`  → ${writeResult('reporter', await benchReporter())}`);
}
if (want('admission')) {
  console.log('\nadmission round trip: autocannon → rainbow webhook over HTTPS (local control plane)');
  console.log(`  → ${writeResult('admission', await benchAdmission())}`);
}
if (want('guard')) {
  console.log('\ndelete guard vs pod count');
  console.log(`  → ${writeResult('guard', await benchGuard())}`);
}
if (want('forecast')) console.log(`  → ${writeResult('forecast', (await import('./forecast.js')).benchForecast())}`);
if (want('promotion')) {
  console.log('\npromotion latency (local control plane)');
  const r = await benchPromotion(20);
  console.log(`  p50 ${r.ms.p50} ms, p90 ${r.ms.p90} ms, p99 ${r.ms.p99} ms, max ${r.ms.max} ms`);
  console.log(`  → ${writeResult('promotion', r)}`);
}
if (want('apiserver')) {
  console.log('\ncost at the API server: Service updates with vs without the webhook (local control plane)');
  const r = await benchApiServerCost(500);
  const f = (s: { p50: number; p90: number; p99: number; max: number }) => `p50 ${s.p50} ms, p90 ${s.p90} ms, p99 ${s.p99} ms, max ${s.max} ms`;
  for (const k of Object.values(r.kinds)) {
    console.log(`  ${k.what}`);
    console.log(`    without webhook: ${f(k.withoutWebhook)}`);
    console.log(`    with webhook:    ${f(k.withWebhook)}`);
    console.log(`    ratio p50 ${k.ratio.p50}×, p99 ${k.ratio.p99}×; ${k.reviewsAnswered} reviews answered for ${r.updates} updates`);
  }
  console.log(`  goals (${r.goal.unchanged}; ≤ ${r.goal.maxRatio}× when called): ${r.goal.met ? 'met' : 'not met'}`);
  console.log(`  → ${writeResult('apiserver', r)}`);
}
if (want('shrink')) {
  console.log('\nshrinking a draining color: pod-seconds with shrink on and off (local control plane)');
  const r = await benchShrink();
  const f = (x: typeof r.runs.on) =>
    `${x.podSeconds} pod-seconds (${x.podSecondsUntilLastClose} until the last connection closed), last pod gone ${x.drainSeconds} s after the switch, ${x.connections.cut} cut`;
  console.log(`  shrink on:  ${f(r.runs.on)}`);
  console.log(`  shrink off: ${f(r.runs.off)}`);
  console.log(`  off/on ${r.podSecondsRatioOffOverOn}× (${r.podSecondsUntilLastCloseRatioOffOverOn}× until the last connection closed); connections cut: ${r.connectionsCut}`);
  console.log(`  → ${writeResult('shrink', r)}`);
}
// Only when named (`npm run bench -- peers`): it builds Argo Rollouts' and Flagger's controllers (minutes, once) and takes ~7 minutes.
if (only.includes('peers')) {
  console.log('\npeers: one release under a Deployment rolling update, Argo Rollouts blue-green, Flagger and rainbow (local control plane)');
  const peers = await import('./peers/peers.js');
  const r = await peers.benchPeers();
  console.log('');
  for (const line of peers.summaryLines(r)) console.log(`  ${line}`);
  console.log(`  → ${writeResult('peers', r)}`);
}
// Only when named (`npm run bench -- scale`): 25,000+ objects in the local cluster, ~30 minutes.
if (only.includes('scale')) {
  console.log('\nscale: rainbow webhook and controller among 100 and 1,000 apps, with and without 10,000 foreign pods (local control plane)');
  const r = await (await import('./scale.js')).benchScale();
  console.log(`  → ${writeResult('scale', r)}`);
}
process.exit(0);
