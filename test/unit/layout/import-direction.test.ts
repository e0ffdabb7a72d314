// The layout holds: no process imports another, and what they share imports no process
// (.dependency-cruiser.cjs). The same check on a small tree with deliberate wrong imports shows
// that it refuses them.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const config = path.join(root, '.dependency-cruiser.cjs');
const depcruise = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

function cruise(cwd: string): { violations: Violation[]; modules: number } {
  let out: string;
  try {
    out = execFileSync(process.execPath, [depcruise, 'webhook/src', '--config', config, '--output-type', 'json'], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch (err) {
    // Exit code 1 with violations still prints the JSON.
    out = (err as { stdout?: string }).stdout ?? '';
    if (!out) throw err;
  }
  const result = JSON.parse(out) as { summary: { violations: Violation[]; totalCruised: number } };
  return { violations: result.summary.violations, modules: result.summary.totalCruised };
}

test('the sources keep the import direction', () => {
  const { violations, modules } = cruise(root);
  expect(modules).toBeGreaterThan(50);
  expect(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
});

test('a role → role import and a shared → role import are refused', () => {
  const { violations } = cruise(path.join(root, 'test', 'fixtures', 'layout'));
  expect(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort()).toEqual([
    'no-role-to-role: webhook/src/controller/imports-webhook.ts → webhook/src/webhook/guard.ts',
    'shared-imports-no-role: webhook/src/domain/imports-controller.ts → webhook/src/controller/imports-webhook.ts',
  ]);
});
