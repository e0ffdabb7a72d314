// `npm run test:prometheus`: the monitoring tests that need promtool and Prometheus, which the
// default build leaves out (their build takes minutes): compile, build the cluster's tools and
// the prometheus group, then promtool on the chart's rules and the e2e test with a real Prometheus
// (the local cluster brought up and down by the e2e setup, or reused). Ends with "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const step = (m) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const run = (cmd, args, env = {}) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } }).status ?? 1;

step('npm run test:prometheus: preparing (dependencies, TypeScript)');
if (run(path.join(root, 'scripts', 'ensure-build'), []) !== 0) process.exit(1);
step('building the local cluster tools if needed');
if (run(process.execPath, [path.join(root, 'dist', 'scripts', 'cluster', 'main.js'), 'build']) !== 0) process.exit(1);
step('building promtool and prometheus if needed (the first build takes several minutes)');
const build = `import(${JSON.stringify(path.join(root, 'dist', 'scripts', 'cluster', 'build-tools.js'))}).then((m) => m.buildTools({ groups: ['prometheus'] }))`;
if (run(process.execPath, ['--input-type=module', '-e', build]) !== 0) process.exit(1);

mkdirSync(path.join(root, 'dist'), { recursive: true });
const out = path.join(root, 'dist', 'jest-prometheus.json');
const files = ['test/chart/rainbow-system-monitoring.test.ts', 'test/e2e/prometheus.test.ts'];
step(`running ${files.join(' and ')}`);
const code = run(
  process.execPath,
  ['--experimental-vm-modules', path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--json', `--outputFile=${out}`, ...files, ...process.argv.slice(2)],
  { NODE_NO_WARNINGS: '1', RAINBOW_PROMETHEUS_TESTS: '1' },
);
let passed = 0;
let failed = 0;
try {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  passed = r.numPassedTests;
  failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
} catch {
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(code || (failed > 0 ? 1 : 0));
