export { LOCK_FILE_NAME } from './dir-lock.ts';
export { StoreLockedError } from './errors.ts';
export { DATA_FILE_NAME, FsStore, type FsStoreOptions, LMDB_KEY_BYTES_MAX, openFsStore } from './fs-store.ts';
