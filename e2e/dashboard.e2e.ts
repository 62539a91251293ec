/** The dashboard, itself a browser peer, shows a Node peer's death (SIGKILL) while the others stay up. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, waitFor } from '@tessera/testing';
import { build, preview } from 'vite';

test.use({ tesseraOptions: { nodes: 2, browsers: 0 } });
test.setTimeout(240_000);

const dashboardDir = fileURLToPath(new URL('../apps/dashboard/', import.meta.url));

test("the dashboard shows a killed peer's death", async ({ tessera, page }) => {
  const outDir = await mkdtemp(join(tmpdir(), 'tessera-dashboard-e2e-'));
  const configFile = join(dashboardDir, 'vite.config.ts');
  // Playwright may set NODE_ENV=test, which would bundle React's development build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  const server = await preview({
    configFile,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  try {
    const address = server.httpServer.address();
    if (address === null || typeof address === 'string') throw new Error('no preview port');
    const [alive, doomed] = tessera.nodes;
    if (alive === undefined || doomed === undefined) throw new Error('two Node peers expected');
    const query = new URLSearchParams({ cluster: tessera.cluster, peer: alive.wsAddress });
    for (const [field, value] of Object.entries(tessera.options.timing)) query.set(field, String(value));
    await page.goto(`http://127.0.0.1:${address.port}/?${query}`);

    const statuses = (): Promise<Record<string, string | null>> =>
      page.$$eval('[data-testid="peers-table"] tbody tr[data-peer]', (rows) =>
        Object.fromEntries(
          rows.map((row) => [row.getAttribute('data-peer'), row.getAttribute('data-status')]),
        ),
      );
    let last: Record<string, string | null> = {};
    const waitForRows = (doomedStatus: string, what: string) =>
      waitFor(
        async () => {
          last = await statuses();
          return last[doomed.id] === doomedStatus && last[alive.id] === 'up';
        },
        { timeoutMs: 60_000, what },
      ).catch((err: Error) => {
        throw new Error(`${err.message}; last rows: ${JSON.stringify(last)}`);
      });

    await waitForRows('up', 'both Node peers shown up');
    await tessera.kill(doomed);
    // The tab's own failure detector may flap a live row under load: wait for the whole picture at once.
    await waitForRows('down', 'the killed peer shown down and the other up');
    expect(last[doomed.id]).toBe('down');
    expect(last[alive.id]).toBe('up');
  } finally {
    await server.close();
    await rm(outDir, { recursive: true, force: true });
  }
});
