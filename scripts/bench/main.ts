// `npm run bench`: every benchmark, results in bench-results/*.json, a summary on stdout.
// The reporter and guard benchmarks need no cluster; promotion runs on the local control plane.
import { benchGuard } from './guard.js';
import { benchPromotion } from './promotion.js';
import { benchReporter } from './reporter.js';
import { machine, writeResult } from './common.js';

const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);
console.log(`rainbow benchmarks on ${machine()}`);
if (want('reporter')) {
  console.log('\nreporter: /proc/net/tcp parsing and memory');
  console.log(`  → ${writeResult('reporter', await benchReporter())}`);
}
if (want('guard')) {
  console.log('\ndelete guard vs pod count');
  console.log(`  → ${writeResult('guard', await benchGuard())}`);
}
if (want('promotion')) {
  console.log('\npromotion latency (local control plane)');
  const r = await benchPromotion(20);
  console.log(`  p50 ${r.ms.p50} ms, p90 ${r.ms.p90} ms, p99 ${r.ms.p99} ms, max ${r.ms.max} ms`);
  console.log(`  → ${writeResult('promotion', r)}`);
}
process.exit(0);
