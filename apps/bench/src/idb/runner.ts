/**
 * The Node half of the IndexedDB benchmark: bundles page.ts with Vite into a
 * temp dir, serves it from 127.0.0.1 on an ephemeral port (a secure context,
 * so `navigator.storage` exists), drives Debian's Chromium with Playwright
 * and returns what the page measured.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';
import { build, defaultClientConditions } from 'vite';
import { chromiumLaunchOptions } from '../../../../scripts/chromium.ts';
import type { IdbBenchConfig, IdbBenchResult } from './page.ts';

const pageEntry = fileURLToPath(new URL('./page.ts', import.meta.url));
const rootDir = fileURLToPath(new URL('.', import.meta.url));
const benchTimeoutMs = 5 * 60_000;

async function bundle(entry: string, outDir: string): Promise<void> {
  await build({
    configFile: false,
    logLevel: 'warn',
    root: rootDir,
    resolve: { conditions: ['source', ...defaultClientConditions] },
    build: {
      target: 'es2022',
      outDir,
      emptyOutDir: true,
      minify: true,
      lib: { entry, formats: ['es'], fileName: () => 'bench.js' },
    },
  });
  await writeFile(
    join(outDir, 'index.html'),
    '<!doctype html><meta charset="utf-8"><title>tessera idb bench</title><script type="module" src="/bench.js"></script>\n',
  );
}

/** Serves the two built files; anything else is a 404. */
function serve(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const types: Record<string, string> = { '/index.html': 'text/html', '/bench.js': 'text/javascript' };
  const server = createServer(async (request, response) => {
    const path = request.url === '/' ? '/index.html' : (request.url ?? '');
    const type = types[path];
    if (type === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': type }).end(await readFile(join(dir, path.slice(1))));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

/**
 * Bundles `entry` (a module that sets `globalThis[fn]`), opens it in Chromium
 * and returns what `globalThis[fn](arg)` resolves to.
 */
export async function runInChromium<A, R>(
  entry: string,
  fn: string,
  arg: A,
): Promise<{ result: R; browser: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-idb-bench-'));
  let server: Awaited<ReturnType<typeof serve>> | undefined;
  const browser = await chromium.launch({ headless: true, ...chromiumLaunchOptions() });
  try {
    await bundle(entry, dir);
    server = await serve(dir);
    const page = await browser.newPage();
    page.setDefaultTimeout(benchTimeoutMs);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(server.url);
    await page.waitForFunction((name) => name in globalThis, fn);
    const result = (await page.evaluate(
      ([name, a]) =>
        (globalThis as unknown as Record<string, (a: unknown) => Promise<unknown>>)[name as string]!(a),
      [fn, arg] as const,
    )) as R;
    if (errors.length > 0) throw new Error(`bench page errors: ${errors.join('; ')}`);
    return { result, browser: `Chromium ${browser.version()}` };
  } finally {
    await browser.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs the benchmark page in Chromium and returns its results. */
export async function runIdbBench(
  config: IdbBenchConfig,
): Promise<{ results: IdbBenchResult[]; browser: string }> {
  const { result, browser } = await runInChromium<IdbBenchConfig, IdbBenchResult[]>(
    pageEntry,
    'tesseraIdbBench',
    config,
  );
  return { results: result, browser };
}
