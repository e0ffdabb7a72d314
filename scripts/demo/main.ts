// `npm run demo`: the story of scripts/demo/demo.ts, told on this machine.
import { DEFAULTS, runDemo } from './demo.js';

const opts = DEFAULTS();
console.log(`rainbow demo — a rainbow deploy on a real Kubernetes API server on this machine
colors: ${opts.colors.a} (this commit) and ${opts.colors.b} (the "next" one)`);
try {
  await runDemo(opts);
} catch (err) {
  console.error(`\ndemo failed: ${(err as Error).message}\nLogs: .local-cluster/logs/ (node-simulator.log, kube-apiserver.log, webhook-*.log, pods/). Stop everything with scripts/local-cluster down.`);
  process.exitCode = 1;
}
