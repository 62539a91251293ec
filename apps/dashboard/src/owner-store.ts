/**
 * The IndexedDB store of an owner tab. Each store holds a peer identity, so
 * two tabs must never open the same one: a Web Lock per store name is held
 * for as long as the tab's peer runs, and a second tab takes the next free
 * name. A reload gets the same name back, so an owner keeps its id.
 */
import { openIndexedDbStore, type Store } from '@tessera/storage';
import { DashboardConfigError } from './errors.ts';

/** Owner tabs of one cluster that can run at once in one browser profile. */
export const OWNER_STORES_MAX = 8;

/** An open owner store and the lock that keeps it this tab's. */
export interface OwnerStore {
  readonly name: string;
  readonly store: Store;
  /** Closes the store, then gives the name back. */
  close(): Promise<void>;
}

/** Opens the first free owner store of `cluster`; throws `DashboardConfigError` when all are taken. */
export async function openOwnerStore(cluster: string): Promise<OwnerStore> {
  const locks = globalThis.navigator?.locks;
  for (let index = 0; index < OWNER_STORES_MAX; index += 1) {
    const name = `tessera-dashboard/${cluster}/owner-${index}`;
    const release = locks === undefined ? () => undefined : await tryLock(locks, name);
    if (release === undefined) continue;
    let store: Store;
    try {
      store = await openIndexedDbStore(name);
    } catch (err) {
      release();
      throw err;
    }
    return {
      name,
      store,
      async close() {
        try {
          await store.close();
        } finally {
          release();
        }
      },
    };
  }
  throw new DashboardConfigError(
    `all ${OWNER_STORES_MAX} owner stores of ${cluster} are in use by other tabs`,
  );
}

/** Takes the lock if free; resolves with its release function, or undefined when another tab holds it. */
function tryLock(locks: LockManager, name: string): Promise<(() => void) | undefined> {
  return new Promise((resolve, reject) => {
    locks
      .request(name, { ifAvailable: true }, (lock) => {
        if (lock === null) {
          resolve(undefined);
          return;
        }
        // The lock lasts until this promise settles.
        return new Promise<void>((release) => resolve(() => release()));
      })
      .catch(reject);
  });
}
