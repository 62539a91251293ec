/**
 * The peer's plain key-value API over the Replicator. A key `k` of database
 * `db` is the object `encodeKey('O', [db, 'kv', bytes(k)])` of the built-in
 * collection `kv` (the relay's layout), routed by the user key itself, so
 * its slot is Redis' `CLUSTER KEYSLOT k`. Values are any standard-CBOR value
 * (`encodeValue` / `decodeValue`); a `Uint8Array` is stored as a CBOR byte
 * string and read back as one.
 */
import { decodeKey, decodeValue, encodeKey, encodeValue, InvalidArgumentError } from '@tessera/core';
import {
  type Consistency,
  type RecordChange,
  type Replicator,
  type Version,
  type VersionVector,
  type WriteResult,
  winnerOf,
} from '@tessera/replication';

/** The built-in collection plain key-value records live in. */
export const KV_COLLECTION = 'kv';
/** The database used when an operation names none (Redis' database 0). */
export const DEFAULT_DATABASE = 0;

/** A database name or number (a key tuple element). */
export type Database = string | number;

/** Options of `peer.put` and `peer.delete`. */
export interface DataWriteOptions {
  /** `one`, `quorum` (the database default), `all`, or `{ w }`. */
  readonly consistency?: Consistency;
  /** A retry with the same key and idempotency key is a no-op that returns the first result. */
  readonly idempotencyKey?: string;
  /** Default `DEFAULT_DATABASE` (0). */
  readonly database?: Database;
  /** A read's `context`: replace exactly the versions that read saw (default: all the coordinating owner has seen). */
  readonly context?: VersionVector;
}

/** Options of `peer.get`. */
export interface DataReadOptions {
  /** `one`, `quorum` (the database default), `all`, or `{ r }`. */
  readonly consistency?: Consistency;
  readonly database?: Database;
}

/** A losing concurrent version, kept until a write replaces it. */
export interface DataSibling {
  readonly deleted: boolean;
  readonly value?: unknown;
  readonly version: Version;
}

/** What `peer.get` returns. */
export interface DataReadResult {
  /** True when the newest version is a value (not a tombstone, not absent). */
  readonly found: boolean;
  /** The decoded value, when found. */
  readonly value?: unknown;
  /** The winning version; absent when no owner had the key. */
  readonly version?: Version;
  /** Losing concurrent versions, highest first. */
  readonly siblings: readonly DataSibling[];
  /** Pass to `put` as `context` to replace exactly what this read saw. */
  readonly context: VersionVector;
  /** Owners that answered. */
  readonly answered: number;
  /** R. */
  readonly required: number;
}

export type DataWriteResult = WriteResult;

/** A key-value change this peer's replica stored (see `Peer.watch`). */
export interface DataChange {
  readonly database: Database;
  /** The user key's bytes. */
  readonly key: Uint8Array;
  /** The user key as text when its bytes are UTF-8 (what a string key was), else undefined. */
  readonly keyText: string | undefined;
  /** True when the new winning version is a tombstone (`delete`). */
  readonly deleted: boolean;
  /** The decoded value, when not deleted. */
  readonly value?: unknown;
  /** The new winning version. */
  readonly version: Version;
  /** Concurrent versions still kept beside the winner. */
  readonly siblings: number;
}

/** Options of `Peer.watch`. */
export interface WatchOptions {
  /** Only changes of this database; default every database. */
  readonly database?: Database;
}

const encoder = new TextEncoder();

function userKeyBytes(key: string | Uint8Array): Uint8Array {
  if (typeof key === 'string') return encoder.encode(key);
  if (key instanceof Uint8Array) return key;
  throw new InvalidArgumentError('key must be a string or a Uint8Array');
}

/** `database` when it is one (a non-empty string or a safe integer), else `InvalidArgumentError`. */
export function checkDatabase(database: Database): Database {
  if (typeof database === 'string' ? database.length === 0 : !Number.isSafeInteger(database)) {
    throw new InvalidArgumentError('database must be a non-empty string or a safe integer');
  }
  return database;
}

function databaseOf(database: Database | undefined): Database {
  return checkDatabase(database ?? DEFAULT_DATABASE);
}

/** The record key of a plain key-value key. */
export function kvRecordKey(key: string | Uint8Array, database?: Database): Uint8Array {
  const bytes = userKeyBytes(key);
  if (bytes.length === 0) throw new InvalidArgumentError('key must not be empty');
  return encodeKey('O', [databaseOf(database), KV_COLLECTION, bytes]);
}

