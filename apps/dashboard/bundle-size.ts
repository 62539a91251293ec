/**
 * A Vite plugin that prints the gzipped size of everything the build wrote,
 * so the bundle budget is seen on every build (idb's size report is the model).
 */
import { gzipSync } from 'node:zlib';
import type { Plugin, Rollup } from 'vite';

type OutputBundle = Rollup.OutputBundle;

/** The goal from issue 8: 300 kB gzipped (kB = 1000 bytes, as Vite prints them). */
export const BUNDLE_GZIP_BYTES_GOAL = 300_000;

/**
 * For `TESSERA_BUNDLE_BREAKDOWN=1` builds: one chunk per npm package or
 * workspace package, so the size report says what dominates.
 */
export function packageChunk(id: string): string | undefined {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(id);
  if (pkg) return `pkg-${(pkg[1] as string).replace('/', '__')}`;
  const workspace = /\/(?:packages|apps)\/([^/]+)\//.exec(id);
  return workspace ? `ws-${workspace[1]}` : undefined;
}

const kB = (n: number) => (n / 1000).toFixed(1);
const bytesOf = (source: string | Uint8Array) =>
  typeof source === 'string' ? new TextEncoder().encode(source) : source;

/** Files the page loads before any lazy chunk: the HTML, what it links, and their static imports. */
function initialFiles(bundle: OutputBundle): Set<string> {
  const initial = new Set<string>();
  const visit = (fileName: string) => {
    const output = bundle[fileName];
    if (output === undefined || initial.has(fileName)) return;
    initial.add(fileName);
    if (output.type === 'chunk') for (const imported of output.imports) visit(imported);
  };
  for (const [fileName, output] of Object.entries(bundle)) {
    if (output.type !== 'asset' || !fileName.endsWith('.html')) continue;
    visit(fileName);
    const html = typeof output.source === 'string' ? output.source : new TextDecoder().decode(output.source);
    for (const [, linked] of html.matchAll(/(?:src|href)="\/([^"]+)"/g)) visit(linked as string);
  }
  return initial;
}

/** Prints `dashboard bundle: N kB gzipped … within|OVER the goal` after the bundle is written. */
export function bundleSize(options: { breakdown?: boolean } = {}): Plugin {
  return {
    name: 'tessera-bundle-size',
    apply: 'build',
    writeBundle(_options, bundle) {
      const initial = initialFiles(bundle);
      let gzipBytes = 0;
      let initialGzipBytes = 0;
      let rawBytes = 0;
      const byKind = new Map<string, number>();
      const byFile: [string, number, number][] = [];
      for (const [fileName, output] of Object.entries(bundle)) {
        if (fileName.endsWith('.map')) continue;
        const bytes = bytesOf(output.type === 'chunk' ? output.code : output.source);
        const gzipped = gzipSync(bytes, { level: 9 }).byteLength;
        gzipBytes += gzipped;
        if (initial.has(fileName)) initialGzipBytes += gzipped;
        rawBytes += bytes.byteLength;
        const kind = fileName.slice(fileName.lastIndexOf('.') + 1);
        byKind.set(kind, (byKind.get(kind) ?? 0) + gzipped);
        byFile.push([fileName, gzipped, bytes.byteLength]);
      }
      if (options.breakdown) {
        for (const [fileName, gzipped, raw] of byFile.sort((x, y) => y[1] - x[1])) {
          console.log(`${kB(gzipped).padStart(7)} kB gzipped ${kB(raw).padStart(7)} kB raw  ${fileName}`);
        }
      }
      const parts = [...byKind].map(([kind, n]) => `${kind} ${kB(n)} kB`).join(', ');
      const verdict = gzipBytes <= BUNDLE_GZIP_BYTES_GOAL ? 'within' : 'OVER';
      console.log(
        `dashboard bundle: ${kB(gzipBytes)} kB gzipped in total (${parts}; ${kB(rawBytes)} kB raw), ` +
          `${kB(initialGzipBytes)} kB of it on first load; ${verdict} the ${kB(BUNDLE_GZIP_BYTES_GOAL)} kB goal`,
      );
    },
  };
}
