// The dashboard page in real headless Chromium, against the server with a fake collector: apps,
// swatches in their colors, live updates, the chart, the filter, the theme toggle, keyboard use,
// 50 apps, and nothing in the console.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { repoRoot } from '../../../scripts/cluster/paths.js';
import { startDashboard, type RunningDashboard } from '../../../webhook/src/status/dashboard/start.js';
import { launchChromium, pageProblems, rgbOf } from '../../support/chromium.js';
import { NS, OLD, PENDING, SERVING, fakeReport, type FakeState } from './dashboard-fixture.js';

// The callbacks given to page.evaluate run in the browser; the DOM names they use (no DOM lib here).
interface DomNode {
  id: string;
  tagName: string;
  className: string;
  textContent: string | null;
  getAttribute(name: string): string | null;
}
declare const document: { body: DomNode; activeElement: DomNode | null; querySelector(s: string): DomNode | null; querySelectorAll(s: string): { length: number } };
declare const window: { scrollTo(x: number, y: number): void };
declare function getComputedStyle(e: unknown): { backgroundColor: string; outlineStyle: string };

const state: FakeState = { serving: 2, old: 3 };
let dashboard: RunningDashboard;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];
const web = `section[data-app="${NS}/web"]`;
const row = (color: string) => `${web} table.colors tr[data-color="${color}"]`;

beforeAll(async () => {
  dashboard = await startDashboard({ collect: async () => fakeReport(new Date(), state), port: 0, bind: '127.0.0.1', intervalMs: 250, scope: `namespace ${NS}` });
  browser = await launchChromium('the dashboard browser test (test/unit/status/dashboard-browser.test.ts)');
  context = await browser.newContext({ colorScheme: 'dark', viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  problems = pageProblems(page);
  await page.goto(dashboard.url);
  await page.waitForSelector(row(OLD));
}, 600_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await dashboard?.close();
});

test('shows every app with its Services and colors, each swatch painted in its own color', async () => {
  expect(await page.locator('section.app').evaluateAll((s) => s.map((x) => x.getAttribute('data-app')))).toEqual([`${NS}/api`, `${NS}/web`]);
  expect(await page.locator(`${web} [data-service="web"]`).innerText()).toMatch(new RegExp(`^Service web →\\s+${SERVING} · pending ${PENDING}$`));
  for (const color of [SERVING, PENDING, OLD]) {
    const swatch = page.locator(`${row(color)} .swatch`);
    expect(await swatch.evaluate((e) => getComputedStyle(e).backgroundColor)).toBe(rgbOf(color));
    expect(await swatch.getAttribute('aria-label')).toBe(`color #${color}`);
  }
  expect(await page.locator(`${web} table.colors tbody tr`).evaluateAll((rs) => rs.map((r) => `${r.getAttribute('data-color')}:${r.getAttribute('data-state')}`))).toEqual([
    `${SERVING}:serving`,
    `${PENDING}:pending`,
    `${OLD}:draining`,
  ]);
  expect(await page.locator(`${row(PENDING)} td.ready`).innerText()).toBe('0/2');
  expect(await page.locator(`${row(OLD)} td.forecast`).innerText()).toMatch(/^unknown \(/);
  expect(await page.locator(`${row(OLD)} td`).nth(6).innerText()).toMatch(/\(47h left\)$/);
  // Unknown counts say why.
  expect(await page.locator(`section[data-app="${NS}/api"] td.connections`).innerText()).toMatch(/^unknown/);
  expect(await page.locator(`section[data-app="${NS}/api"] td.connections .unknown`).getAttribute('title')).toMatch(/timeout after 2000 ms/);
  expect(await page.locator('#states dt').allTextContents()).toEqual(['serving', 'pending', 'new', 'draining', 'drained', 'kept', 'deleting']);
});

test('follows the server without a reload: counts change, a deleted color goes, the chart has a line per color', async () => {
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === '3', `${row(OLD)} td.connections`);
  state.old = 1;
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === '1', `${row(OLD)} td.connections`);
  const figure = page.locator(`${web} figure.chart`);
  await figure.locator('canvas').waitFor();
  expect(await figure.getAttribute('role')).toBe('img');
  await page.waitForFunction((sel) => /0a3d62 1 now/.test(document.querySelector(sel)?.getAttribute('aria-label') ?? ''), `${web} figure.chart`);
  expect(await figure.getAttribute('aria-label')).toMatch(new RegExp(`^Chart of connections per color of ${NS}/web, last 15m: .*${SERVING} 2 now`));
  state.old = undefined;
  await page.locator(row(OLD)).waitFor({ state: 'detached' });
  expect(await page.locator(`${web} table.colors tbody tr`).count()).toBe(2);
});

