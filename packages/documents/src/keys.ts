/**
 * Key layout of the document layer (docs/spec/keys.md categories D, C, O, I):
 * `D/db` database options, `C/db/collection` schema, `O/db/collection/pk`
 * object, `I/db/collection/index/values…/pk` index entry (value type
 * `INDEX_SECONDARY`). An object and its index entries share a slot: both
 * route by the object key, and index entries are derived on the replica
 * that stores the object (see derive.ts).
 */
import {
  encodeKey,
  INDEX_SECONDARY,
  InvalidArgumentError,
  keyPrefix,
  type TupleElement,
} from '@tessera/core';
import { nameLengthMax } from './limits.ts';
import { wellFormed } from './schema.ts';

/** A database name or number. */
export type DatabaseName = string | number;

/**
 * Routing key of every D and C record: one hash-tagged key, so all
 * metadata lives in one slot (see docs/decisions/0002-document-metadata.md).
 */
export const META_ROUTING_KEY = '{tessera.meta}';

/** The built-in collection of plain key-value records; no schema, no indexes. */
export const KV_COLLECTION = 'kv';

export function checkDatabaseName(name: unknown): DatabaseName {
  const ok =
    typeof name === 'string'
      ? name.length > 0 && name.length <= nameLengthMax && wellFormed(name)
      : Number.isSafeInteger(name);
  if (!ok)
    throw new InvalidArgumentError(`database must be a string of 1..${nameLengthMax} or a safe integer`);
  return name as DatabaseName;
}

export function checkCollectionName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > nameLengthMax || !wellFormed(name)) {
    throw new InvalidArgumentError(`collection must be a string of 1..${nameLengthMax}`);
  }
  if (name === KV_COLLECTION)
    throw new InvalidArgumentError(`${KV_COLLECTION} is the built-in key-value collection`);
  return name;
}

export const databaseKey = (db: DatabaseName) => encodeKey('D', [db]);
export const collectionKey = (db: DatabaseName, collection: string) => encodeKey('C', [db, collection]);
export const objectKey = (db: DatabaseName, collection: string, pk: TupleElement) =>
  encodeKey('O', [db, collection, pk]);
/** Every object key of a collection starts with this. */
export const objectPrefix = (db: DatabaseName, collection: string) => keyPrefix('O', [db, collection]);
/** Every entry of one index starts with this. */
export const indexPrefix = (db: DatabaseName, collection: string, index: string) =>
  keyPrefix('I', [db, collection, index], { valueType: INDEX_SECONDARY });

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** `bytes` followed by 0xFF: the end of the range of every key extending `bytes`. */
export const afterAll = (bytes: Uint8Array) => concatBytes(bytes, Uint8Array.of(0xff));
