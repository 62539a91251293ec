/**
 * The browser entry must never reach Node-only code. The Chromium tests cannot
 * tell: Vite stubs Node built-ins, so a stray `node:fs` still bundles and only
 * breaks when called. This walks the import graph statically instead.
 */
import { readdir, readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';

const nodeOnlyPackages = ['@libp2p/tcp', '@tessera/storage-fs', 'lmdb', 'classic-level'];
const nodeBuiltins = new Set(builtinModules);

// Static imports and re-exports (side-effect imports too, either quote) and dynamic imports.
// Group 1 is `type` for type-only statements, which the compiler erases.
const importPattern =
  /(?:^|\n)\s*(?:import|export)\s+(type\s+)?(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

type ExportTarget = string | { readonly [condition: string]: ExportTarget };

/** The file a browser bundler running Vite's conditions picks: 'browser' first, then 'source'. */
function browserSource(target: ExportTarget | undefined): string | undefined {
  if (target === undefined || typeof target === 'string') return undefined;
  const browser = typeof target.browser === 'string' ? target.browser : browserSource(target.browser);
  if (browser !== undefined) return browser;
  return typeof target.source === 'string' ? target.source : undefined;
}

/** Every `@tessera/*` workspace package: its directory and its "exports" map. */
async function workspacePackages(): Promise<
  Map<string, { dir: URL; exports: Record<string, ExportTarget> }>
> {
  const packages = new Map<string, { dir: URL; exports: Record<string, ExportTarget> }>();
  const root = new URL('../../', import.meta.url);
  for (const name of await readdir(root)) {
    const dir = new URL(`${name}/`, root);
    const manifest = JSON.parse(await readFile(new URL('package.json', dir), 'utf8')) as {
      name: string;
      exports: Record<string, ExportTarget>;
    };
    packages.set(manifest.name, { dir, exports: manifest.exports });
  }
  return packages;
}

/** The workspace package a bare specifier names, if any, and its subpath ('.' or './x'). */
function splitSpecifier(specifier: string): { name: string; subpath: string } {
  const parts = specifier.split('/');
  const nameLength = specifier.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameLength).join('/');
  const rest = parts.slice(nameLength);
  return { name, subpath: rest.length === 0 ? '.' : `./${rest.join('/')}` };
}

/** Every module the entry reaches through relative and workspace imports, with the other bare specifiers they use. */
async function reach(entry: URL): Promise<{ files: Set<string>; bare: Map<string, string> }> {
  const packages = await workspacePackages();
  const files = new Set<string>();
  const bare = new Map<string, string>();
  const queue = [entry];
  while (queue.length > 0) {
    const url = queue.pop()!;
    if (files.has(url.pathname)) continue;
    files.add(url.pathname);
    const source = await readFile(url, 'utf8');
    for (const match of source.matchAll(importPattern)) {
      if (match[1] !== undefined) continue;
      const specifier = (match[2] ?? match[3])!;
      if (specifier.startsWith('.')) {
        queue.push(new URL(specifier, url));
        continue;
      }
      const { name, subpath } = splitSpecifier(specifier);
      const workspace = packages.get(name);
      if (workspace !== undefined) {
        const target = browserSource(workspace.exports[subpath]);
        if (target === undefined)
          throw new Error(`${specifier} (from ${url.pathname}) has no browser or source export`);
        queue.push(new URL(target, workspace.dir));
      }
      // Workspace names stay in `bare` too, so a Node-only workspace package is caught by name.
      bare.set(specifier, url.pathname);
    }
  }
  return { files, bare };
}

function nodeOnly(specifier: string): boolean {
  if (specifier.startsWith('node:') || nodeBuiltins.has(specifier)) return true;
  return nodeOnlyPackages.some((name) => specifier === name || specifier.startsWith(`${name}/`));
}

describe('the browser entry', () => {
  it('reaches no Node built-in and no Node-only package, through workspace packages too', async () => {
    const { files, bare } = await reach(new URL('./index.browser.ts', import.meta.url));
    // It must really have walked into other workspace packages, not stopped at the entry.
    expect(files.size).toBeGreaterThan(20);
    for (const pkg of ['core', 'storage', 'coordinator', 'replication']) {
      expect(
        [...files].some((file) => file.includes(`/packages/${pkg}/src/`)),
        pkg,
      ).toBe(true);
    }
    const offenders = [...bare]
      .filter(([specifier]) => nodeOnly(specifier))
      .map(([s, file]) => `${s} in ${file}`);
    expect(offenders).toEqual([]);
  });

  it('the walk does see what the Node entry reaches', async () => {
    const { bare } = await reach(new URL('./index.ts', import.meta.url));
    expect([...bare.keys()].filter(nodeOnly)).toEqual(expect.arrayContaining(['@libp2p/tcp']));
  });
});