test('the window picker is a group of toggle buttons that redraws the charts', async () => {
  const all = page.locator('#windows button[data-window="all"]');
  await all.click();
  expect(await all.getAttribute('aria-pressed')).toBe('true');
  expect(await page.locator('#windows button[aria-pressed="true"]').count()).toBe(1);
  await page.waitForFunction((sel) => /since the dashboard started/.test(document.querySelector(sel)?.textContent ?? ''), `${web} figcaption`);
  await page.locator('#windows button[data-window="15m"]').click();
});

test('dark by the system preference, light by the toggle, and the choice is kept', async () => {
  const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(await page.getAttribute('html', 'data-theme')).toBe('dark');
  const dark = await bg();
  const toggle = page.locator('#theme');
  expect(await toggle.getAttribute('aria-label')).toBe('Switch to the light theme');
  await toggle.click();
  expect(await page.getAttribute('html', 'data-theme')).toBe('light');
  expect(await bg()).not.toBe(dark);
  expect(await bg()).toBe('rgb(247, 247, 249)');
  expect(await toggle.getAttribute('aria-label')).toBe('Switch to the dark theme');
  await page.reload();
  await page.waitForSelector(`${web} table.colors tbody tr`);
  expect(await page.getAttribute('html', 'data-theme')).toBe('light');
});

test('works from the keyboard: Tab reaches the controls and the apps, Enter and Space fold an app, focus shows', async () => {
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  const focused = () => page.evaluate(() => {
    const a = document.activeElement;
    return a ? `${a.tagName.toLowerCase()}${a.id ? `#${a.id}` : a.className ? `.${a.className.split(' ')[0]}` : ''}` : '';
  });
  const order: string[] = [];
  for (let i = 0; i < 14; i++) {
    await page.keyboard.press('Tab');
    order.push(await focused());
  }
  expect(order.slice(0, 2)).toEqual(['a.skip', 'input#filter']);
  expect(order.slice(2, 7)).toEqual(['button', 'button', 'button', 'button', 'button']); // the window picker
  expect(order.slice(7, 11)).toEqual(['button#expand-all', 'button#collapse-all', 'button#theme', `button#app-${NS}_api-toggle`]);
  // Walk on to the web app's fold button.
  for (let i = 0; i < 40 && (await page.evaluate(() => document.activeElement?.id)) !== 'app-shop_web-toggle'; i++) await page.keyboard.press('Tab');
  const toggle = page.locator('#app-shop_web-toggle');
  expect(await toggle.evaluate((e) => e === document.activeElement)).toBe(true);
  expect(await toggle.evaluate((e) => getComputedStyle(e).outlineStyle)).toBe('solid');
  expect(await toggle.getAttribute('aria-expanded')).toBe('true');
  await page.keyboard.press('Enter');
  expect(await toggle.getAttribute('aria-expanded')).toBe('false');
  expect(await page.locator('#app-shop_web-body').isHidden()).toBe(true);
  await page.waitForTimeout(600); // two updates later the fold button still has focus and the app stays folded
  expect(await toggle.evaluate((e) => e === document.activeElement)).toBe(true);
  expect(await toggle.getAttribute('aria-expanded')).toBe('false');
  await page.keyboard.press('Space');
  expect(await toggle.getAttribute('aria-expanded')).toBe('true');
  await page.locator(`${web} canvas`).waitFor();
  const shot = path.join(repoRoot, 'dist', 'dashboard-unit.png');
  mkdirSync(path.dirname(shot), { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: shot, fullPage: true });
});

test('the filter narrows 50 apps, which start folded', async () => {
  state.extraApps = 48;
  await page.waitForFunction(() => document.querySelectorAll('section.app').length === 50);
  expect(await page.locator('#shown').innerText()).toBe('50 apps');
  expect(await page.locator(`section[data-app="${NS}/app-07"] .toggle`).getAttribute('aria-expanded')).toBe('false');
  expect(await page.locator(`section[data-app="${NS}/app-07"] canvas`).count()).toBe(0);
  await page.locator('#filter').fill('app-0');
  expect(await page.locator('section.app:visible').count()).toBe(9);
  expect(await page.locator('#shown').innerText()).toBe('showing 9 of 50 apps');
  await page.locator('#filter').fill('draining');
  await page.locator('#filter').fill('serving api');
  expect(await page.locator('section.app:visible').evaluateAll((s) => s.map((x) => x.getAttribute('data-app')))).toEqual([`${NS}/api`]);
  await page.locator('#filter').fill('');
  await page.locator('#collapse-all').click();
  expect(await page.locator('.toggle[aria-expanded="true"]').count()).toBe(0);
  await page.locator(`section[data-app="${NS}/web"] .toggle`).click();
  expect(await page.locator(`${web} canvas`).count()).toBe(1);
});

test('nothing went wrong in the browser console (CSP violations included)', () => {
  expect(problems).toEqual([]);
});
