/**
 * Collection schemas: declared fields with types and `required`, a primary
 * key field, secondary indexes, and the checks a document must pass before
 * anything is written.
 */
import { Double, type TupleElement } from '@tessera/core';
import { InvalidSchemaError, SchemaViolationError } from './errors.ts';
import { fieldsMax, indexesMax, indexFieldsMax, nameLengthMax } from './limits.ts';

/** A field's type. `number` is any finite number (indexed as a double, so ranges order numerically). */
export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'bytes' | 'array' | 'map' | 'any';

const FIELD_TYPES: readonly FieldType[] = [
  'string',
  'integer',
  'number',
  'boolean',
  'bytes',
  'array',
  'map',
  'any',
];
/** Types an index or a primary key can hold (they have a tuple encoding and an order). */
const INDEXABLE: readonly FieldType[] = ['string', 'integer', 'number', 'boolean', 'bytes'];
const PRIMARY_KEY_TYPES: readonly FieldType[] = ['string', 'integer', 'bytes'];

export interface FieldSpec {
  readonly type: FieldType;
  /** A document without this field (or with it `null`/`undefined`) is refused. */
  readonly required?: boolean;
}

export interface IndexSpec {
  /** The indexed fields, in order: `find` can match a prefix of them by equality and range the next one. */
  readonly fields: readonly string[];
}

/** What `database.collection(name, definition)` takes. */
export interface CollectionDefinition {
  /** Declared fields; a bare type is shorthand for `{ type }`. */
  readonly fields: Readonly<Record<string, FieldSpec | FieldType>>;
  /** The field that identifies a document (string, integer or bytes; always required). */
  readonly primaryKey: string;
  /** Secondary indexes by name; a bare field list is shorthand for `{ fields }`. */
  readonly indexes?: Readonly<Record<string, IndexSpec | readonly string[]>>;
  /** Refuse fields the schema does not declare (default false: they are stored unchecked). */
  readonly strict?: boolean;
}

/** An index as stored in the C record: `building` until its backfill finishes. */
export interface StoredIndex {
  readonly fields: readonly string[];
  readonly state: 'ready' | 'building';
}

/** The normalized schema stored as the C record's value. */
export interface CollectionSchema {
  readonly fields: Readonly<Record<string, { readonly type: FieldType; readonly required: boolean }>>;
  readonly primaryKey: string;
  readonly indexes: Readonly<Record<string, StoredIndex>>;
  readonly strict: boolean;
}

/** A document: a map of field names to CBOR values. */
export type Document = Record<string, unknown>;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether `text` is well-formed UTF-16 (no lone surrogate), so it has a UTF-8 and a tuple encoding. */
export function wellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

function checkName(what: string, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > nameLengthMax || !wellFormed(name)) {
    throw new InvalidSchemaError(`${what} must be a string of 1..${nameLengthMax} characters`);
  }
  return name;
}

