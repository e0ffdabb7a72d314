// Headless Chromium for the dashboard's browser tests: Debian's chromium (installed with apt-get
// when running as root, else named in the error), driven by playwright-core.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureCommands } from '../../scripts/cluster/debian-packages.js';

/** The browser binary: RAINBOW_CHROMIUM, else `chromium` on PATH (Debian package chromium). */
export function chromiumPath(purpose: string): string {
  const fromEnv = process.env.RAINBOW_CHROMIUM;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`${purpose}: RAINBOW_CHROMIUM=${fromEnv} does not exist; point it at a Chromium binary or unset it to use Debian's chromium`);
    return fromEnv;
  }
  ensureCommands([{ command: 'chromium', pkg: 'chromium' }], purpose);
  return spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();
}

export async function launchChromium(purpose: string): Promise<Browser> {
  const executablePath = chromiumPath(purpose);
  try {
    return await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  } catch (err) {
    throw new Error(`${purpose}: ${executablePath} did not start as headless Chromium: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Everything that would show in the browser's console as a problem: console errors (a CSP
 * violation is one), uncaught exceptions, failed requests and HTTP errors. Read it before closing
 * the page: closing aborts the event stream.
 */
export function pageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) => {
    // A navigation aborts the event stream; the console says nothing of that.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? '?'})`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return problems;
}

/** `#rrggbb` as getComputedStyle reports it. */
export function rgbOf(css: string): string {
  const n = Number.parseInt(css.replace('#', ''), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
}
