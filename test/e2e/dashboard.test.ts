// `kubectl rainbow dashboard` during a real cutover, in real headless Chromium: rainbow-system
// installed with helm, an app installed and upgraded with helm from chart/rainbow-app, real TCP
// streams held open on the old color's pod, the dashboard run as a user runs it (host kubeconfig,
// the API server's pod proxy). The page must show both colors in their own colors, the old
// color's count fall as the streams close, the old color go once the controller deletes it, and
// nothing in the console. It saves the screenshot the README shows (docs/dashboard.png).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { kubeconfigPath, repoRoot } from '../../scripts/cluster/paths.js';
import { cliNodeFlags } from '../../scripts/cluster/rainbow-command.js';
import { launchChromium, pageProblems, rgbOf } from '../support/chromium.js';
import { clients, eventually, helm, testNamespace } from './support/cluster.js';
import { openStream, type Stream } from './support/controller.js';
import { installRainbowSystem, type InClusterSystem } from './support/system.js';

// Runs in the browser, through page.evaluate (no DOM lib here).
declare function getComputedStyle(e: unknown): { backgroundColor: string };

const { core } = clients();
const chart = path.join(repoRoot, 'chart', 'rainbow-app');
const plugin = path.join(repoRoot, 'dist', 'webhook', 'src', 'kubectl-rainbow.js');
const APP = 'web';
const [A, B] = ['e63946', '2a9d8f'];
const GRACE_S = 3;

let ns: Awaited<ReturnType<typeof testNamespace>>;
let system: InClusterSystem;
let dashboard: ChildProcess | undefined;
let dashboardOutput = '';
let browser: Browser | undefined;
let page: Page;
let problems: string[] = [];
const streams: Stream[] = [];

const release = (color: string, extra: string[] = []) =>
  helm([
    'upgrade', '--install', APP, chart, '-n', ns.name, '--set', `color=${color}`, '--set', 'replicas=1', '--set', 'readinessProbe.periodSeconds=1',
    '--set', `drain.grace=${GRACE_S}s`, '--set', 'drain.keepColors=0', '--set', 'terminationGracePeriodSeconds=5', ...extra,
  ]);
const row = (color: string) => `section[data-app="${ns.name}/${APP}"] table.colors tr[data-color="${color}"]`;
const count = (color: string) => page.locator(`${row(color)} td.connections`).getAttribute('data-connections');

/** `kubectl rainbow dashboard` as a user starts it; resolves with the URL it prints. */
async function startDashboard(): Promise<string> {
  const proc = spawn(process.execPath, [...cliNodeFlags(), plugin, 'dashboard', '-n', ns.name, `--kubeconfig=${kubeconfigPath}`, '--port=0', '--interval=1s'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  dashboard = proc;
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (dashboardOutput += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (dashboardOutput += d));
  return eventually('the dashboard to print its URL', async () => {
    if (proc.exitCode !== null) throw new Error(`kubectl rainbow dashboard exited ${proc.exitCode}:\n${dashboardOutput}`);
    return /^kubectl rainbow dashboard: (http:\/\/127\.0\.0\.1:\d+) \(/m.exec(dashboardOutput)?.[1];
  }, 20_000, 100);
}

beforeAll(async () => {
  // First, so that a machine without Chromium fails at once with what to install.
  browser = await launchChromium('the dashboard e2e test (test/e2e/dashboard.test.ts)');
  ns = await testNamespace('dashboard');
  system = await installRainbowSystem(ns.name);
}, 600_000);

afterAll(async () => {
  for (const s of streams) s.socket.destroy();
  await browser?.close();
  if (dashboard && dashboard.exitCode === null) {
    const exited = new Promise((r) => dashboard!.once('exit', r));
    dashboard.kill('SIGTERM');
    await exited;
  }
  await system?.uninstall();
  await ns?.remove();
});

test('the dashboard follows a cutover: both colors in their own colors, the old one draining to 0, then gone', async () => {
  const first = await release(A, ['--wait', '--timeout', '120s']);
  expect(first.code).toBe(0);
  const pods = (await core.listNamespacedPod({ namespace: ns.name, labelSelector: `rainbow.dev/app=${APP},rainbow.dev/color=${A}` })).items;
  expect(pods).toHaveLength(1);
  for (let i = 0; i < 2; i++) {
    const s = await openStream(pods[0]!.status!.podIP!, 8081, 15_000, 'inside');
    streams.push(s);
    expect(s.lines[0]).toBe(`The color is #${A}`);
  }

  const url = await startDashboard();
  page = await browser!.newPage({ viewport: { width: 1280, height: 760 }, colorScheme: 'light' });
  problems = pageProblems(page);
  await page.goto(url);
  await page.locator(row(A)).waitFor({ timeout: 20_000 });
  // The two streams (the kubelet's readiness probe of :8080 may add one for a moment).
  await eventually(`${A} showing 2 connections`, async () => (await count(A)) === '2', 20_000, 200);

  const second = await release(B);
  expect(second.code).toBe(0);
  await page.locator(row(B)).waitFor({ timeout: 30_000 });
  await eventually(`${B} serving and ${A} draining on the page`, async () =>
    (await page.locator(row(B)).getAttribute('data-state')) === 'serving' && (await page.locator(row(A)).getAttribute('data-state')) === 'draining', 60_000, 200);
  for (const color of [A, B]) {
    expect(await page.locator(`${row(color)} .swatch`).evaluate((e) => getComputedStyle(e).backgroundColor)).toBe(rgbOf(color));
  }
  expect(await page.locator(`section[data-app="${ns.name}/${APP}"] [data-service="${APP}"]`).innerText()).toMatch(new RegExp(`→\\s+${B}$`));
  await eventually('the DrainStarted Event on the page', async () => (await page.locator(`section[data-app="${ns.name}/${APP}"] ol.events li[data-reason="DrainStarted"]`).count()) > 0, 20_000, 250);
  await page.locator(`section[data-app="${ns.name}/${APP}"] figure.chart canvas`).waitFor();
  await page.waitForTimeout(3000); // a few more samples on the chart
  const shot = path.join(repoRoot, 'docs', 'dashboard.png');
  mkdirSync(path.dirname(shot), { recursive: true });
  await page.screenshot({ path: shot, fullPage: true });

  // The streams close one by one: the old color's count falls, without a reload.
  streams[0]!.socket.destroy();
  await eventually(`${A} showing 1 connection`, async () => (await count(A)) === '1', 20_000, 200);
  const deleted = Date.now();
  streams[1]!.socket.destroy();
  await eventually(`${A} showing 0 connections or gone`, async () => (await page.locator(row(A)).count()) === 0 || (await count(A)) === '0', 20_000, 200);
  // Drained for drain-grace, the controller deletes it: its row goes.
  await page.locator(row(A)).waitFor({ state: 'detached', timeout: GRACE_S * 1000 + 30_000 });
  console.log(`dashboard: ${APP}-${A} left the page ${((Date.now() - deleted) / 1000).toFixed(1)} s after its last stream closed`);
  await eventually('the Deleted Event on the page', async () => (await page.locator(`section[data-app="${ns.name}/${APP}"] ol.events li[data-reason="Deleted"]`).count()) > 0, 20_000, 250);
  expect(await page.locator(`section[data-app="${ns.name}/${APP}"] table.colors tbody tr`).evaluateAll((rs) => rs.map((r) => r.getAttribute('data-color')))).toEqual([B]);

  expect(problems).toEqual([]);
  expect(dashboardOutput).not.toMatch(/cannot read|cannot list/);
});
