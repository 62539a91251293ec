/**
 * Entry points: `new Documents({ replicator })`, `documents.database(name)`,
 * `database.collection(name, definition)`; index changes (`addIndex`,
 * `dropIndex`) run as reindex jobs.
 */
import type { Jobs } from '@tessera/coordinator';
import { decodeKey, InvalidArgumentError, keyPrefix } from '@tessera/core';
import { type Replicator, replicationFactorMax, requiredCount } from '@tessera/replication';
import { Catalog, type DatabaseOptions } from './catalog.ts';
import { Collection, type SchemaSource } from './collection.ts';
import {
  CollectionNotFoundError,
  IndexNotFoundError,
  InvalidSchemaError,
  SchemaConflictError,
} from './errors.ts';
import { afterAll, checkCollectionName, checkDatabaseName, type DatabaseName } from './keys.ts';
import { indexesMax, schemaRefreshMsDefault } from './limits.ts';
import { type ReindexReport, reindex } from './reindex.ts';
import {
  type CollectionDefinition,
  type CollectionSchema,
  checkIndex,
  type Document,
  normalizeDefinition,
  sameDefinition,
} from './schema.ts';

export interface DocumentsOptions {
  readonly replicator: Replicator;
  /** Where reindex jobs record their progress (the coordinator's jobs); optional. */
  readonly jobs?: Jobs;
  /** How long a collection handle trusts its cached schema (default 1 s). */
  readonly schemaRefreshMs?: number;
  /** Clock for schema refresh; default `Date.now`. */
  readonly now?: () => number;
}

/** The document API of one peer. */
export class Documents {
  readonly replicator: Replicator;
  readonly catalog: Catalog;
  readonly jobs: Jobs | undefined;
  readonly schemaRefreshMs: number;
  readonly now: () => number;

  constructor(options: DocumentsOptions) {
    this.replicator = options.replicator;
    this.catalog = new Catalog(options.replicator);
    this.jobs = options.jobs;
    this.schemaRefreshMs = options.schemaRefreshMs ?? schemaRefreshMsDefault;
    this.now = options.now ?? Date.now;
  }

  /** A database handle (no I/O until used). */
  database(name: DatabaseName): Database {
    return new Database(this, checkDatabaseName(name));
  }
}

/** Keeps one collection's schema, re-reading the C record when the copy is older than the refresh period. */
class CachedSchema implements SchemaSource {
  #schema: CollectionSchema;
  #readMs: number;
  readonly #documents: Documents;
  readonly #database: DatabaseName;
  readonly #name: string;

  constructor(documents: Documents, database: DatabaseName, name: string, schema: CollectionSchema) {
    this.#documents = documents;
    this.#database = database;
    this.#name = name;
    this.#schema = schema;
    this.#readMs = documents.now();
  }

  set(schema: CollectionSchema): void {
    this.#schema = schema;
    this.#readMs = this.#documents.now();
  }

