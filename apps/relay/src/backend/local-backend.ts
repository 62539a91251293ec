/**
 * A `KvBackend` over one local `Store`: a single node that owns every slot.
 * It serves the RESP server until the replicated backend takes over, and
 * stays useful for a standalone node and for tests.
 *
 * Writes run one at a time (a mutex), so SET NX/XX, GET, INCR and DEL are
 * atomic read-modify-writes. Expired keys are invisible at once; they are
 * removed when touched and by a background reaper that walks the expiry
 * index in time order.
 */
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, SLOT_COUNT } from '@tessera/core';
import type { BatchOp, Store } from '@tessera/storage';
import { IncrementOverflowError, NotAnIntegerError } from '../errors.ts';
import type {
  ClusterTopology,
  KeyspaceStats,
  KvBackend,
  ScanPage,
  ScanStepOptions,
  SetOptions,
  SetResult,
} from './backend.ts';
import { globMatch, matchesEverything } from './glob.ts';
import {
  decodeKvRecord,
  dueExpiryRange,
  encodeKvRecord,
  expiryKey,
  expiryRange,
  type KvRecord,
  objectKey,
  objectRange,
  parseExpiryKey,
  userKeyOf,
} from './kv-record.ts';
import { Mutex } from './mutex.ts';

/** Options of `openLocalBackend`. */
export interface LocalBackendOptions {
  readonly store: Store;
  /** Databases SELECT accepts. Default 16, as in Redis. */
  readonly databases?: number;
  /** 40 hex characters; random when not given. */
  readonly nodeId?: string;
  /** Clock in Unix milliseconds (injectable for tests). Default `Date.now`. */
  readonly now?: () => number;
  /** Period of the expiry reaper; 0 turns it off. Default 100 ms (Redis' hz 10). */
  readonly reapIntervalMs?: number;
  /** Expired keys removed per database per reaper round. Default 200. */
  readonly reapKeysMax?: number;
  /** Hears store failures of background work (reaping). Default: ignore. */
  readonly onError?: (error: unknown) => void;
}

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
const DEFAULT_DATABASES = 16;
const DEFAULT_REAP_INTERVAL_MS = 100;
const DEFAULT_REAP_KEYS_MAX = 200;
/** Longest decimal of a signed 64-bit integer ("-9223372036854775808"). */
const INT64_DIGITS_MAX = 20;

/**
 * Parses a Redis integer string like `string2ll`: optional `-`, digits, no
 * leading zeros, no spaces, within signed 64 bits.
 */
