// `npm run demo` step by step: the same code (scripts/demo/demo.ts) in namespaces of its own,
// with every step's observation asserted.
import { clients, helm } from './support/cluster.js';
import { runDemo, type DemoRecord } from '../../scripts/demo/demo.js';

const A = 'a0a0a0';
const B = 'b1b1b1';
const id = Date.now().toString(36);
const namespace = `demo-${id}`;
const systemNamespace = `demo-${id}-system`;
const systemRelease = `rainbow-${id}`;
const told: string[] = [];
let record: DemoRecord;

beforeAll(async () => {
  record = await runDemo({ namespace, systemNamespace, systemRelease, app: 'shop', colors: { a: A, b: B }, say: (l) => told.push(l) });
});

afterAll(async () => {
  // Undo what the demo installed: the rainbow-system release (cluster-scoped parts included) and
  // both namespaces.
  await helm(['uninstall', systemRelease, '-n', systemNamespace, '--wait']);
  const { core } = clients();
  for (const name of [namespace, systemNamespace]) await core.deleteNamespace({ name }).catch(() => undefined);
});

test('color A serves the page and the stream', () => {
  expect(record.pageHeading).toBe(`#${A}`);
  expect(record.firstStreamLines).toEqual([`The color is #${A}`]);
});

test('deploying B while it is not ready keeps A, records B as pending, and helm shows why', () => {
  expect(record.heldWhileUnavailable).toEqual({ selector: A, pending: B });
  expect(record.helmWarning).toMatch(new RegExp(`^Service shop: color ${B} .*still serving ${A}`));
});

test('the controller switches the Service to B once B is Available, and clears pending-color', () => {
  // How fast is a benchmark's question; here: that it happened, and never while B was not ready.
  expect(record.servedBeforeAvailable).toBe(false);
  expect(record.promoted).toEqual({ selector: B, pending: undefined });
});

test('new streams get B while the old stream keeps printing A', () => {
  expect(record.secondStreamLines).toEqual([`The color is #${B}`]);
  expect(record.firstStreamAfterFlip).toEqual([`The color is #${A}`]);
});

test('deleting A is refused by the in-cluster webhook while its stream is open, with the count and the way out', () => {
  expect(record.deleteRefusal).toMatch(/admission webhook "workloads.rainbow.dev" denied the request: Refusing to delete Deployment .*shop-a0a0a0.*1 established connection/);
  expect(record.deleteRefusal).toContain('rainbow.dev/force-delete=true');
  expect(record.statusDuringDrain).toMatch(new RegExp(`${B}\\s+serving`));
  // READY is 2/2, or `1/1 (shrunk from 2)` when drain-grace has passed before the status was read.
  expect(record.statusDuringDrain).toMatch(new RegExp(`${A}\\s+draining\\s+\\S+( \\(shrunk from 2\\))?\\s+1\\s`));
});

test('once the stream closes the controller deletes A after drain-grace, and says so in Events', () => {
  // drain-grace 5 s + the controller's 2 s interval + reporter and API round trips.
  expect(record.deletedSecondsAfterClose).toBeGreaterThanOrEqual(5);
  expect(record.deletedSecondsAfterClose).toBeLessThan(5 + 2 + 5);
  expect(record.events.map((e) => e.split(/\s+/)[0])).toEqual(expect.arrayContaining(['DrainStarted', 'Drained', 'Deleted']));
});

test('the story is narrated in numbered, timestamped steps', () => {
  const steps = told.filter((l) => /^\n\[\d\d:\d\d:\d\d \+\d+\.\ds\] \d\/9 /.test(l));
  expect(steps).toHaveLength(9);
});
