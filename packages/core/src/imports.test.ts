import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

// Core is the bottom layer and runs in browsers: it may use cbor-x and nothing
// else, neither a package of ours (arrows point down) nor a Node built-in.
const allowedPackages = new Set(['cbor-x']);
// Static imports and re-exports (side-effect imports too, either quote) and dynamic imports.
const importPattern =
  /(?:^|\n)\s*(?:import|export)\s+(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

describe('core source', () => {
  it('imports only its own modules and cbor-x', async () => {
    const dir = new URL('./', import.meta.url);
    const sources = (await readdir(dir)).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'));
    expect(sources).toContain('index.ts');
    const outside: string[] = [];
    for (const name of sources) {
      const text = await readFile(new URL(name, dir), 'utf8');
      for (const match of text.matchAll(importPattern)) {
        const specifier = (match[1] ?? match[2])!;
        if (!specifier.startsWith('./') && !allowedPackages.has(specifier))
          outside.push(`${name}: ${specifier}`);
      }
    }
    expect(outside).toEqual([]);
  });
});
