/** A `Store` that reports each key it durably wrote: how the harness sees data arrive at a browser replica. */
import type { Store } from '@tessera/storage';

/** Wraps `store`; `onWrite(key)` runs after each put or batched put resolved. */
export function watchedStore(store: Store, onWrite: (key: Uint8Array) => void): Store {
  return {
    get: (key) => store.get(key),
    async put(key, value, options) {
      await store.put(key, value, options);
      onWrite(key);
    },
    delete: (key, options) => store.delete(key, options),
    async batch(ops, options) {
      await store.batch(ops, options);
      for (const op of ops) if (op.type === 'put') onWrite(op.key);
    },
    scan: (options) => store.scan(options),
    estimateSize: () => store.estimateSize(),
    close: () => store.close(),
    get limits() {
      return store.limits;
    },
  };
}
