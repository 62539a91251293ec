import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig } from 'vite';
import { bundleSize, packageChunk } from './bundle-size.ts';
import { peersFile } from './peers-file.ts';

// The code is written and type-checked against React's API, and runs on
// preact/compat: react-dom alone was 65 kB of the 333 kB gzipped bundle,
// preact/compat is about a sixth of that, and that cut brings the bundle
// under its 300 kB goal. Dev and build use the same aliases, so what is
// tested is what ships.
const preactCompat = [
  { find: /^react-dom\/client$/, replacement: 'preact/compat/client' },
  { find: /^react-dom$/, replacement: 'preact/compat' },
  { find: /^react\/jsx-(dev-)?runtime$/, replacement: 'preact/jsx-runtime' },
  { find: /^react$/, replacement: 'preact/compat' },
];

// `TESSERA_BUNDLE_BREAKDOWN=1` splits the build into one chunk per package and lists them by gzipped size.
const breakdown = process.env.TESSERA_BUNDLE_BREAKDOWN === '1';

export default defineConfig({
  root: dirname(fileURLToPath(import.meta.url)),
  plugins: [bundleSize({ breakdown }), peersFile()],
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  // 'source' makes workspace packages resolve to their TypeScript sources and
  // 'browser' makes @tessera/peer pick its browser entry (no TCP, no fs).
  resolve: { conditions: ['source', 'browser', ...defaultClientConditions], alias: preactCompat },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
    ...(breakdown ? { rollupOptions: { output: { manualChunks: packageChunk } } } : {}),
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
