import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

const allowedPackages = new Set(['@tessera/core', 'idb']);
// Static imports and re-exports (side-effect imports too, either quote) and dynamic imports.
const importPattern =
  /(?:^|\n)\s*(?:import|export)\s+(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every module the main entry reaches through relative imports, with the bare specifiers they use. */
async function reach(entry: string): Promise<{ files: Set<string>; bare: Set<string> }> {
  const files = new Set<string>();
  const bare = new Set<string>();
  const queue = [new URL(entry, import.meta.url)];
  while (queue.length > 0) {
    const url = queue.pop()!;
    if (files.has(url.pathname)) continue;
    files.add(url.pathname);
    const source = await readFile(url, 'utf8');
    for (const match of source.matchAll(importPattern)) {
      const specifier = (match[1] ?? match[2])!;
      if (specifier.startsWith('.')) queue.push(new URL(specifier, url));
      else bare.add(specifier);
    }
  }
  return { files, bare };
}

describe('the main entry', () => {
  it('reaches no Node-only module, no test code and no package beyond core and idb', async () => {
    const { files, bare } = await reach('./index.ts');
    expect(files.size).toBeGreaterThan(5);
    for (const specifier of bare) expect(allowedPackages.has(specifier), specifier).toBe(true);
    for (const file of files) expect(file).not.toMatch(/conformance|\.test\.ts$/);
  });

  it('loads where no browser global exists, touching none at import', async () => {
    expect('indexedDB' in globalThis).toBe(false);
    const storage = await import('./index.ts');
    expect(typeof storage.openIndexedDbStore).toBe('function');
    const store = await storage.openMemoryStore();
    await store.put(Uint8Array.of(1), Uint8Array.of(2));
    expect(await store.get(Uint8Array.of(1))).toEqual(Uint8Array.of(2));
    await store.close();
  });

  it('fails to open an IndexedDB store in Node with a typed error, not a crash', async () => {
    const { openIndexedDbStore } = await import('./index.ts');
    await expect(openIndexedDbStore('nowhere')).rejects.toMatchObject({ name: 'StorageIoError' });
  });
});
