/**
 * D and C records: database options and collection schemas, read and
 * written as ordinary replicated records routed by `META_ROUTING_KEY` (one
 * slot for all metadata), with quorum reads and writes and read-modify-write
 * through the read's context. See docs/decisions/0002-document-metadata.md.
 */
import { decodeValue, encodeValue, type VersionVector } from '@tessera/core';
import type { Replicator } from '@tessera/replication';
import { InvalidSchemaError } from './errors.ts';
import { collectionKey, type DatabaseName, databaseKey, META_ROUTING_KEY } from './keys.ts';
import { type CollectionSchema, checkIndex, normalizeDefinition, type StoredIndex } from './schema.ts';

export const METADATA_FORMAT_VERSION = 1;

/** Options stored in a database's D record. */
export interface DatabaseOptions {
  /** Replication factor N (1..10) of every record of this database (a peer maps it onto `databaseReplication`). */
  readonly replicationFactor?: number;
  /** Default consistency of this database's reads and writes. */
  readonly consistency?: 'one' | 'quorum' | 'all';
}

export interface Stored<T> {
  readonly value: T | undefined;
  /** Pass back to `write` to replace exactly what was read. */
  readonly context: VersionVector;
}

const meta = { routingKey: META_ROUTING_KEY, consistency: 'quorum' } as const;

/** A stored schema from a peer, checked as strictly as a new definition. */
export function schemaFromStored(raw: unknown): CollectionSchema {
  if (typeof raw !== 'object' || raw === null) throw new InvalidSchemaError('stored schema is not a map');
  const stored = raw as CollectionSchema;
  const schema = normalizeDefinition({
    fields: stored.fields,
    primaryKey: stored.primaryKey,
    strict: stored.strict,
  });
  const indexes: Record<string, StoredIndex> = {};
  for (const [name, index] of Object.entries(stored.indexes ?? {})) {
    const state = index?.state === 'building' ? 'building' : 'ready';
    indexes[name] = { fields: checkIndex(schema.fields, name, index?.fields), state };
  }
  return { ...schema, indexes };
}

export class Catalog {
  readonly #replicator: Replicator;

  constructor(replicator: Replicator) {
    this.#replicator = replicator;
  }

  async readDatabase(db: DatabaseName): Promise<Stored<DatabaseOptions>> {
    const read = await this.#replicator.get(databaseKey(db), meta);
    if (!read.found || !read.value) return { value: undefined, context: read.context };
    const raw = decodeValue<{ v?: unknown; o?: DatabaseOptions }>(read.value);
    return { value: raw?.o ?? {}, context: read.context };
  }

  async writeDatabase(db: DatabaseName, options: DatabaseOptions, context: VersionVector): Promise<void> {
    await this.#replicator.put(databaseKey(db), encodeValue({ v: METADATA_FORMAT_VERSION, o: options }), {
      ...meta,
      context,
    });
  }

  async readCollection(db: DatabaseName, collection: string): Promise<Stored<CollectionSchema>> {
    const read = await this.#replicator.get(collectionKey(db, collection), meta);
    if (!read.found || !read.value) return { value: undefined, context: read.context };
    const raw = decodeValue<{ v?: unknown; s?: unknown }>(read.value);
    return { value: schemaFromStored(raw?.s), context: read.context };
  }

  async writeCollection(
    db: DatabaseName,
    collection: string,
    schema: CollectionSchema,
    context: VersionVector,
  ): Promise<void> {
    await this.#replicator.put(
      collectionKey(db, collection),
      encodeValue({ v: METADATA_FORMAT_VERSION, s: schema }),
      { ...meta, context },
    );
  }
}
