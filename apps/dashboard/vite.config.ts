import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';
import { bundleSize } from './bundle-size.ts';
import { peersFile } from './peers-file.ts';

export default defineConfig({
  root: dirname(fileURLToPath(import.meta.url)),
  plugins: [react(), bundleSize(), peersFile()],
  // 'source' makes workspace packages resolve to their TypeScript sources and
  // 'browser' makes @tessera/peer pick its browser entry (no TCP, no fs).
  resolve: { conditions: ['source', 'browser', ...defaultClientConditions] },
  build: { target: 'es2022', chunkSizeWarningLimit: 1500 },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
