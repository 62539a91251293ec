/**
 * The Playwright fixture: `test` gives each test a `tessera` cluster, started
 * before the test and torn down after it (every process killed, every temp
 * dir removed). The harness page is built once per worker.
 */
import { test as base } from '@playwright/test';
import { type ClusterOptions, TesseraCluster } from './cluster.ts';
import { type HarnessServer, startHarnessServer } from './harness-server.ts';

/** Per-test fixtures. */
export interface TesseraFixtures {
  /** What the cluster starts with; set with `test.use({ tesseraOptions: { … } })`. */
  tesseraOptions: Partial<ClusterOptions>;
  /** The running cluster. */
  tessera: TesseraCluster;
}

/** Per-worker fixtures. */
export interface TesseraWorkerFixtures {
  /** The served harness page browser peers run in. */
  tesseraHarness: HarnessServer;
}

export const test = base.extend<TesseraFixtures, TesseraWorkerFixtures>({
  tesseraOptions: [{}, { option: true }],
  tesseraHarness: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright fixtures take their dependencies by destructuring.
    async ({}, use) => {
      const server = await startHarnessServer();
      await use(server);
      await server.close();
    },
    { scope: 'worker', timeout: 180_000 },
  ],
  tessera: async ({ browser, tesseraHarness, tesseraOptions }, use) => {
    const cluster = new TesseraCluster(browser, tesseraHarness.url, tesseraOptions);
    try {
      await cluster.start();
      await use(cluster);
    } finally {
      await cluster.close();
    }
  },
});

export { expect } from '@playwright/test';
