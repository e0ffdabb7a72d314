// `npm test`: compile, build the local cluster's tools if needed, run the unit and chart tests,
// then the end-to-end tests on the local control plane (brought up and down by the e2e setup,
// or reused if one is already running). Ends with one line: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const step = (m) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const run = (cmd, args, env = {}) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } }).status ?? 1;

// Extra arguments go to jest (e.g. `npm test -- test/unit/webhook`).
const extra = process.argv.slice(2);
const only = process.env.RAINBOW_TEST_PROJECTS?.split(',') ?? ['unit', 'e2e'];

step('npm test: preparing (dependencies, TypeScript)');
if (run(path.join(root, 'scripts', 'ensure-build'), []) !== 0) process.exit(1);
// The chart tests render with the pinned helm, and the e2e tests need the whole control plane.
step('building the local cluster tools if needed (the first build takes several minutes)');
if (run(process.execPath, [path.join(root, 'dist', 'scripts', 'cluster', 'main.js'), 'build']) !== 0) {
  step('building the local cluster tools failed (see above)');
  process.exit(1);
}

mkdirSync(path.join(root, 'dist'), { recursive: true });
let passed = 0;
let failed = 0;
let status = 0;
for (const project of only) {
  step(`running the ${project} tests`);
  const out = path.join(root, 'dist', `jest-${project}.json`);
  const code = run(
    process.execPath,
    ['--experimental-vm-modules', path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--selectProjects', project, '--json', `--outputFile=${out}`, ...extra],
    { NODE_NO_WARNINGS: '1' },
  );
  try {
    const r = JSON.parse(readFileSync(out, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
  } catch {
    failed += 1;
  }
  if (code !== 0) status = code;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(status || (failed > 0 ? 1 : 0));
