/** Typed errors of the document layer (match on `name` or `code`). */
import { TesseraError } from '@tessera/core';

/** Thrown when a document does not fit its collection's schema; nothing was written. */
export class SchemaViolationError extends TesseraError {
  /** The field at fault (dotted for nested reasons), or '' for the document as a whole. */
  readonly field: string;
  constructor(field: string, reason: string) {
    super(field === '' ? reason : `${field}: ${reason}`, 'ERR_SCHEMA_VIOLATION');
    this.field = field;
  }
}

/** Thrown when a collection definition is malformed (bad field type, unknown index field, bad primary key). */
export class InvalidSchemaError extends TesseraError {
  constructor(message: string) {
    super(message, 'ERR_INVALID_SCHEMA');
  }
}

/** Thrown when a collection is opened with a definition that differs from the stored one. */
export class SchemaConflictError extends TesseraError {
  constructor(collection: string) {
    super(
      `collection ${collection} exists with another definition (change indexes with addIndex/dropIndex)`,
      'ERR_SCHEMA_CONFLICT',
    );
  }
}

/** Thrown when a collection does not exist (no C record) and no definition was given to create it. */
export class CollectionNotFoundError extends TesseraError {
  constructor(collection: string) {
    super(`no collection ${collection}`, 'ERR_COLLECTION_NOT_FOUND');
  }
}

/** Thrown when `insert` finds a document with the same primary key; nothing was written. */
export class DocumentExistsError extends TesseraError {
  constructor(primaryKey: unknown) {
    super(`a document with primary key ${String(primaryKey)} exists`, 'ERR_DOCUMENT_EXISTS');
  }
}

/** Thrown when `replace` or `update` finds no document with that primary key; nothing was written. */
export class DocumentNotFoundError extends TesseraError {
  constructor(primaryKey: unknown) {
    super(`no document with primary key ${String(primaryKey)}`, 'ERR_DOCUMENT_NOT_FOUND');
  }
}

/** Thrown when `find` names an index the collection does not have. */
export class IndexNotFoundError extends TesseraError {
  constructor(index: string) {
    super(`no index ${index}`, 'ERR_INDEX_NOT_FOUND');
  }
}

/** Thrown when `find` uses an index whose backfill has not finished. */
export class IndexNotReadyError extends TesseraError {
  constructor(index: string) {
    super(`index ${index} is still being built`, 'ERR_INDEX_NOT_READY');
  }
}

/** Thrown when a `find` query or cursor does not fit the index (wrong shape, type or collection). */
export class InvalidQueryError extends TesseraError {
  constructor(message: string) {
    super(message, 'ERR_INVALID_QUERY');
  }
}
