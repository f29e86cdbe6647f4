// A real headless Chromium (Debian's `chromium` package) driven by playwright-core, with a fresh
// profile per launch. Screenshots go to test-results/console/ (not committed) for a person to look at.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = join('test-results', 'console');

/** Flags for a headless run in a container as root (the benchmark of the live floor uses them too). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Chromium {
  context: BrowserContext;
  page: Page;
  /** Content-Security-Policy violations and script errors the pages reported. */
  problems: string[];
  shot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** `args`: flags on top of CHROMIUM_FLAGS (a host mapped to loopback, a test certificate accepted). */
export async function launchChromium(o: { args?: string[] } = {}): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'cc-chromium-'));
  mkdirSync(SCREENSHOTS, { recursive: true });
  // playwright passes the profile as --user-data-dir itself (a persistent context is the only way
  // to choose the directory).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...(o.args ?? [])],
    viewport: { width: 1280, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  // Script errors and CSP violations; a refused request (401, 403 and 404 are part of the tests)
  // is logged by Chromium as a console error too, and is not a problem of the page.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  return {
    context,
    page,
    problems,
    shot: async (name) => {
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
