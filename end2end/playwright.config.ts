import { defineConfig } from '@playwright/test';
import * as path from 'node:path';

// The Makefile builds the server and the site, prepares an empty data folder
// and passes these in; the defaults fit a plain `cargo leptos build`.
const port = Number(process.env.E2E_PORT ?? 3417);
const root = path.resolve(__dirname, '..');
export const serverBin = process.env.SERVER_BIN ?? path.join(root, 'target/debug/server');
export const databaseUrl =
  process.env.E2E_DATABASE_URL ?? `sqlite://${path.join(__dirname, '.run/tabletalk.db')}`;
/** Where the server accepts SQLite target databases (tests put files here). */
export const sqliteDir = path.join(__dirname, '.run/databases');
export const botUsername = 'tabletalk_e2e_bot';
/** The stand-in for Gemini (stub-gemini.mjs) the Ask page's questions go to. */
const llmPort = Number(process.env.E2E_LLM_PORT ?? 3418);
/** What the server and the operator commands run with. */
export const serverEnv = {
  DATABASE_URL: databaseUrl,
  TABLETALK_SQLITE_DIR: sqliteDir,
  TELEGRAM_BOT_USERNAME: botUsername,
  GEMINI_API_KEY: 'e2e-stub-key',
  GEMINI_API_URL: `http://127.0.0.1:${llmPort}`,
  RUST_LOG: 'warn',
};

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  outputDir: './test-results',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      // `npx playwright install` cannot download browsers here: use Debian's Chromium.
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: [
    {
      command: `node ${path.join(__dirname, 'stub-gemini.mjs')} ${llmPort}`,
      port: llmPort,
      reuseExistingServer: false,
      timeout: 10_000,
      stdout: 'pipe',
      stderr: 'pipe',
    },
    {
      command: serverBin,
      url: `http://127.0.0.1:${port}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
      env: {
        ...serverEnv,
        LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
        LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? path.join(root, 'target/site'),
        LEPTOS_OUTPUT_NAME: 'tabletalk',
      },
    },
  ],
});