/**
 * The routing bytes of a record key: the user key of a kv object, else the
 * key itself. The Replicator uses it where it has only the record key.
 */
export function routingKeyOfRecord(recordKey: Uint8Array): Uint8Array {
  return kvKeyOfRecord(recordKey)?.userKey ?? recordKey;
}

/** The database and user key of a kv object's record key; undefined for any other key. */
function kvKeyOfRecord(recordKey: Uint8Array): { database: unknown; userKey: Uint8Array } | undefined {
  try {
    const { category, elements } = decodeKey(recordKey);
    const userKey = elements[2];
    if (category === 'O' && elements[1] === KV_COLLECTION && userKey instanceof Uint8Array) {
      return { database: elements[0], userKey };
    }
  } catch {
    // Not a tuple key.
  }
  return undefined;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The key-value change a replica's record change is, or undefined for other
 * records (documents, metadata) and values that do not decode.
 */
export function kvChangeOf(change: RecordChange): DataChange | undefined {
  const kv = kvKeyOfRecord(change.key);
  const database = kv?.database;
  if (!kv || (typeof database !== 'string' && typeof database !== 'number')) return undefined;
  const { userKey } = kv;
  const winner = winnerOf(change.record);
  const bytes = winner.value.bytes;
  let value: unknown;
  if (bytes !== null) {
    try {
      value = decodeValue(bytes);
    } catch {
      return undefined;
    }
  }
  let keyText: string | undefined;
  try {
    keyText = strictUtf8.decode(userKey);
  } catch {
    keyText = undefined;
  }
  return {
    database,
    key: userKey,
    keyText,
    deleted: bytes === null,
    ...(bytes === null ? {} : { value }),
    version: { clock: winner.stamp.clock, node: winner.stamp.node },
    siblings: change.record.length - 1,
  };
}

/** `put`, `get` and `delete` of plain keys through a Replicator. */
export class KvData {
  readonly #replicator: () => Replicator;
  readonly #ready: ((db: Database) => Promise<unknown>) | undefined;

  /**
   * `replicator` is a getter so the API can be built before the Replicator opens.
   * `ready` is awaited before each operation: the peer loads the database's D
   * record there, so the Replicator's synchronous settings lookup finds its N.
   */
  constructor(replicator: () => Replicator, ready?: (db: Database) => Promise<unknown>) {
    this.#replicator = replicator;
    this.#ready = ready;
  }

  async put(
    key: string | Uint8Array,
    value: unknown,
    options: DataWriteOptions = {},
  ): Promise<DataWriteResult> {
    if (value === undefined) throw new InvalidArgumentError('value must not be undefined (use delete)');
    const routingKey = userKeyBytes(key);
    const recordKey = kvRecordKey(routingKey, options.database);
    await this.#ready?.(options.database ?? DEFAULT_DATABASE);
    return this.#replicator().put(recordKey, encodeValue(value), {
      routingKey,
      ...(options.consistency === undefined ? {} : { consistency: options.consistency }),
      ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
      ...(options.context === undefined ? {} : { context: options.context }),
    });
  }

  async delete(key: string | Uint8Array, options: DataWriteOptions = {}): Promise<DataWriteResult> {
    const routingKey = userKeyBytes(key);
    const recordKey = kvRecordKey(routingKey, options.database);
    await this.#ready?.(options.database ?? DEFAULT_DATABASE);
    return this.#replicator().delete(recordKey, {
      routingKey,
      ...(options.consistency === undefined ? {} : { consistency: options.consistency }),
      ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
      ...(options.context === undefined ? {} : { context: options.context }),
    });
  }

  async get(key: string | Uint8Array, options: DataReadOptions = {}): Promise<DataReadResult> {
    const routingKey = userKeyBytes(key);
    const recordKey = kvRecordKey(routingKey, options.database);
    await this.#ready?.(options.database ?? DEFAULT_DATABASE);
    const read = await this.#replicator().get(recordKey, {
      routingKey,
      ...(options.consistency === undefined ? {} : { consistency: options.consistency }),
    });
    return {
      found: read.found,
      ...(read.value === undefined ? {} : { value: decodeValue(read.value) }),
      ...(read.version === undefined ? {} : { version: read.version }),
      siblings: read.siblings.map((sibling) => ({
        deleted: sibling.deleted,
        ...(sibling.value === undefined ? {} : { value: decodeValue(sibling.value) }),
        version: sibling.version,
      })),
      context: read.context,
      answered: read.answered,
      required: read.required,
    };
  }
}
