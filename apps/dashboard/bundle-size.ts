/**
 * A Vite plugin that prints the gzipped size of everything the build wrote,
 * so the bundle budget is seen on every build (idb's size report is the model).
 */
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

/** The goal from issue 8: 300 kB gzipped (kB = 1000 bytes, as Vite prints them). */
export const BUNDLE_GZIP_BYTES_GOAL = 300_000;

/** Prints `dashboard bundle: N kB gzipped` after the bundle is written. */
export function bundleSize(): Plugin {
  return {
    name: 'tessera-bundle-size',
    apply: 'build',
    writeBundle(_options, bundle) {
      let gzipBytes = 0;
      let rawBytes = 0;
      const byKind = new Map<string, number>();
      for (const [fileName, output] of Object.entries(bundle)) {
        const source = output.type === 'chunk' ? output.code : output.source;
        const bytes = typeof source === 'string' ? new TextEncoder().encode(source) : source;
        if (fileName.endsWith('.map')) continue;
        const gzipped = gzipSync(bytes, { level: 9 }).byteLength;
        gzipBytes += gzipped;
        rawBytes += bytes.byteLength;
        const kind = fileName.slice(fileName.lastIndexOf('.') + 1);
        byKind.set(kind, (byKind.get(kind) ?? 0) + gzipped);
      }
      const kB = (n: number) => (n / 1000).toFixed(1);
      const parts = [...byKind].map(([kind, n]) => `${kind} ${kB(n)} kB`).join(', ');
      const verdict = gzipBytes <= BUNDLE_GZIP_BYTES_GOAL ? 'within' : 'OVER';
      console.log(
        `dashboard bundle: ${kB(gzipBytes)} kB gzipped (${parts}; ${kB(rawBytes)} kB raw), ` +
          `${verdict} the ${kB(BUNDLE_GZIP_BYTES_GOAL)} kB goal`,
      );
    },
  };
}
