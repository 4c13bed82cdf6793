/**
 * A real browser for the portal tests: Debian's chromium driven by playwright-core, and the checks
 * every page gets (nothing wider than the viewport).
 */
import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { type Browser, chromium, type Page } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

// What the tests' page functions read in the browser (the project's TypeScript has no DOM library).
export interface PageElement {
  readonly tagName: string;
  readonly className: string;
  readonly parentElement: PageElement | null;
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { left: number; right: number; width: number };
}
declare global {
  const window: { readonly innerWidth: number; readonly injected?: boolean };
  const document: {
    readonly body: PageElement;
    readonly documentElement: { readonly scrollWidth: number };
    readonly activeElement: PageElement | null;
    querySelector(selector: string): PageElement | null;
    querySelectorAll(selector: string): Iterable<PageElement>;
  };
  function getComputedStyle(element: PageElement): { readonly overflowX: string };
}

/** Skips (loudly) when chromium is missing; under CI=true that is a failure instead. */
export async function requireChromium(): Promise<string | false> {
  try {
    await access(CHROMIUM, constants.X_OK);
    return false;
  } catch {
    const how = 'install it with: apt-get install -y chromium (or set CHROMIUM_BIN)';
    if (process.env.CI === 'true') throw new Error(`chromium is not at ${CHROMIUM} and CI=true: ${how}`);
    console.warn(`SKIP portal browser tests: no chromium at ${CHROMIUM} — ${how}`);
    return `no chromium at ${CHROMIUM}`;
  }
}

/** Starts chromium headless, with a fresh temporary profile and no background traffic. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Nothing on the page is wider than the viewport (wide parts scroll inside their own box). */
export async function assertFits(page: Page, what: string): Promise<void> {
  const { scrollWidth, innerWidth, widest } = await page.evaluate(() => {
    const viewport = window.innerWidth;
    // The element sticking out furthest, to say what overflowed when something does.
    let found = '';
    let right = viewport;
    for (const element of document.querySelectorAll('body *')) {
      const box = element.getBoundingClientRect();
      if (box.width > 0 && box.right > right + 0.5) {
        let clipped = false;
        for (let up = element.parentElement; up && up !== document.body; up = up.parentElement) {
          const overflow = getComputedStyle(up).overflowX;
          if (overflow !== 'visible' && up.getBoundingClientRect().right <= viewport + 0.5) {
            clipped = true;
            break;
          }
        }
        if (!clipped) {
          right = box.right;
          found = `${element.tagName.toLowerCase()}.${element.className} (${Math.round(box.right)} px)`;
        }
      }
    }
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth: viewport, widest: found };
  });
  assert.ok(
    scrollWidth <= innerWidth,
    `${what}: the page is ${scrollWidth} px wide at ${innerWidth} px (${widest})`,
  );
}
