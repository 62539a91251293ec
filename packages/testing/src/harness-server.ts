/**
 * Builds the browser harness page (the real browser entry of @tessera/peer,
 * bundled by Vite from sources) into a temp dir and serves it on an
 * ephemeral port. One build per Playwright worker.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, defaultClientConditions, type PreviewServer, preview } from 'vite';

const HARNESS_DIR = fileURLToPath(new URL('./harness/', import.meta.url));

/** A served harness build. */
export interface HarnessServer {
  /** The page to open, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Builds and serves the harness; `close()` stops the server and removes the build. */
export async function startHarnessServer(): Promise<HarnessServer> {
  const outDir = await mkdtemp(join(tmpdir(), 'tessera-harness-'));
  const config = {
    root: HARNESS_DIR,
    configFile: false as const,
    logLevel: 'warn' as const,
    // 'source': workspace packages from their TypeScript; 'browser': @tessera/peer's browser entry.
    resolve: { conditions: ['source', 'browser', ...defaultClientConditions] },
  };
  // Playwright and Vitest may set NODE_ENV=test; the bundle should be what an app ships.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      ...config,
      build: { outDir, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096 },
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  let server: PreviewServer;
  try {
    server = await preview({
      ...config,
      build: { outDir },
      preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
    });
  } catch (err) {
    await rm(outDir, { recursive: true, force: true });
    throw err;
  }
  const address = server.httpServer.address();
  if (address === null || typeof address === 'string') throw new Error('harness server has no port');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    async close() {
      await server.close();
      await rm(outDir, { recursive: true, force: true });
    },
  };
}
