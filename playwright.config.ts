import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from './scripts/chromium.ts';

// The multi-peer e2e suite (e2e/) and the example app's test. Run with
// `npm run test:e2e` (part of `npm test`). One worker: every test already runs
// several peer processes and browser contexts, and CI has 2 cores.
export default defineConfig({
  testDir: '.',
  testMatch: ['e2e/**/*.e2e.ts', 'apps/example/src/**/*.e2e.ts'],
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  // Generous: each test starts several processes and pages; a loaded machine is slow, never a timing claim.
  timeout: 240_000,
  outputDir: 'e2e/test-results',
  reporter: [['list'], ['./e2e/summary-reporter.ts']],
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: chromiumLaunchOptions(),
  },
});
