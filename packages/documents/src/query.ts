/**
 * `find` queries: equality on a prefix of an index's fields, then optionally
 * a range or a string/bytes prefix on the next field, turned into one key
 * range of the index's entries.
 */
import { encodeTuple, type TupleElement } from '@tessera/core';
import { InvalidQueryError } from './errors.ts';
import { afterAll, concatBytes } from './keys.ts';
import { type CollectionSchema, type FieldType, indexElement, wellFormed } from './schema.ts';

/** Bounds of a range; values compare in index order (numbers numerically, strings by code point). */
export interface RangeBounds {
  readonly gt?: unknown;
  readonly gte?: unknown;
  readonly lt?: unknown;
  readonly lte?: unknown;
}

/**
 * A `find` query. `eq` matches the index's first fields (a single value is
 * shorthand for `[value]`; `null` matches documents without the field);
 * `range` or `prefix` then applies to the next field. Range and prefix never
 * match a missing field. `{}` lists the whole index in order.
 */
export interface FindQuery {
  readonly eq?: unknown;
  readonly range?: RangeBounds;
  readonly prefix?: string | Uint8Array;
}

const NON_NULL = Uint8Array.of(0x01);

function checkValue(field: string, type: FieldType, value: unknown): TupleElement {
  if (value === null) return null;
  const ok =
    (type === 'string' && typeof value === 'string' && wellFormed(value)) ||
    (type === 'integer' && (Number.isSafeInteger(value) || typeof value === 'bigint')) ||
    (type === 'number' && typeof value === 'number' && !Number.isNaN(value)) ||
    (type === 'boolean' && typeof value === 'boolean') ||
    (type === 'bytes' && value instanceof Uint8Array);
  if (!ok) throw new InvalidQueryError(`${field}: a ${type} value expected`);
  return indexElement(type, value);
}

/** The key range [start, end) of the entries matching `query`, under the index's prefix `base`. */
export function queryRange(
  schema: CollectionSchema,
  fields: readonly string[],
  base: Uint8Array,
  query: FindQuery,
): { start: Uint8Array; end: Uint8Array } {
  if (typeof query !== 'object' || query === null) throw new InvalidQueryError('a query must be an object');
  const eqRaw = query.eq === undefined ? [] : Array.isArray(query.eq) ? query.eq : [query.eq];
  const ranged = query.range !== undefined || query.prefix !== undefined;
  if (query.range !== undefined && query.prefix !== undefined) {
    throw new InvalidQueryError('use range or prefix, not both');
  }
  if (eqRaw.length > fields.length || (ranged && eqRaw.length >= fields.length)) {
    throw new InvalidQueryError(`the index has ${fields.length} fields`);
  }
  const typeOf = (i: number) => schema.fields[fields[i]!]!.type;
  const eq = eqRaw.map((value, i) => checkValue(fields[i]!, typeOf(i), value));
  const head = concatBytes(base, encodeTuple(eq));
  if (!ranged) return { start: head, end: afterAll(head) };
  const field = fields[eq.length]!;
  const type = typeOf(eq.length);
  if (query.prefix !== undefined) {
    const prefix = query.prefix;
    let bytes: Uint8Array;
    if (type === 'string' && typeof prefix === 'string') bytes = encodeTuple([prefix]);
    else if (type === 'bytes' && prefix instanceof Uint8Array) bytes = encodeTuple([prefix]);
    else
      throw new InvalidQueryError(
        `${field}: prefix needs a ${type === 'bytes' ? 'Uint8Array' : 'string'} field and value`,
      );
    // The element without its terminator: every longer string (or byte string) extends it.
    const start = concatBytes(head, bytes.subarray(0, bytes.length - 1));
    return { start, end: afterAll(start) };
  }
  const range = query.range!;
  if (typeof range !== 'object' || range === null) throw new InvalidQueryError('range must be an object');
  if (range.gt !== undefined && range.gte !== undefined)
    throw new InvalidQueryError('use gt or gte, not both');
  if (range.lt !== undefined && range.lte !== undefined)
    throw new InvalidQueryError('use lt or lte, not both');
  const bound = (value: unknown) => {
    if (value === null) throw new InvalidQueryError(`${field}: a range bound cannot be null`);
    return concatBytes(head, encodeTuple([checkValue(field, type, value)]));
  };
  let start = concatBytes(head, NON_NULL);
  let end = afterAll(head);
  if (range.gte !== undefined) start = bound(range.gte);
  if (range.gt !== undefined) start = afterAll(bound(range.gt));
  if (range.lt !== undefined) end = bound(range.lt);
  if (range.lte !== undefined) end = afterAll(bound(range.lte));
  return { start, end };
}

/** Cursor text of a key (base64url). */
export function encodeCursor(key: Uint8Array): string {
  let text = '';
  for (const byte of key) text += String.fromCharCode(byte);
  return btoa(text).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '');
}

/** The key in a cursor; `InvalidQueryError` when it is not one of this range. */
export function decodeCursor(cursor: string, start: Uint8Array, end: Uint8Array): Uint8Array {
  let key: Uint8Array;
  try {
    if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]*$/.test(cursor)) throw new Error('not base64url');
    const text = atob(cursor.replaceAll('-', '+').replaceAll('_', '/'));
    key = Uint8Array.from(text, (char) => char.charCodeAt(0));
  } catch {
    throw new InvalidQueryError('cursor is not one this query returned');
  }
  if (compare(key, start) < 0 || compare(key, end) >= 0) {
    throw new InvalidQueryError('cursor is not one this query returned');
  }
  return key;
}

export function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
