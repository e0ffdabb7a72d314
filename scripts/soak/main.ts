// `npm run soak -- --releases N --minutes M [--streams S] [--seed X] [--rate R] [--faults a,b,…]`:
// the soak on the local cluster (started if it is not running, left running at the end, as the
// demo and the benchmarks do); the checks one line each, results in bench-results/soak.json;
// exit 1 when a check fails.
import { parseArgs } from 'node:util';
import { writeResult } from '../bench/common.js';
import { FAULT_KINDS, type FaultKind } from './plan.js';
import { SOAK_DEFAULTS, runSoak, summaryLines } from './soak.js';

const OPTIONS = {
  releases: { type: 'string' },
  minutes: { type: 'string' },
  streams: { type: 'string' },
  seed: { type: 'string' },
  rate: { type: 'string' },
  faults: { type: 'string' },
  'fault-count': { type: 'string' },
} as const;
const USAGE = 'usage: npm run soak -- [--releases 30] [--minutes 20] [--streams 200] [--seed N] [--rate R] [--faults a,b,…|none] [--fault-count K]';
const parsed = (() => {
  try {
    return parseArgs({ options: OPTIONS });
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
})();
const { values } = parsed;
const num = (v: string | undefined, name: string, dflt: number): number => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} must be a positive number (got ${v})`);
    process.exit(2);
  }
  return n;
};
const faults = values.faults === undefined ? SOAK_DEFAULTS.faults : values.faults === 'none' ? [] : values.faults.split(',').map((f) => f.trim());
const unknown = faults.filter((f) => !(FAULT_KINDS as readonly string[]).includes(f));
if (unknown.length) {
  console.error(`unknown fault(s) ${unknown.join(', ')}; known: ${FAULT_KINDS.join(', ')} (or none)`);
  process.exit(2);
}

const releases = Math.round(num(values.releases, 'releases', SOAK_DEFAULTS.releases));
const minutes = num(values.minutes, 'minutes', SOAK_DEFAULTS.minutes);
console.log(`rainbow soak: ${releases} releases over ${minutes} minutes, faults: ${faults.join(', ') || 'none'}`);
try {
  const r = await runSoak({
    releases,
    minutes,
    streams: Math.round(num(values.streams, 'streams', SOAK_DEFAULTS.streams)),
    seed: Math.round(num(values.seed, 'seed', SOAK_DEFAULTS.seed)),
    httpRate: num(values.rate, 'rate', SOAK_DEFAULTS.httpRate),
    faults: faults as FaultKind[],
    faultCount: values['fault-count'] === undefined ? undefined : Math.round(num(values['fault-count'], 'fault-count', 1)),
  });
  console.log('');
  for (const line of summaryLines(r)) console.log(line);
  console.log(`\n${r.ok ? 'soak passed' : 'soak FAILED'} in ${r.durationSeconds} s; record: ${r.recordFile}`);
  console.log(`→ ${writeResult('soak', r)}`);
  process.exit(r.ok ? 0 : 1);
} catch (err) {
  console.error(`\nsoak failed to run: ${(err as Error).stack ?? err}`);
  process.exit(1);
}
