/**
 * The stored value of an object: `{ v: 1, d: document, x: [[index, values]…] }`
 * where `values` are the tuple-encoded indexed values. The index entries
 * are carried by the record itself, so every replica derives the same
 * entries from the record it holds, with no schema lookup (derive.ts).
 */
import { decodeValue, encodeTuple, encodeValue } from '@tessera/core';
import { type CollectionSchema, type Document, indexValues } from './schema.ts';

export const DOCUMENT_FORMAT_VERSION = 1;

/** One index's entry in an envelope: the index name and its encoded values. */
export type IndexedValues = readonly [index: string, values: Uint8Array];

export interface Envelope {
  readonly doc: Document;
  readonly indexed: readonly IndexedValues[];
}

/** The indexed values of `doc` under every index of `schema` (ready or building), by index name. */
export function indexedValuesOf(schema: CollectionSchema, doc: Document): IndexedValues[] {
  return Object.entries(schema.indexes)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, index]) => [name, encodeTuple(indexValues(schema, index.fields, doc))] as const);
}

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  return encodeValue({ v: DOCUMENT_FORMAT_VERSION, d: envelope.doc, x: envelope.indexed });
}

/** The envelope in `bytes`, or undefined when they are not one (e.g. a value written by the key-value API). */
export function decodeEnvelope(bytes: Uint8Array): Envelope | undefined {
  let raw: { v?: unknown; d?: unknown; x?: unknown };
  try {
    raw = decodeValue(bytes);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || raw.v !== DOCUMENT_FORMAT_VERSION) return undefined;
  if (typeof raw.d !== 'object' || raw.d === null || Array.isArray(raw.d) || !Array.isArray(raw.x))
    return undefined;
  const indexed: IndexedValues[] = [];
  for (const entry of raw.x) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') return undefined;
    if (!(entry[1] instanceof Uint8Array)) return undefined;
    indexed.push([entry[0], entry[1]]);
  }
  return { doc: raw.d as Document, indexed };
}

/** Whether two envelopes carry the same index entries. */
export function sameIndexed(a: readonly IndexedValues[], b: readonly IndexedValues[]): boolean {
  if (a.length !== b.length) return false;
  return a.every(([name, values], i) => {
    const other = b[i]!;
    return (
      other[0] === name &&
      other[1].length === values.length &&
      other[1].every((byte, j) => byte === values[j])
    );
  });
}
