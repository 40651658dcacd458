import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, Page, test as base, TestInfo } from '@playwright/test';
import { serverBin, serverEnv, sqliteDir } from '../playwright.config';

/**
 * Every journey runs under the server's Content-Security-Policy and fails on
 * any violation: the page reports each `securitypolicyviolation` event on the
 * console, and Chromium's own "Refused to ..." messages are caught as well.
 */
export const test = base.extend<{ noCspViolations: void }>({
  noCspViolations: [
    async ({ page }, use) => {
      const violations: string[] = [];
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => {
          console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
        });
      });
      page.on('console', (message) => {
        const text = message.text();
        if (text.startsWith('CSP violation') || text.includes('Content Security Policy')) violations.push(text);
      });
      await use();
      expect(violations, 'Content-Security-Policy violations').toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

/** Runs an operator command of the real server binary against the test store. */
export function server(args: string[], input = ''): string {
  return execFileSync(serverBin, args, {
    input,
    env: { ...process.env, ...serverEnv },
    stdio: ['pipe', 'pipe', 'inherit'],
  }).toString();
}

function field(output: string, name: string): string {
  const line = output.split('\n').find((l) => l.trim().startsWith(`${name}: `));
  if (!line) throw new Error(`no ${name} in: ${output}`);
  return line.trim().slice(name.length + 2);
}

/** A dashboard account made for one test through the operator CLI (`server create-user`). */
export function createUser(): { username: string; password: string } {
  const username = `e2e_${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  server(['create-user', username], `${password}\n`);
  return { username, password };
}

export interface Demo {
  username: string;
  password: string;
  orgId: string;
}

/**
 * The demo organization (owner, members, a SQLite database, 90 days of usage),
 * through the services: seeded once per run (a retried worker reuses it).
 */
export function seedDemo(): Demo {
  const saved = path.join(path.dirname(sqliteDir), 'demo.json');
  if (fs.existsSync(saved)) return JSON.parse(fs.readFileSync(saved, 'utf8')) as Demo;
  const out = server(['seed-demo']);
  const demo = { username: field(out, 'username'), password: field(out, 'password'), orgId: field(out, 'org_id') };
  fs.writeFileSync(saved, JSON.stringify(demo));
  return demo;
}

/** A new member of an organization, through `server add-member`. */
export function addMember(orgId: string, userId: number, name: string): { username: string; password: string } {
  const out = server(['add-member', orgId, String(userId), '--name', name]);
  return { username: field(out, 'username'), password: field(out, 'password') };
}

/** A new organization with its owner, through `server create-org`. */
export function createOrg(name: string, ownerId: number, ownerName: string): Demo {
  const out = server(['create-org', name, '--owner', String(ownerId), '--owner-name', ownerName]);
  return { username: field(out, 'username'), password: field(out, 'password'), orgId: field(out, 'org_id') };
}

/** A copy of the demo sales database under a new name in an organization's folder (the demo's by default), for adding as a target. */
export function copySalesDatabase(demoOrgId: string, name: string, toOrgId = demoOrgId): void {
  fs.mkdirSync(`${sqliteDir}/${toOrgId}`, { recursive: true });
  fs.copyFileSync(`${sqliteDir}/${demoOrgId}/demo-sales.db`, `${sqliteDir}/${toOrgId}/${name}`);
}

export async function signIn(page: Page, user: { username: string; password: string }): Promise<void> {
  await page.goto('/login');
  const button = page.getByRole('button', { name: 'Sign in' });
  await expect(button).toBeEnabled();
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await button.click();
  await expect(page).toHaveURL(/\/$/);
}

/**
 * Elements that stick out of their card, stat, table frame or header at the
 * current width (and frames that scroll sideways to hide it). Every details
 * element is opened first, so the tables behind "Show the table" are
 * measured too. A question's result table (`.table-wrap.scrolls`) is the one
 * frame allowed to scroll: its columns are whatever the query chose.
 */
export async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    document.querySelectorAll('details').forEach((d) => ((d as HTMLDetailsElement).open = true));
    const describe = (el: Element) => {
      const id = el.getAttribute('data-testid');
      const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
      return `${el.tagName.toLowerCase()}${id ? `[data-testid=${id}]` : ''}${cls} "${(el.textContent ?? '').trim().slice(0, 40)}"`;
    };
    const problems: string[] = [];
    const frames = document.querySelectorAll('.card, .stat, .table-wrap:not(.scrolls), header.topbar, .content');
    for (const frame of Array.from(frames)) {
      const box = frame.getBoundingClientRect();
      if (box.width === 0) continue;
      if (frame.scrollWidth > frame.clientWidth + 1) {
        problems.push(`${describe(frame)} scrolls sideways (${frame.scrollWidth} > ${frame.clientWidth})`);
      }
      // Visually hidden on purpose: screen-reader text, a stacked table's clipped header row.
      const hidden = (el: Element) => {
        for (let e: Element | null = el; e && e !== frame; e = e.parentElement) {
          const clip = getComputedStyle(e).clip;
          if (e.classList.contains('sr-only') || (clip && clip !== 'auto')) return true;
        }
        return false;
      };
      for (const el of Array.from(frame.querySelectorAll('*'))) {
        if (el.closest('.chart, .table-wrap.scrolls') || hidden(el)) continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        if (r.right > box.right + 1 || r.left < box.left - 1) {
          problems.push(`${describe(el)} sticks out of ${describe(frame)} (${Math.round(r.left)}..${Math.round(r.right)} in ${Math.round(box.left)}..${Math.round(box.right)})`);
        }
      }
    }
    return problems.slice(0, 10);
  });
}

/**
 * Full-page screenshots at desktop and phone width, kept with the test's
 * results; at each width nothing may overflow its container (see
 * [overflowing]) and the page may not scroll sideways.
 */
export async function screenshots(page: Page, info: TestInfo, name: string): Promise<void> {
  const size = page.viewportSize() ?? { width: 1280, height: 800 };
  expect(await overflowing(page), `${name} at ${size.width} px: nothing overflows its container`).toEqual([]);
  await page.screenshot({ path: info.outputPath(`${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300); // charts follow the window size
  expect(await overflowing(page), `${name} at 390 px: nothing overflows its container`).toEqual([]);
  await page.screenshot({ path: info.outputPath(`${name}-390.png`), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${name} fits 390 px without sideways scrolling`).toBeLessThanOrEqual(1);
  await page.setViewportSize(size);
  await page.waitForTimeout(300);
}
