// One finding of `rainbow doctor`, the summary of all of them and the exit code they make.
import { describeTarget, type Read } from './input.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** The areas in the order the table shows them. */
export const AREAS = ['datapath', 'conntrack', 'load balancers', 'network policies', 'rainbow', 'apps'] as const;
export type Area = (typeof AREAS)[number];

export interface CheckResult {
  area: Area;
  /** What was checked: `kube-proxy`, `shop/web`, `Service shop/web-lb`. */
  check: string;
  status: CheckStatus;
  finding: string;
  /** What to do; absent when ok. */
  fix?: string;
}

export const ok = (area: Area, check: string, finding: string): CheckResult => ({ area, check, status: 'ok', finding });
export const warn = (area: Area, check: string, finding: string, fix: string): CheckResult => ({ area, check, status: 'warn', finding, fix });
export const fail = (area: Area, check: string, finding: string, fix: string): CheckResult => ({ area, check, status: 'fail', finding, fix });

/** A read that was refused or failed, as a warning naming the request; undefined for found and absent. */
export function unreadable(area: Area, check: string, read: Read<unknown>, consequence: string): CheckResult | undefined {
  if (read.status === 'forbidden') {
    const { verb, resource, namespace } = read.target;
    return warn(
      area,
      check,
      `cannot ${describeTarget(read.target)}: forbidden (${read.message}); ${consequence}`,
      `grant ${verb} on ${resource}${namespace ? ` in ${namespace}` : ''} to whoever runs doctor, or run it with credentials that have it`,
    );
  }
  if (read.status === 'failed') return warn(area, check, `cannot ${describeTarget(read.target)}: ${read.message}; ${consequence}`, 'check that the API server answers and retry');
  return undefined;
}

export interface Summary {
  ok: number;
  warn: number;
  fail: number;
}

export function summarize(results: readonly CheckResult[]): Summary {
  const s: Summary = { ok: 0, warn: 0, fail: 0 };
  for (const r of results) s[r.status]++;
  return s;
}

/** 0 all ok, 1 warnings, 2 failures (2 is also what a usage error exits with). */
export function exitCode(results: readonly CheckResult[]): 0 | 1 | 2 {
  const s = summarize(results);
  return s.fail > 0 ? 2 : s.warn > 0 ? 1 : 0;
}

/** Results in area order, keeping each check's own order within its area. */
export function byArea(results: readonly CheckResult[]): CheckResult[] {
  return AREAS.flatMap((a) => results.filter((r) => r.area === a));
}