  async current(): Promise<CollectionSchema> {
    if (this.#documents.now() - this.#readMs < this.#documents.schemaRefreshMs) return this.#schema;
    const stored = await this.#documents.catalog.readCollection(this.#database, this.#name);
    if (!stored.value) throw new CollectionNotFoundError(this.#name);
    this.set(stored.value);
    return stored.value;
  }
}

export class Database {
  readonly name: DatabaseName;
  readonly #documents: Documents;

  constructor(documents: Documents, name: DatabaseName) {
    this.#documents = documents;
    this.name = name;
  }

  /**
   * Names of the database's collections, sorted (read from a quorum of the
   * metadata slot's owners; `kv` is not listed).
   */
  async collections(): Promise<string[]> {
    const { replicator } = this.#documents;
    const start = keyPrefix('C', [this.name]);
    const names: string[] = [];
    let after: Uint8Array | null = null;
    const settings = replicator.replicationOf(start);
    for (;;) {
      const page = await replicator.scan({
        start,
        end: afterAll(start),
        after,
        limit: 1024,
        mode: 'records',
        ownersPerSlot: requiredCount('quorum', settings.replicationFactor, 'read'),
      });
      for (const [key] of page.entries) {
        const name = decodeKey(key).elements[1];
        if (typeof name === 'string') names.push(name);
      }
      if (page.cursor === null) return names;
      after = page.cursor;
    }
  }

  /** The database's options (its D record), or undefined when it was never created. */
  async options(): Promise<DatabaseOptions | undefined> {
    return (await this.#documents.catalog.readDatabase(this.name)).value;
  }

  /**
   * Creates the database's D record if missing, or replaces its options.
   * Out-of-range options throw `InvalidArgumentError` and write nothing.
   */
  async setOptions(options: DatabaseOptions): Promise<void> {
    checkDatabaseOptions(options);
    const stored = await this.#documents.catalog.readDatabase(this.name);
    await this.#documents.catalog.writeDatabase(this.name, options, stored.context);
  }

  /**
   * Opens a collection. With a definition: creates it (and the database's D
   * record) when missing, or opens it when the stored definition is the same
   * (`SchemaConflictError` when it differs: change indexes with
   * `addIndex`/`dropIndex`). Without one: opens an existing collection
   * (`CollectionNotFoundError` when missing). Bad definitions throw
   * `InvalidSchemaError` and write nothing.
   */
  async collection<T extends Document = Document>(
    name: string,
    definition?: CollectionDefinition,
  ): Promise<Collection<T>> {
    checkCollectionName(name);
    const wanted = definition === undefined ? undefined : normalizeDefinition(definition);
    const { catalog } = this.#documents;
    const stored = await catalog.readCollection(this.name, name);
    let schema = stored.value;
    if (!schema) {
      if (!wanted) throw new CollectionNotFoundError(name);
      const db = await catalog.readDatabase(this.name);
      if (!db.value) await catalog.writeDatabase(this.name, {}, db.context);
      await catalog.writeCollection(this.name, name, wanted, stored.context);
      schema = wanted;
    } else if (wanted && !sameDefinition(schema, wanted)) {
      throw new SchemaConflictError(name);
    }
    return this.#open<T>(name, schema);
  }

  #open<T extends Document>(name: string, schema: CollectionSchema): Collection<T> {
    const source = new CachedSchema(this.#documents, this.name, name, schema);
    return new Collection<T>(this.#documents.replicator, this.#documents.catalog, this.name, name, source);
  }

  /**
   * Adds an index and backfills it: the C record gets the index as
   * `building` (new writes carry its entries from then on), then a reindex
   * job rewrites every object that lacks its entry, then the index turns
   * `ready` and `find` accepts it. Progress goes to the jobs API.
   */
  async addIndex(collection: string, index: string, fields: readonly string[]): Promise<ReindexReport> {
    return this.#changeIndexes(
      collection,
      (schema) => {
        if (schema.indexes[index]) throw new InvalidSchemaError(`index ${index} exists`);
        if (Object.keys(schema.indexes).length >= indexesMax)
          throw new InvalidSchemaError(`at most ${indexesMax} indexes`);
        const checked = checkIndex(schema.fields, index, fields);
        return { ...schema, indexes: { ...schema.indexes, [index]: { fields: checked, state: 'building' } } };
      },
      index,
    );
  }

  /** Drops an index: removed from the C record, then a reindex job rewrites every object that still carries its entry (which deletes it on every replica). */
  async dropIndex(collection: string, index: string): Promise<ReindexReport> {
    return this.#changeIndexes(collection, (schema) => {
      if (!schema.indexes[index]) throw new IndexNotFoundError(index);
      const indexes = { ...schema.indexes };
      delete indexes[index];
      return { ...schema, indexes };
    });
  }

  async #changeIndexes(
    collection: string,
    change: (schema: CollectionSchema) => CollectionSchema,
    building?: string,
  ): Promise<ReindexReport> {
    checkCollectionName(collection);
    const { catalog } = this.#documents;
    const stored = await catalog.readCollection(this.name, collection);
    if (!stored.value) throw new CollectionNotFoundError(collection);
    const next = change(stored.value);
    await catalog.writeCollection(this.name, collection, next, stored.context);
    const report = await reindex(this.#documents, this.#open(collection, next), next);
    if (building !== undefined) {
      // Read again: another index change may have landed meanwhile; only this index's state flips.
      const latest = await catalog.readCollection(this.name, collection);
      const current = latest.value?.indexes[building];
      if (latest.value && current) {
        const indexes = { ...latest.value.indexes, [building]: { ...current, state: 'ready' as const } };
        await catalog.writeCollection(this.name, collection, { ...latest.value, indexes }, latest.context);
      }
    }
    return report;
  }
}

/** N 1..replicationFactorMax and a named consistency, each optional. */
function checkDatabaseOptions(options: DatabaseOptions): void {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError('options must be an object');
  const n = options.replicationFactor;
  if (n !== undefined && !(Number.isInteger(n) && n >= 1 && n <= replicationFactorMax)) {
    throw new InvalidArgumentError(
      `replicationFactor must be an integer in 1..${replicationFactorMax}, got ${String(n)}`,
    );
  }
  const c = options.consistency;
  if (c !== undefined && c !== 'one' && c !== 'quorum' && c !== 'all') {
    throw new InvalidArgumentError(`consistency must be one, quorum or all, got ${String(c)}`);
  }
}
