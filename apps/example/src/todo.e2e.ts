/**
 * The example app in two browser tabs (separate contexts, so separate
 * IndexedDB and separate peers) against three Node peers from the
 * @tessera/testing fixture: an item added in one tab appears in the other,
 * a tick made there comes back, and a Node peer reads the same list.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { expect, test } from '@tessera/testing';
import { build, type PreviewServer, preview } from 'vite';
import { listKey } from './todos.ts';

test.use({ tesseraOptions: { nodes: 3, browsers: 0 } });
test.setTimeout(240_000);

const appDir = fileURLToPath(new URL('../', import.meta.url));

async function serveApp(outDir: string): Promise<PreviewServer> {
  const configFile = join(appDir, 'vite.config.ts');
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  return preview({
    configFile,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
}

const items = (page: Page) =>
  page.$$eval('[data-testid="items"] li', (lis) =>
    lis.map((li) => ({ title: li.textContent?.trim(), done: li.getAttribute('data-done') === 'true' })),
  );

/** What a tab shows, error line included: printed when a wait gives up. */
const shown = async (page: Page) => ({
  items: await items(page),
  error: await page.getByTestId('error').textContent(),
});

test('two tabs share a to-do list through Tessera', async ({ tessera, browser }) => {
  const outDir = await mkdtemp(join(tmpdir(), 'tessera-example-'));
  const server = await serveApp(outDir);
  const contexts = [await browser.newContext(), await browser.newContext()];
  try {
    const address = server.httpServer.address();
    if (address === null || typeof address === 'string') throw new Error('no preview port');
    const list = crypto.randomUUID();
    const query = new URLSearchParams({ cluster: tessera.cluster, list, owners: tessera.owners.join(',') });
    for (const node of tessera.nodes) query.append('peer', node.wsAddress);
    const [one, two] = await Promise.all(contexts.map((context) => context.newPage()));
    if (one === undefined || two === undefined) throw new Error('two pages expected');
    for (const [name, page] of [
      ['one', one],
      ['two', two],
    ] as const) {
      page.on('pageerror', (err) => process.stderr.write(`[tab ${name}] ${err.message}\n`));
      page.on('console', (message) => {
        if (message.type() === 'error') process.stderr.write(`[tab ${name}] ${message.text()}\n`);
      });
    }
    // On a wait that gives up, both tabs and every Node owner are shown next to the error.
    const explain = async (err: Error): Promise<never> => {
      const nodes = await Promise.all(
        tessera.nodes.map((node) =>
          node.get(listKey(list), { consistency: 'one' }).catch((e: Error) => e.message),
        ),
      );
      throw new Error(
        `${err.message}\ntab one: ${JSON.stringify(await shown(one))}\ntab two: ${JSON.stringify(await shown(two))}\nnodes (one): ${JSON.stringify(nodes)}`,
        { cause: err },
      );
    };
    for (const page of [one, two]) await page.goto(`http://127.0.0.1:${address.port}/?${query}`);
    for (const page of [one, two])
      await expect(page.locator('body[data-ready="true"]')).toBeAttached({ timeout: 60_000 });
    expect(await one.getAttribute('[data-testid="status"]', 'data-peer')).not.toBe(
      await two.getAttribute('[data-testid="status"]', 'data-peer'),
    );

    // Bad input is refused in the page and writes nothing.
    await one.fill('[data-testid="title"]', '   ');
    await one.click('[data-testid="add"]');
    await expect(one.getByTestId('error')).toContainText('RangeError');

    await one.fill('[data-testid="title"]', 'buy milk');
    await one.click('[data-testid="add"]');
    await expect
      .poll(() => items(two), { timeout: 60_000 })
      .toEqual([{ title: 'buy milk', done: false }])
      .catch(explain);

    await two.getByRole('checkbox', { name: 'buy milk' }).check();
    await expect
      .poll(() => items(one), { timeout: 60_000 })
      .toEqual([{ title: 'buy milk', done: true }])
      .catch(explain);

    // The list is ordinary Tessera data: a Node peer reads it with quorum.
    const read = await tessera.nodes[0]!.get(listKey(list), { consistency: 'quorum' });
    expect(read.found).toBe(true);
    expect(read.value).toMatchObject([{ title: 'buy milk', done: true }]);
  } finally {
    await Promise.all(contexts.map((context) => context.close()));
    await server.close();
    await rm(outDir, { recursive: true, force: true });
  }
});
