// Checks every screen gets from the accessibility test: the keyboard (Tab until a control has
// focus, never a click), axe-core's rules, nothing wider than a phone, and screenshots at both
// widths.
import { createRequire } from 'node:module';
import type { Locator, Page } from 'playwright-core';
import { screenshot } from './harness';

const axeSource: string = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Presses Tab (or Shift+Tab) until `target` has focus; fails if it is not in the tab order. */
export async function tabTo(
  page: Page,
  target: Locator,
  options: { backwards?: boolean; limit?: number } = {},
): Promise<void> {
  const limit = options.limit ?? 40;
  for (let presses = 0; presses <= limit; presses++) {
    const reached = await target.evaluateAll((elements) => {
      const active = elements.find((element) => element === document.activeElement);
      return active === undefined ? 'no' : active.checkVisibility() ? 'seen' : 'unseen';
    });
    if (reached === 'unseen') throw new Error(`tabTo: ${String(target)} has focus, unseen`);
    if (reached === 'seen') return;
    if (presses < limit) await page.keyboard.press(options.backwards ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(
    `tabTo: ${String(target)} not reached in ${limit} presses; ${await focused(page)}`,
  );
}

/** The focused element, for a message. */
export async function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (element === null || element === document.body) return 'focus on the page itself';
    const name = element.getAttribute('aria-label') ?? element.textContent?.trim().slice(0, 40);
    return `focus on <${element.tagName.toLowerCase()}> "${name ?? ''}"`;
  });
}

export async function hasFocus(target: Locator): Promise<boolean> {
  return target.evaluateAll((elements) =>
    elements.some((element) => element === document.activeElement),
  );
}

/** axe-core's serious and critical violations on the page as it is, one line each. */
export async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: typeof import('axe-core') }).axe;
    const results = await axe.run(document, { resultTypes: ['violations'] });
    return results.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .flatMap((violation) =>
        violation.nodes.map(
          (node) =>
            `${violation.id} (${violation.impact}) at ${node.target.join(' ')}: ${node.failureSummary?.replaceAll('\n', ' ')}`,
        ),
      );
  });
}

/** What is wider than the window: the page itself, or any scrolling box inside it. */
export async function horizontalOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const found: string[] = [];
    const root = document.scrollingElement!;
    if (root.scrollWidth > innerWidth) found.push(`page ${root.scrollWidth}px in ${innerWidth}px`);
    for (const element of document.querySelectorAll<HTMLElement>('body *')) {
      if (!/auto|scroll/.test(getComputedStyle(element).overflowX)) continue;
      if (element.scrollWidth > element.clientWidth + 1) {
        const name = `${element.tagName.toLowerCase()}.${[...element.classList].join('.')}`;
        found.push(`${name} ${element.scrollWidth}px in ${element.clientWidth}px`);
      }
    }
    return found;
  });
}

/** The first control in the tab order (none has a positive tabindex to jump the queue). */
export async function firstInTabOrder(page: Page): Promise<string> {
  return page.evaluate(() => {
    const controls = document.querySelectorAll<HTMLElement>(
      'a[href], button, input, textarea, select, summary, [tabindex]',
    );
    const first = [...controls].find(
      (control) => control.tabIndex >= 0 && !control.matches(':disabled') && !control.inert,
    );
    const jumping = [...controls].filter((control) => control.tabIndex > 0).length;
    if (jumping > 0) return `${jumping} controls with a positive tabindex`;
    return first?.textContent?.trim() ?? 'nothing';
  });
}

export interface ScreenReport {
  screen: string;
  /** The text of the first control a Tab reaches. */
  first: string;
  overflow: string[];
  violations: string[];
}

/**
 * Looks at the screen on show at desktop and phone width (light, and dark on the phone): a
 * screenshot of each, what overflows and what axe finds. Leaves the page at phone width.
 */
export async function checkScreen(page: Page, screen: string): Promise<ScreenReport> {
  const report: ScreenReport = {
    screen,
    first: await firstInTabOrder(page),
    overflow: [],
    violations: [],
  };
  const looks = [
    { size: DESKTOP, scheme: 'light', name: 'desktop' },
    { size: PHONE, scheme: 'dark', name: 'phone-dark' },
    { size: PHONE, scheme: 'light', name: 'phone' },
  ] as const;
  for (const look of looks) {
    await page.setViewportSize(look.size);
    await page.emulateMedia({ colorScheme: look.scheme });
    // The layout follows the new width and scheme, and colours finish their transitions, before
    // anything is measured.
    await page.evaluate(async () => {
      await new Promise((done) => requestAnimationFrame(done));
      const transitions = document.getAnimations().filter((one) => one instanceof CSSTransition);
      const settled = Promise.allSettled(transitions.map((transition) => transition.finished));
      await Promise.race([settled, new Promise((done) => setTimeout(done, 1000))]);
    });
    await screenshot(page, `a11y-${screen}-${look.name}`);
    report.overflow.push(
      ...(await horizontalOverflow(page)).map((line) => `${look.name}: ${line}`),
    );
    report.violations.push(...(await axeViolations(page)).map((line) => `${look.name}: ${line}`));
  }
  return report;
}
