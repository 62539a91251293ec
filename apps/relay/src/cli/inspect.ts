/**
 * `tessera inspect <data-dir>`: decode every record of a stopped peer's
 * data dir with core `decodeKey` / `decodeValue`, grouped by category.
 * A dir held by a running peer is refused: the store's lock is exclusive,
 * and reading around it would need a second engine handle on live files.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  categoryRange,
  decodeKey,
  decodeValue,
  type KeyCategory,
  keyCategories,
  type TupleElement,
} from '@tessera/core';
import { openFsStore, StoreLockedError } from '@tessera/storage-fs';
import { type FlagSpecs, formatFlags, parseArgs } from './args.ts';
import { DataDirBusyError, UsageError } from './errors.ts';

export const INSPECT_FLAGS: FlagSpecs = {
  category: { type: 'string', value: '<D|C|O|I|N|M|S|J>', description: 'only this category' },
  prefix: {
    type: 'string',
    value: '<json array>',
    description: 'only keys whose elements start with these, e.g. \'[0,"kv"]\' (needs --category)',
  },
  limit: { type: 'integer', value: '<n>', description: 'most records listed per category (default 100)' },
  json: { type: 'boolean', description: 'one JSON object per record' },
};

export const INSPECT_HELP = `Usage: tessera inspect <data-dir> [options]

Decodes the keys and values in a peer's data dir (the peer must be stopped).

Options:
${formatFlags(INSPECT_FLAGS)}
`;

const CATEGORY_NAMES: Record<KeyCategory, string> = {
  D: 'databases',
  C: 'collections',
  O: 'objects',
  I: 'index entries',
  N: 'nodes',
  M: 'coordinator messages',
  S: 'state',
  J: 'jobs',
};
const LIMIT_MAX = 1_000_000;
const decoder = new TextDecoder('utf-8', { fatal: true });

/** JSON-friendly form of a decoded element or value: bytes become UTF-8 text when printable, else hex. */
export function displayable(value: unknown, depth = 0): unknown {
  if (depth > 32) return '…';
  if (value instanceof Uint8Array) {
    try {
      const text = decoder.decode(value);
      if (/^[\x20-\x7e\u00a0-\uffff]*$/.test(text)) return { bytes: text };
    } catch {
      // not UTF-8: hex below
    }
    return { hex: Buffer.from(value).toString('hex') };
  }
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map((v) => displayable(v, depth + 1));
  if (value instanceof Map)
    return Object.fromEntries([...value].map(([k, v]) => [String(k), displayable(v, depth + 1)]));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, displayable(v, depth + 1)]));
  }
  return value;
}

function startsWith(elements: readonly TupleElement[], prefix: readonly TupleElement[]): boolean {
  if (prefix.length > elements.length) return false;
  return prefix.every((p, i) => JSON.stringify(displayable(p)) === JSON.stringify(displayable(elements[i])));
}

function parsePrefix(text: string): TupleElement[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`--prefix must be a JSON array, got ${text}`);
  }
  if (!Array.isArray(parsed)) throw new UsageError('--prefix must be a JSON array of strings and numbers');
  return parsed as TupleElement[];
}

export async function runInspect(argv: readonly string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, INSPECT_FLAGS);
  if (flags.has('help')) {
    process.stdout.write(INSPECT_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('tessera inspect takes one data dir (see --help)');
  const dir = resolve(positionals[0]!);
  const category = flags.get('category') as string | undefined;
  if (category !== undefined && !keyCategories.includes(category as KeyCategory)) {
    throw new UsageError(`--category must be one of ${keyCategories.join(' ')}`);
  }
  const prefixText = flags.get('prefix') as string | undefined;
  if (prefixText !== undefined && category === undefined) throw new UsageError('--prefix needs --category');
  const prefix = prefixText === undefined ? [] : parsePrefix(prefixText);
  const limitText = (flags.get('limit') as string | undefined) ?? '100';
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > LIMIT_MAX)
    throw new UsageError(`--limit must be 1..${LIMIT_MAX}`);
  const json = flags.has('json');
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) throw new UsageError(`${dir} is not a directory`);

  let store: Awaited<ReturnType<typeof openFsStore>>;
  try {
    store = await openFsStore(dir);
  } catch (error) {
    if (error instanceof StoreLockedError) throw new DataDirBusyError(dir);
    throw error;
  }
  try {
    const categories = category === undefined ? keyCategories : [category as KeyCategory];
    for (const c of categories) {
      let count = 0;
      let listed = 0;
      const lines: string[] = [];
      for await (const { key, value } of store.scan(categoryRange(c))) {
        let decodedKey: ReturnType<typeof decodeKey>;
        try {
          decodedKey = decodeKey(key);
        } catch (error) {
          lines.push(`  undecodable key ${Buffer.from(key).toString('hex')}: ${(error as Error).message}`);
          continue;
        }
        if (!startsWith(decodedKey.elements, prefix)) continue;
        count++;
        if (listed >= limit) continue;
        listed++;
        let decodedValue: unknown;
        try {
          decodedValue = value.length === 0 ? null : displayable(decodeValue(value));
        } catch {
          decodedValue = { undecodable: Buffer.from(value).toString('hex') };
        }
        const record = {
          category: c,
          version: decodedKey.version,
          valueType: decodedKey.valueType,
          key: displayable(decodedKey.elements),
          value: decodedValue,
        };
        lines.push(
          json ? JSON.stringify(record) : `  ${JSON.stringify(record.key)} = ${JSON.stringify(record.value)}`,
        );
      }
      if (json) {
        for (const line of lines) process.stdout.write(`${line}\n`);
      } else if (count > 0 || category !== undefined) {
        process.stdout.write(
          `${c} ${CATEGORY_NAMES[c]}: ${count}${count > listed ? ` (first ${listed} shown)` : ''}\n`,
        );
        for (const line of lines) process.stdout.write(`${line}\n`);
      }
    }
  } finally {
    await store.close();
  }
  return 0;
}
