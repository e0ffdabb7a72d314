// A short soak (scripts/soak/soak.ts, the code of `npm run soak`): 5 releases over 4 minutes with
// streams, short requests and chaos, on the e2e run's cluster, in namespaces of its own with its own
// rainbow-system release scoped to them. The e2e files are not forced to run one at a time (no
// --runInBand, no maxWorkers: jest uses cores − 1 workers, so they run in parallel on a machine with
// more than 2 cores), so this soak uses only the faults that cannot disturb another test: a webhook
// pod, the controller leader and reporter sidecars, all of its own release and app. Restarting
// kube-apiserver or the node simulator would hit every test running beside it; `npm run soak`,
// on a cluster of its own, does the API server restart.
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { logDir } from '../../scripts/cluster/paths.js';
import { SCOPED_FAULTS } from '../../scripts/soak/plan.js';
import { runSoak, summaryLines } from '../../scripts/soak/soak.js';

test('a short soak: no stream cut, every failure in a fault window, no color deleted while connected, drained colors deleted in time, nothing left', async () => {
  mkdirSync(path.join(logDir, 'e2e'), { recursive: true });
  const log = path.join(logDir, 'e2e', `soak-${Date.now()}.log`);
  const r = await runSoak({
    releases: 5,
    minutes: 4,
    streams: 60,
    httpRate: 5,
    faults: SCOPED_FAULTS,
    faultCount: 6,
    say: (line) => appendFileSync(log, `${line}\n`),
  });
  const summary = summaryLines(r).join('\n');
  appendFileSync(log, `\n${summary}\n`);
  // Every check, by name, with the summary in the message when one fails.
  const failed = r.checks.filter((c) => !c.ok).map((c) => c.name);
  expect({ failed, summary }).toEqual({ failed: [], summary });
  expect(r.releases).toHaveLength(6);
  expect(r.faults.filter((f) => f.struck).map((f) => f.kind).sort()).toEqual(['controller-leader', 'controller-leader', 'reporter', 'reporter', 'webhook-pod', 'webhook-pod']);
  expect(r.streams.opened).toBe(60);
  expect(r.streams.cut).toBe(0);
  // Every stream stayed on one color, and streams saw several colors between them.
  expect(r.streams.colorsPerStream).toEqual([1]);
  expect(Object.keys(r.requests.byColor).length).toBeGreaterThanOrEqual(3);
}, 15 * 60_000);