export function parseInt64(bytes: Uint8Array): bigint | undefined {
  if (bytes.length === 0 || bytes.length > INT64_DIGITS_MAX) return undefined;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  if (!/^(0|-?[1-9][0-9]*)$/.test(text)) return undefined;
  const n = BigInt(text);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

function successor(key: Uint8Array): Uint8Array {
  const next = new Uint8Array(key.length + 1);
  next.set(key);
  return next;
}

/** Opens a local backend over `store` (counting its existing keys once). */
export async function openLocalBackend(options: LocalBackendOptions): Promise<LocalKvBackend> {
  const backend = new LocalKvBackend(options);
  await backend.load();
  return backend;
}

export class LocalKvBackend implements KvBackend {
  readonly databases: number;
  readonly nodeId: string;
  readonly #store: Store;
  readonly #now: () => number;
  readonly #reapKeysMax: number;
  readonly #onError: (error: unknown) => void;
  readonly #mutex = new Mutex();
  readonly #stats: { keys: number; expires: number }[];
  #reaper: ReturnType<typeof setInterval> | undefined;
  #reaping: Promise<void> | undefined;
  #closed = false;

  constructor(options: LocalBackendOptions) {
    const databases = options.databases ?? DEFAULT_DATABASES;
    if (!Number.isSafeInteger(databases) || databases < 1 || databases > 1_000_000) {
      throw new InvalidArgumentError(`databases must be 1..1000000, got ${databases}`);
    }
    const nodeId = options.nodeId ?? randomBytes(20).toString('hex');
    if (!/^[0-9a-f]{40}$/.test(nodeId))
      throw new InvalidArgumentError('nodeId must be 40 lowercase hex characters');
    this.databases = databases;
    this.nodeId = nodeId;
    this.#store = options.store;
    this.#now = options.now ?? Date.now;
    this.#reapKeysMax = options.reapKeysMax ?? DEFAULT_REAP_KEYS_MAX;
    this.#onError = options.onError ?? (() => {});
    this.#stats = Array.from({ length: databases }, () => ({ keys: 0, expires: 0 }));
    const interval = options.reapIntervalMs ?? DEFAULT_REAP_INTERVAL_MS;
    if (interval > 0) {
      this.#reaper = setInterval(() => {
        if (this.#reaping === undefined) {
          this.#reaping = this.reapExpired()
            .then(() => undefined)
            .catch((e: unknown) => this.#onError(e))
            .finally(() => {
              this.#reaping = undefined;
            });
        }
      }, interval);
      this.#reaper.unref();
    }
  }

  /** Counts the keys and TTLs already in the store. */
  async load(): Promise<void> {
    for (let db = 0; db < this.databases; db++) {
      const stats = this.#stats[db]!;
      for await (const _ of this.#store.scan(objectRange(db))) stats.keys++;
      for await (const _ of this.#store.scan(expiryRange(db))) stats.expires++;
    }
  }

  async get(db: number, key: Uint8Array): Promise<Uint8Array | undefined> {
    return (await this.#read(db, key))?.value;
  }

  async getMany(db: number, keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return Promise.all(keys.map((k) => this.get(db, k)));
  }

  set(db: number, key: Uint8Array, value: Uint8Array, options: SetOptions = {}): Promise<SetResult> {
    return this.#mutex.run(async () => {
      const old = await this.#readRaw(db, key);
      const alive = old !== undefined && !this.#expired(old) ? old : undefined;
      const previous = options.returnPrevious ? { previous: alive?.value } : {};
      if ((options.condition === 'NX' && alive) || (options.condition === 'XX' && !alive)) {
        return { written: false, ...previous };
      }
      const expiresAtMs = options.keepTtl ? alive?.expiresAtMs : options.expiresAtMs;
      if (expiresAtMs !== undefined && expiresAtMs <= this.#now()) {
        await this.#remove(db, key, old);
      } else {
        await this.#write(db, key, old, value, expiresAtMs);
      }
      return { written: true, ...previous };
    });
  }

  setMany(db: number, entries: readonly (readonly [Uint8Array, Uint8Array])[]): Promise<void> {
    return this.#mutex.run(async () => {
      const last = new Map<string, readonly [Uint8Array, Uint8Array]>();
      for (const entry of entries) last.set(Buffer.from(entry[0]).toString('latin1'), entry);
      const ops: BatchOp[] = [];
      let added = 0;
      let expiresRemoved = 0;
      for (const [key, value] of last.values()) {
        const old = await this.#readRaw(db, key);
        if (old === undefined) added++;
        if (old?.expiresAtMs !== undefined) {
          ops.push({ type: 'delete', key: expiryKey(db, old.expiresAtMs, key) });
          expiresRemoved++;
        }
        ops.push({ type: 'put', key: objectKey(db, key), value: encodeKvRecord(value) });
      }
      await this.#store.batch(ops);
      this.#stats[db]!.keys += added;
      this.#stats[db]!.expires -= expiresRemoved;
    });
  }

  delete(db: number, keys: readonly Uint8Array[]): Promise<number> {
    return this.#mutex.run(async () => {
      let deleted = 0;
      const seen = new Set<string>();
      for (const key of keys) {
        const id = Buffer.from(key).toString('latin1');
        if (seen.has(id)) continue;
        seen.add(id);
        const old = await this.#readRaw(db, key);
        if (old === undefined) continue;
        if (!this.#expired(old)) deleted++;
        await this.#remove(db, key, old);
      }
      return deleted;
    });
  }

  async exists(db: number, keys: readonly Uint8Array[]): Promise<number> {
    const found = await Promise.all(keys.map((k) => this.#read(db, k)));
    return found.filter((r) => r !== undefined).length;
  }

  incrementBy(db: number, key: Uint8Array, delta: bigint): Promise<bigint> {
    return this.#mutex.run(async () => {
      const old = await this.#readRaw(db, key);
      const alive = old !== undefined && !this.#expired(old) ? old : undefined;
      const current = alive === undefined ? 0n : parseInt64(alive.value);
      if (current === undefined) throw new NotAnIntegerError();
      const next = current + delta;
      if (next < INT64_MIN || next > INT64_MAX) throw new IncrementOverflowError();
      await this.#write(db, key, old, Buffer.from(next.toString()), alive?.expiresAtMs);
      return next;
    });
  }

  async ttlMs(db: number, key: Uint8Array): Promise<number> {
    const record = await this.#read(db, key);
    if (record === undefined) return -2;
    if (record.expiresAtMs === undefined) return -1;
    return Math.max(0, record.expiresAtMs - this.#now());
  }

  async scan(db: number, options: ScanStepOptions): Promise<ScanPage> {
    this.#checkDb(db);
    const range = objectRange(db);
    const start = options.after === undefined ? range.start : successor(options.after);
    const match =
      options.match !== undefined && !matchesEverything(options.match) ? options.match : undefined;
    const now = this.#now();
    const keys: Uint8Array[] = [];
    let examined = 0;
    let last: Uint8Array | undefined;
    for await (const entry of this.#store.scan({ start, end: range.end, limit: options.count })) {
      examined++;
      last = entry.key;
      const record = decodeKvRecord(entry.value);
      if (record.expiresAtMs !== undefined && record.expiresAtMs <= now) continue;
      const key = userKeyOf(entry.key);
      if (match === undefined || globMatch(match, key)) keys.push(key);
    }
    return examined < options.count || last === undefined ? { keys } : { keys, next: last };
  }

  async stats(db: number): Promise<KeyspaceStats> {
    this.#checkDb(db);
    return { ...this.#stats[db]! };
  }

  async topology(self: { host: string; port: number }): Promise<ClusterTopology> {
    const node = { id: this.nodeId, host: self.host, port: self.port };
    return {
      self: node,
      nodes: [node],
      ranges: [{ start: 0, end: SLOT_COUNT - 1, owners: [node] }],
      epoch: 0,
    };
  }

  /** Removes up to `reapKeysMax` due keys per database; resolves with how many went. */
  async reapExpired(): Promise<number> {
    let reaped = 0;
    for (let db = 0; db < this.databases && !this.#closed; db++) {
      if (this.#stats[db]!.expires === 0) continue;
      const due: Uint8Array[] = [];
      for await (const entry of this.#store.scan({
        ...dueExpiryRange(db, this.#now()),
        limit: this.#reapKeysMax,
      })) {
        due.push(entry.key);
      }
      for (const indexKey of due) {
        if (this.#closed) break;
        const { expiresAtMs, key } = parseExpiryKey(indexKey);
        reaped += await this.#mutex.run(async () => {
          const record = await this.#readRaw(db, key);
          if (record?.expiresAtMs === expiresAtMs && this.#expired(record)) {
            await this.#remove(db, key, record);
            return 1;
          }
          // An index entry whose object moved on is stale; drop it alone.
          if (record?.expiresAtMs !== expiresAtMs) await this.#store.delete(indexKey);
          return 0;
        });
      }
    }
    return reaped;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#reaper !== undefined) clearInterval(this.#reaper);
    await this.#reaping;
    await this.#mutex.run(async () => undefined);
  }

  #checkDb(db: number): void {
    if (!Number.isSafeInteger(db) || db < 0 || db >= this.databases) {
      throw new InvalidArgumentError(`database ${db} is out of range 0..${this.databases - 1}`);
    }
  }

  #expired(record: KvRecord): boolean {
    return record.expiresAtMs !== undefined && record.expiresAtMs <= this.#now();
  }

  async #readRaw(db: number, key: Uint8Array): Promise<KvRecord | undefined> {
    this.#checkDb(db);
    const bytes = await this.#store.get(objectKey(db, key));
    return bytes === undefined ? undefined : decodeKvRecord(bytes);
  }

  /** The live record, or undefined; an expired one is reaped on the way. */
  async #read(db: number, key: Uint8Array): Promise<KvRecord | undefined> {
    const record = await this.#readRaw(db, key);
    if (record === undefined || !this.#expired(record)) return record;
    void this.#mutex
      .run(async () => {
        const again = await this.#readRaw(db, key);
        if (again !== undefined && this.#expired(again)) await this.#remove(db, key, again);
      })
      .catch((e: unknown) => this.#onError(e));
    return undefined;
  }

  async #write(
    db: number,
    key: Uint8Array,
    old: KvRecord | undefined,
    value: Uint8Array,
    expiresAtMs: number | undefined,
  ): Promise<void> {
    const ops: BatchOp[] = [
      { type: 'put', key: objectKey(db, key), value: encodeKvRecord(value, expiresAtMs) },
    ];
    if (old?.expiresAtMs !== undefined && old.expiresAtMs !== expiresAtMs) {
      ops.push({ type: 'delete', key: expiryKey(db, old.expiresAtMs, key) });
    }
    if (expiresAtMs !== undefined && old?.expiresAtMs !== expiresAtMs) {
      ops.push({ type: 'put', key: expiryKey(db, expiresAtMs, key), value: new Uint8Array(0) });
    }
    await this.#store.batch(ops);
    const stats = this.#stats[db]!;
    if (old === undefined) stats.keys++;
    stats.expires += (expiresAtMs !== undefined ? 1 : 0) - (old?.expiresAtMs !== undefined ? 1 : 0);
  }

  async #remove(db: number, key: Uint8Array, old: KvRecord | undefined): Promise<void> {
    if (old === undefined) return;
    const ops: BatchOp[] = [{ type: 'delete', key: objectKey(db, key) }];
    if (old.expiresAtMs !== undefined) ops.push({ type: 'delete', key: expiryKey(db, old.expiresAtMs, key) });
    await this.#store.batch(ops);
    const stats = this.#stats[db]!;
    stats.keys--;
    if (old.expiresAtMs !== undefined) stats.expires--;
  }
}
