/**
 * A collection handle: schema-checked writes of documents (each written
 * with its index values in its envelope), reads by primary key, and `find`
 * over a secondary index (scatter over slots, gather in index order, each
 * hit verified against a quorum read of its object).
 */
import {
  decodeKey,
  InvalidArgumentError,
  LimitExceededError,
  type TupleElement,
  type VersionVector,
} from '@tessera/core';
import { type Consistency, type Replicator, requiredCount, type Version } from '@tessera/replication';
import type { Catalog } from './catalog.ts';
import { indexEntryKey } from './derive.ts';
import { decodeEnvelope, encodeEnvelope, indexedValuesOf } from './envelope.ts';
import {
  DocumentExistsError,
  DocumentNotFoundError,
  IndexNotFoundError,
  IndexNotReadyError,
  InvalidQueryError,
  SchemaViolationError,
} from './errors.ts';
import { type DatabaseName, indexPrefix, objectKey } from './keys.ts';
import { findLimitDefault, findLimitMax } from './limits.ts';
import { compare, decodeCursor, encodeCursor, type FindQuery, queryRange } from './query.ts';
import { type CollectionSchema, checkDocument, type Document, wellFormed } from './schema.ts';

/** Options of a write. */
export interface DocumentWriteOptions {
  readonly consistency?: Consistency;
}

/** Options of a read. */
export interface DocumentReadOptions {
  readonly consistency?: Consistency;
}

/** What a write returns. */
export interface DocumentWriteResult {
  readonly primaryKey: TupleElement;
  readonly version: Version;
}

/** Options of `find`. */
export interface FindOptions {
  /** Most documents in this page (1..`findLimitMax`, default `findLimitDefault`). */
  readonly limit?: number;
  /** The `cursor` of the previous page of the same query. */
  readonly cursor?: string | null;
  /**
   * How many owners of each slot the index is read from (their entries
   * united), and the consistency of each hit's verifying read; default the
   * database's (quorum). `one` reads one owner per slot: cheaper, but it can
   * miss an acknowledged write that owner has not received yet.
   */
  readonly consistency?: Consistency;
}

/** One page of `find`, in index order. */
export interface FindResult<T extends Document = Document> {
  readonly documents: T[];
  /** Pass as `cursor` for the next page; null when there is no more. A page may hold fewer than `limit` documents. */
  readonly cursor: string | null;
  /** Index entries that no longer matched their object on a quorum read (stale on the replica that served them). */
  readonly skipped: number;
}

/** Where a collection handle reads its schema from. */
export interface SchemaSource {
  /** The schema, re-read from the C record when the cached copy is older than the refresh period. */
  current(): Promise<CollectionSchema>;
}

interface ReadDoc {
  readonly doc: Document | undefined;
  readonly context: VersionVector;
}

export class Collection<T extends Document = Document> {
  readonly database: DatabaseName;
  readonly name: string;
  readonly #replicator: Replicator;
  readonly #schema: SchemaSource;
  /** Used by index jobs; kept here so every write path builds envelopes the same way. */
  readonly catalog: Catalog;

  constructor(
    replicator: Replicator,
    catalog: Catalog,
    database: DatabaseName,
    name: string,
    schema: SchemaSource,
  ) {
    this.#replicator = replicator;
    this.catalog = catalog;
    this.database = database;
    this.name = name;
    this.#schema = schema;
  }

  /** The schema as this handle knows it (refreshed from the C record at most every refresh period). */
  schema(): Promise<CollectionSchema> {
    return this.#schema.current();
  }

