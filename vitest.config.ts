import { playwright } from '@vitest/browser-playwright';
import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';
import { peerProcessCommands } from './packages/peer/src/testing/browser-commands.ts';
import { chromiumLaunchOptions } from './scripts/chromium.ts';

// Workspace packages resolve to their TypeScript sources (the "source" export
// condition), so tests never run against a stale dist/.
const resolveSource = {
  resolve: { conditions: ['source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['source', ...defaultServerConditions], externalConditions: ['source'] } },
};

export default defineConfig({
  test: {
    reporters: ['default', './scripts/summary-reporter.ts'],
    globalSetup: ['./scripts/test-setup.ts'],
    projects: [
      {
        ...resolveSource,
        test: {
          name: 'node',
          environment: 'node',
          include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
          exclude: ['**/*.browser.test.ts', '**/node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        ...resolveSource,
        build: { target: 'es2022' },
        test: {
          name: 'chromium',
          include: ['packages/*/src/**/*.browser.test.ts', 'apps/*/src/**/*.browser.test.ts'],
          testTimeout: 60_000,
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({ launchOptions: chromiumLaunchOptions() }),
            instances: [{ browser: 'chromium' }],
            screenshotFailures: false,
            // Run in Node: start and stop real Node peers (relays) for the browser peers.
            commands: { ...peerProcessCommands },
          },
        },
      },
    ],
  },
});
