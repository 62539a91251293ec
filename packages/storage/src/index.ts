export { compareBytes, copyBytes, prefixEnd } from './bytes.ts';
export {
  InvalidArgumentError,
  LimitExceededError,
  QuotaExceededError,
  StorageIoError,
  StoreClosedError,
} from './errors.ts';
export {
  type DeleteIndexedDbStoreOptions,
  deleteIndexedDbStore,
  IDB_OBJECT_STORE,
  type IndexedDbStoreOptions,
  mapIdbError,
  openIndexedDbStore,
} from './indexeddb.ts';
export {
  DEFAULT_BATCH_OPS_MAX,
  DEFAULT_KEY_BYTES_MAX,
  DEFAULT_STORE_LIMITS,
  DEFAULT_VALUE_BYTES_MAX,
  resolveBound,
  resolveLimits,
} from './limits.ts';
export { type MemoryStoreOptions, openMemoryStore } from './memory.ts';
export type * from './store.ts';
export {
  checkBatch,
  checkBytes,
  checkKey,
  checkValue,
  checkWriteOptions,
  inRange,
  resolveScan,
  type ScanRange,
} from './validate.ts';