function isPlainMap(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Checks and normalizes a definition; throws `InvalidSchemaError`. */
export function normalizeDefinition(definition: CollectionDefinition): CollectionSchema {
  if (!isPlainMap(definition)) throw new InvalidSchemaError('a definition must be an object');
  if (!isPlainMap(definition.fields)) throw new InvalidSchemaError('fields must be an object');
  const names = Object.keys(definition.fields);
  if (names.length > fieldsMax) throw new InvalidSchemaError(`at most ${fieldsMax} fields`);
  const fields: Record<string, { type: FieldType; required: boolean }> = {};
  for (const name of names) {
    checkName('a field name', name);
    const raw = definition.fields[name];
    const spec = typeof raw === 'string' ? { type: raw } : raw;
    if (!isPlainMap(spec) || !FIELD_TYPES.includes(spec.type as FieldType)) {
      throw new InvalidSchemaError(`field ${name}: type must be one of ${FIELD_TYPES.join(', ')}`);
    }
    if (spec.required !== undefined && typeof spec.required !== 'boolean') {
      throw new InvalidSchemaError(`field ${name}: required must be a boolean`);
    }
    fields[name] = { type: spec.type as FieldType, required: spec.required === true };
  }
  const primaryKey = checkName('primaryKey', definition.primaryKey);
  const pk = fields[primaryKey];
  if (!pk || !PRIMARY_KEY_TYPES.includes(pk.type)) {
    throw new InvalidSchemaError(
      `primaryKey ${primaryKey} must be a declared ${PRIMARY_KEY_TYPES.join(', ')} field`,
    );
  }
  fields[primaryKey] = { type: pk.type, required: true };
  const indexes: Record<string, StoredIndex> = {};
  const rawIndexes = definition.indexes ?? {};
  if (!isPlainMap(rawIndexes)) throw new InvalidSchemaError('indexes must be an object');
  for (const name of Object.keys(rawIndexes)) {
    indexes[name] = { fields: checkIndex(fields, name, rawIndexes[name]), state: 'ready' };
  }
  if (Object.keys(indexes).length > indexesMax) throw new InvalidSchemaError(`at most ${indexesMax} indexes`);
  if (definition.strict !== undefined && typeof definition.strict !== 'boolean') {
    throw new InvalidSchemaError('strict must be a boolean');
  }
  return { fields, primaryKey, indexes, strict: definition.strict === true };
}

/** Checks one index spec against the fields; returns its field list. */
export function checkIndex(
  fields: CollectionSchema['fields'],
  name: string,
  raw: IndexSpec | readonly string[] | undefined,
): string[] {
  checkName('an index name', name);
  const list = Array.isArray(raw) ? raw : (raw as IndexSpec | undefined)?.fields;
  if (!Array.isArray(list) || list.length === 0 || list.length > indexFieldsMax) {
    throw new InvalidSchemaError(`index ${name}: 1..${indexFieldsMax} fields`);
  }
  for (const field of list) {
    const spec = typeof field === 'string' ? fields[field] : undefined;
    if (!spec || !INDEXABLE.includes(spec.type)) {
      throw new InvalidSchemaError(
        `index ${name}: ${String(field)} must be a declared ${INDEXABLE.join(', ')} field`,
      );
    }
  }
  if (new Set(list).size !== list.length)
    throw new InvalidSchemaError(`index ${name}: a field is listed twice`);
  return [...list];
}

function typeProblem(type: FieldType, value: unknown): string | undefined {
  switch (type) {
    case 'string':
      return typeof value === 'string' && wellFormed(value) ? undefined : 'must be a well-formed string';
    case 'integer':
      return Number.isSafeInteger(value) ||
        (typeof value === 'bigint' && value >= -(2n ** 64n - 1n) && value <= 2n ** 64n - 1n)
        ? undefined
        : 'must be an integer (a safe integer, or a bigint within ±(2^64 - 1))';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'must be a finite number';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be a boolean';
    case 'bytes':
      return value instanceof Uint8Array ? undefined : 'must be a Uint8Array';
    case 'array':
      return Array.isArray(value) ? undefined : 'must be an array';
    case 'map':
      return isPlainMap(value) ? undefined : 'must be a plain object';
    case 'any':
      return undefined;
  }
}

/** Checks a document against the schema; throws `SchemaViolationError` naming the first bad field. */
export function checkDocument(schema: CollectionSchema, doc: unknown): Document {
  if (!isPlainMap(doc)) throw new SchemaViolationError('', 'a document must be a plain object');
  for (const [name, spec] of Object.entries(schema.fields)) {
    const value = doc[name];
    if (value === undefined || value === null) {
      if (spec.required) throw new SchemaViolationError(name, 'is required');
      continue;
    }
    const problem = typeProblem(spec.type, value);
    if (problem) throw new SchemaViolationError(name, problem);
  }
  if (schema.strict) {
    for (const name of Object.keys(doc)) {
      if (!(name in schema.fields)) throw new SchemaViolationError(name, 'is not declared (strict schema)');
    }
  }
  return doc;
}

/** The tuple element a field value is indexed as: missing is null, a `number` field is a double. */
export function indexElement(type: FieldType, value: unknown): TupleElement {
  if (value === undefined || value === null) return null;
  if (type === 'number') return new Double(value as number);
  return value as TupleElement;
}

/** The indexed values of `doc` for an index over `fields`. */
export function indexValues(
  schema: CollectionSchema,
  fields: readonly string[],
  doc: Document,
): TupleElement[] {
  return fields.map((field) => indexElement(schema.fields[field]!.type, doc[field]));
}

/** Whether two normalized schemas are the same definition (index states aside). */
export function sameDefinition(a: CollectionSchema, b: CollectionSchema): boolean {
  const strip = (s: CollectionSchema) =>
    JSON.stringify({
      fields: Object.entries(s.fields).sort(([x], [y]) => (x < y ? -1 : 1)),
      primaryKey: s.primaryKey,
      strict: s.strict,
      indexes: Object.entries(s.indexes)
        .map(([name, index]) => [name, index.fields])
        .sort(([x], [y]) => ((x as string) < (y as string) ? -1 : 1)),
    });
  return strip(a) === strip(b);
}
