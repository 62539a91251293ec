export { Catalog, type DatabaseOptions, METADATA_FORMAT_VERSION } from './catalog.ts';
export {
  Collection,
  type DocumentReadOptions,
  type DocumentWriteOptions,
  type DocumentWriteResult,
  type FindOptions,
  type FindResult,
} from './collection.ts';
export { Database, Documents, type DocumentsOptions } from './database.ts';
export { deriveIndexEntries, indexEntryKey } from './derive.ts';
export { DOCUMENT_FORMAT_VERSION, decodeEnvelope, encodeEnvelope } from './envelope.ts';
export * from './errors.ts';
export {
  collectionKey,
  type DatabaseName,
  databaseKey,
  indexPrefix,
  KV_COLLECTION,
  META_ROUTING_KEY,
  objectKey,
  objectPrefix,
} from './keys.ts';
export * from './limits.ts';
export type { FindQuery, RangeBounds } from './query.ts';
export { REINDEX_JOB_KIND, type ReindexReport } from './reindex.ts';
export type {
  CollectionDefinition,
  CollectionSchema,
  Document,
  FieldSpec,
  FieldType,
  IndexSpec,
  StoredIndex,
} from './schema.ts';
