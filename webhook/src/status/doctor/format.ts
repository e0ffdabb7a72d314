// Rendering `rainbow doctor` (pure): a table grouped by area with a summary line, or a versioned
// JSON document like `rainbow status -o json`.
import { STATUS_API_VERSION } from '../format.js';
import { AREAS, byArea, exitCode, summarize, type CheckResult, type CheckStatus } from './result.js';

export const DOCTOR_KIND = 'Doctor';

const COLORS: Record<CheckStatus, string> = { ok: '\x1b[32m', warn: '\x1b[33m', fail: '\x1b[31m' };

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.length > 0 ? lines : [''];
}

/** Check names longer than this get a line of their own. */
export const MAX_CHECK_WIDTH = 24;

export interface TableOptions {
  color: boolean;
  /** Line width the findings wrap at. */
  width: number;
}

export function summaryLine(results: readonly CheckResult[]): string {
  const s = summarize(results);
  return `${s.ok} ok, ${s.warn} warn, ${s.fail} fail`;
}

/** One block per area: `  STATUS  CHECK  finding`, the fix under it; then the summary. Ends with a newline. */
export function formatTable(results: readonly CheckResult[], opts: TableOptions): string {
  const sorted = byArea(results);
  // A longer check name gets a line of its own rather than narrowing every finding.
  const checkWidth = Math.max(0, ...sorted.map((r) => r.check.length).filter((n) => n <= MAX_CHECK_WIDTH));
  const indent = 2 + 4 + 2 + checkWidth + 2;
  const textWidth = Math.max(30, opts.width - indent);
  const pad = ' '.repeat(indent);
  const blocks: string[] = [];
  for (const area of AREAS) {
    const mine = sorted.filter((r) => r.area === area);
    if (mine.length === 0) continue;
    const lines: string[] = [area];
    for (const r of mine) {
      const status = r.status.padEnd(4);
      const shown = opts.color ? `${COLORS[r.status]}${status}\x1b[0m` : status;
      const findings = wrap(r.finding, textWidth);
      if (r.check.length > checkWidth) lines.push(`  ${shown}  ${r.check}`);
      else lines.push(`  ${shown}  ${r.check.padEnd(checkWidth)}  ${findings.shift()}`);
      for (const l of findings) lines.push(`${pad}${l}`);
      if (r.fix) for (const l of wrap(`fix: ${r.fix}`, textWidth)) lines.push(`${pad}${l}`);
    }
    blocks.push(lines.join('\n'));
  }
  return `${blocks.join('\n\n')}\n\n${summaryLine(sorted)}\n`;
}

/** A plain object with every key always present (null when there is none), in a fixed order. */
export function doctorDocument(results: readonly CheckResult[], meta: { generatedAt: Date; cliVersion: string; namespace?: string }) {
  const sorted = byArea(results);
  return {
    apiVersion: STATUS_API_VERSION,
    kind: DOCTOR_KIND,
    generatedAt: meta.generatedAt.toISOString(),
    cliVersion: meta.cliVersion,
    namespace: meta.namespace ?? null,
    summary: summarize(sorted),
    exitCode: exitCode(sorted),
    checks: sorted.map((r) => ({ area: r.area, check: r.check, status: r.status, finding: r.finding, fix: r.fix ?? null })),
  };
}

export function formatJson(results: readonly CheckResult[], meta: { generatedAt: Date; cliVersion: string; namespace?: string }): string {
  return `${JSON.stringify(doctorDocument(results, meta), null, 2)}\n`;
}
