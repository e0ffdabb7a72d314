// promtool and Prometheus (scripts/cluster/tools/prometheus) for the monitoring tests. Their build
// takes minutes, so they are built and used only when RAINBOW_PROMETHEUS_TESTS=1
// (`npm run test:prometheus` sets it); otherwise the tests that need them are skipped.
import { execFile } from 'node:child_process';
import { buildTools } from '../../scripts/cluster/build-tools.js';
import { bin } from '../../scripts/cluster/paths.js';

export const PROMETHEUS_TESTS = process.env.RAINBOW_PROMETHEUS_TESTS === '1';
export const describeWithPrometheus = PROMETHEUS_TESTS ? describe : describe.skip;

export const PROMTOOL = bin('promtool');
export const PROMETHEUS = bin('prometheus');

/** Builds promtool and prometheus into .local-cluster/bin unless they are up to date. */
export async function ensurePrometheusTools(): Promise<void> {
  await buildTools({ groups: ['prometheus'], quiet: true });
}

export interface PromtoolResult {
  code: number;
  output: string;
}

/** Runs promtool; resolves with its exit code and output whatever the code. */
export function promtool(args: string[], cwd?: string): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    execFile(PROMTOOL, args, { cwd, timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      if (err && code === -1) reject(err);
      else resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}
