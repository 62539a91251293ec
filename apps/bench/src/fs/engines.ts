/**
 * The three embedded engines measured for the filesystem backend, each
 * driven the way a Tessera backend on top of it would drive it, with the
 * same small surface so one workload runs against all of them.
 * See docs/decisions/0001-filesystem-engine.md.
 */
import { DatabaseSync } from 'node:sqlite';
import { ClassicLevel } from 'classic-level';
import { open as openLmdb } from 'lmdb';
import type { Target } from './workloads.ts';

/** A raw engine is a workload target, plus what the engine comparison needs. */
export interface RawEngine extends Target {
  /** Every key in engine order (for the byte-order check). */
  keys(): Promise<Uint8Array[]>;
  close(): Promise<void>;
}

/** lmdb-js: synchronous reads from the memory map, writes batched per event turn on its write thread. */
export function openRawLmdb(dir: string): RawEngine {
  const db = openLmdb({
    path: `${dir}/data.mdb`,
    keyEncoding: 'binary',
    encoding: 'binary',
    separateFlushed: true,
    // Start with a large map (address space, not disk): growing from lmdb's 128 KiB default remaps often.
    mapSize: 2 ** 32,
  });
  type FlushedPromise = Promise<boolean> & { flushed?: Promise<boolean> };
  const settle = async (p: FlushedPromise, durable: boolean) => {
    await p;
    if (durable) await p.flushed;
  };
  return {
    name: 'lmdb',
    put: (key, value, durable) => settle(db.put(key, value) as FlushedPromise, durable),
    putMany: (entries, durable) =>
      settle(
        db.batch(() => {
          for (const [k, v] of entries) db.put(k, v);
        }) as FlushedPromise,
        durable,
      ),
    get: (key) => db.getBinary(key),
    scan: async (count, reverse) => {
      let n = 0;
      for (const _ of db.getRange({ reverse, limit: count })) n++;
      return n;
    },
    keys: async () => [...db.getKeys({})].map((k) => new Uint8Array(k as Uint8Array)),
    close: () => db.close(),
  };
}

/** classic-level (LevelDB): async everything on the libuv pool (getSync exists), `sync: true` fsyncs the log. */
export async function openRawLevel(dir: string): Promise<RawEngine> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  return {
    name: 'classic-level',
    put: (key, value, durable) => db.put(key, value, { sync: durable }),
    putMany: (entries, durable) =>
      db.batch(
        entries.map(([key, value]) => ({ type: 'put' as const, key, value })),
        { sync: durable },
      ),
    get: (key) => db.getSync(key),
    scan: async (count, reverse) => {
      let n = 0;
      for await (const _ of db.iterator({ reverse, limit: count })) n++;
      return n;
    },
    keys: async () => db.keys().all(),
    close: () => db.close(),
  };
}

/**
 * node:sqlite in WAL mode. It has no async API, so concurrent writes are
 * grouped here: ops queued in one event turn run in one transaction (one
 * commit, one WAL fsync under synchronous=FULL).
 */
export function openRawSqlite(dir: string, synchronous: 'FULL' | 'NORMAL'): RawEngine {
  const db = new DatabaseSync(`${dir}/data.sqlite`);
  db.exec(`PRAGMA journal_mode=WAL; PRAGMA synchronous=${synchronous};`);
  db.exec('CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID');
  const putStmt = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)');
  const getStmt = db.prepare('SELECT v FROM kv WHERE k = ?');
  const scanFwd = db.prepare('SELECT k, v FROM kv ORDER BY k LIMIT ?');
  const scanRev = db.prepare('SELECT k, v FROM kv ORDER BY k DESC LIMIT ?');
  const keysStmt = db.prepare('SELECT k FROM kv ORDER BY k');
  let queue: {
    entries: readonly (readonly [Uint8Array, Uint8Array])[];
    resolve: () => void;
    reject: (e: unknown) => void;
  }[] = [];
  const flush = () => {
    const jobs = queue;
    queue = [];
    try {
      db.exec('BEGIN');
      for (const job of jobs) for (const [k, v] of job.entries) putStmt.run(k, v);
      db.exec('COMMIT');
      for (const job of jobs) job.resolve();
    } catch (e) {
      if (db.isTransaction) db.exec('ROLLBACK');
      for (const job of jobs) job.reject(e);
    }
  };
  const enqueue = (entries: readonly (readonly [Uint8Array, Uint8Array])[]) =>
    new Promise<void>((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ entries, resolve, reject });
    });
  return {
    name: `node:sqlite ${synchronous}`,
    // Durability is fixed per connection by the pragma; `durable` only matters per engine open.
    put: (key, value) => enqueue([[key, value]]),
    putMany: (entries) => enqueue(entries),
    get: (key) => {
      const row = getStmt.get(key) as { v: Uint8Array } | undefined;
      return row?.v;
    },
    scan: async (count, reverse) => (reverse ? scanRev : scanFwd).all(count).length,
    keys: async () => (keysStmt.all() as { k: Uint8Array }[]).map((r) => r.k),
    close: async () => db.close(),
  };
}