  #key(pk: TupleElement): Uint8Array {
    return objectKey(this.database, this.name, pk);
  }

  #checkPk(schema: CollectionSchema, pk: unknown): TupleElement {
    const type = schema.fields[schema.primaryKey]!.type;
    const ok =
      (type === 'string' && typeof pk === 'string' && wellFormed(pk)) ||
      (type === 'integer' && (Number.isSafeInteger(pk) || typeof pk === 'bigint')) ||
      (type === 'bytes' && pk instanceof Uint8Array);
    if (!ok) throw new InvalidArgumentError(`primary key ${schema.primaryKey} must be a ${type}`);
    return pk as TupleElement;
  }

  /** The envelope bytes of `doc`, checked against the schema and the key bounds; throws before anything is written. */
  #encode(schema: CollectionSchema, doc: unknown): { key: Uint8Array; pk: TupleElement; bytes: Uint8Array } {
    const checked = checkDocument(schema, doc);
    const pk = this.#checkPk(schema, checked[schema.primaryKey]);
    const key = this.#key(pk);
    const indexed = indexedValuesOf(schema, checked);
    const { keyBytesMax } = this.#replicator.limits;
    for (const [index, values] of indexed) {
      // An entry the store cannot hold would be skipped on every replica: refuse the document instead.
      const bytes = indexEntryKey(this.database, this.name, index, values, pk).length;
      if (bytes > keyBytesMax) {
        throw new SchemaViolationError(
          schema.indexes[index]!.fields.join(','),
          `indexed values too long for index ${index} (${bytes} > ${keyBytesMax} key bytes)`,
        );
      }
    }
    let bytes: Uint8Array;
    try {
      bytes = encodeEnvelope({ doc: checked, indexed });
    } catch (error) {
      throw new SchemaViolationError('', `not encodable as CBOR: ${(error as Error).message}`);
    }
    if (bytes.length > this.#replicator.limits.valueBytesMax) {
      throw new LimitExceededError('valueBytesMax', this.#replicator.limits.valueBytesMax, bytes.length);
    }
    return { key, pk, bytes };
  }

  async #read(key: Uint8Array, consistency: Consistency | undefined): Promise<ReadDoc> {
    const read = await this.#replicator.get(key, {
      routingKey: key,
      ...(consistency === undefined ? {} : { consistency }),
    });
    if (!read.found || !read.value) return { doc: undefined, context: read.context };
    const envelope = decodeEnvelope(read.value);
    return { doc: envelope?.doc, context: read.context };
  }

  async #put(
    key: Uint8Array,
    pk: TupleElement,
    bytes: Uint8Array,
    context: VersionVector | undefined,
    options: DocumentWriteOptions,
  ): Promise<DocumentWriteResult> {
    const result = await this.#replicator.put(key, bytes, {
      routingKey: key,
      ...(context === undefined ? {} : { context }),
      ...(options.consistency === undefined ? {} : { consistency: options.consistency }),
    });
    return { primaryKey: pk, version: result.version };
  }

  /**
   * Writes a new document; `DocumentExistsError` when one with that primary
   * key is visible to a quorum read. Two concurrent inserts of the same key
   * both succeed and become siblings (the higher Lamport stamp wins).
   */
  async insert(doc: T, options: DocumentWriteOptions = {}): Promise<DocumentWriteResult> {
    const { key, pk, bytes } = this.#encode(await this.schema(), doc);
    const read = await this.#read(key, options.consistency);
    if (read.doc !== undefined) throw new DocumentExistsError(pk);
    return this.#put(key, pk, bytes, read.context, options);
  }

  /** Replaces an existing document whole; `DocumentNotFoundError` when there is none. */
  async replace(doc: T, options: DocumentWriteOptions = {}): Promise<DocumentWriteResult> {
    const { key, pk, bytes } = this.#encode(await this.schema(), doc);
    const read = await this.#read(key, options.consistency);
    if (read.doc === undefined) throw new DocumentNotFoundError(pk);
    return this.#put(key, pk, bytes, read.context, options);
  }

  /** Writes the document whether or not one exists (a blind write: replaces everything the coordinating owner has seen). */
  async upsert(doc: T, options: DocumentWriteOptions = {}): Promise<DocumentWriteResult> {
    const { key, pk, bytes } = this.#encode(await this.schema(), doc);
    return this.#put(key, pk, bytes, undefined, options);
  }

  /**
   * Sets the fields of `patch` on the existing document (a field set to
   * `undefined` is removed), checks the result against the schema and writes
   * it with the read's context. Returns the new document.
   */
  async update(primaryKey: TupleElement, patch: Partial<T>, options: DocumentWriteOptions = {}): Promise<T> {
    const schema = await this.schema();
    const pk = this.#checkPk(schema, primaryKey);
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      throw new InvalidArgumentError('patch must be an object');
    }
    if (schema.primaryKey in patch && compareElements(patch[schema.primaryKey] as TupleElement, pk) !== 0) {
      throw new SchemaViolationError(schema.primaryKey, 'the primary key cannot change');
    }
    const read = await this.#read(this.#key(pk), options.consistency);
    if (read.doc === undefined) throw new DocumentNotFoundError(pk);
    const next: Document = { ...read.doc };
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined) delete next[field];
      else next[field] = value;
    }
    const { key, bytes } = this.#encode(schema, next);
    await this.#put(key, pk, bytes, read.context, options);
    return next as T;
  }

  /** Deletes the document (a tombstone; its index entries go with it on every replica). */
  async delete(primaryKey: TupleElement, options: DocumentWriteOptions = {}): Promise<{ version: Version }> {
    const pk = this.#checkPk(await this.schema(), primaryKey);
    const key = this.#key(pk);
    const result = await this.#replicator.delete(key, {
      routingKey: key,
      ...(options.consistency === undefined ? {} : { consistency: options.consistency }),
    });
    return { version: result.version };
  }

  /** The document with this primary key, or undefined. */
  async get(primaryKey: TupleElement, options: DocumentReadOptions = {}): Promise<T | undefined> {
    const pk = this.#checkPk(await this.schema(), primaryKey);
    return (await this.#read(this.#key(pk), options.consistency)).doc as T | undefined;
  }

  /**
   * Documents whose entries in `index` match `query`, in index order (then
   * primary key order). Index entries are read from one owner per slot;
   * each hit is then verified with a read of its object, and dropped (and
   * counted in `skipped`) when the object no longer has that entry.
   */
  async find(index: string, query: FindQuery = {}, options: FindOptions = {}): Promise<FindResult<T>> {
    const schema = await this.schema();
    const spec = schema.indexes[index];
    if (!spec) throw new IndexNotFoundError(index);
    if (spec.state !== 'ready') throw new IndexNotReadyError(index);
    const limit = options.limit ?? findLimitDefault;
    if (!Number.isInteger(limit) || limit < 1 || limit > findLimitMax) {
      throw new InvalidQueryError(`limit must be an integer in 1..${findLimitMax}`);
    }
    const base = indexPrefix(this.database, this.name, index);
    const { start, end } = queryRange(schema, spec.fields, base, query);
    if (compare(start, end) >= 0) return { documents: [], cursor: null, skipped: 0 };
    const after = options.cursor == null ? null : decodeCursor(options.cursor, start, end);
    // R owners per slot, their entries united: with R + W > N an acknowledged write's entry is seen.
    const settings = this.#replicator.replicationOf(this.#key(null));
    const ownersPerSlot = requiredCount(
      options.consistency ?? settings.consistency,
      settings.replicationFactor,
      'read',
    );
    const page = await this.#replicator.scan({
      start,
      end,
      after,
      limit,
      mode: 'derived',
      replicationFactor: settings.replicationFactor,
      ownersPerSlot,
    });
    const hits = page.entries.map(([entryKey]) => {
      const { elements } = decodeKey(entryKey);
      return { entryKey, pk: elements.at(-1)! };
    });
    const reads = await Promise.all(hits.map((hit) => this.#read(this.#key(hit.pk), options.consistency)));
    const documents: T[] = [];
    let skipped = 0;
    for (const [i, hit] of hits.entries()) {
      const doc = reads[i]!.doc;
      if (doc !== undefined && this.#hasEntry(schema, index, doc, hit.pk, hit.entryKey))
        documents.push(doc as T);
      else skipped += 1;
    }
    return { documents, cursor: page.cursor ? encodeCursor(page.cursor) : null, skipped };
  }

  /** Whether `doc`, as read now, still has the entry `entryKey` in `index`. */
  #hasEntry(schema: CollectionSchema, index: string, doc: Document, pk: TupleElement, entryKey: Uint8Array) {
    try {
      const values = indexedValuesOf(schema, doc).find(([name]) => name === index)?.[1];
      return (
        values !== undefined &&
        compare(indexEntryKey(this.database, this.name, index, values, pk), entryKey) === 0
      );
    } catch {
      return false;
    }
  }
}

function compareElements(a: TupleElement, b: TupleElement): number {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return compare(a, b);
  return a === b ? 0 : 1;
}
