/**
 * Per-database replication settings from D records, for the Replicator's
 * synchronous `databaseReplication(key)` callback. The callback cannot wait
 * for a quorum read, so settings are cached here: `ensure(db)` (awaited by
 * the peer's key-value path and the relay before they write) loads a
 * database the cache has never seen; a cached entry older than
 * `refreshMs` is still used while a background read refreshes it. A key
 * whose database is not cached yet gets the peer defaults and starts that
 * read in the background.
 */
import { decodeKey } from '@tessera/core';
import type { DatabaseOptions } from '@tessera/documents';
import { type DatabaseReplication, replicationFactorMax } from '@tessera/replication';

/** A database name or number (a key tuple element). */
export type DatabaseId = string | number;

/** How long a D record read is used before it is read again in the background, ms. */
export const DATABASE_REFRESH_MS_DEFAULT = 1000;
/** Databases remembered; the oldest read is dropped beyond this. */
export const DATABASES_CACHED_MAX = 4096;
/** D record reads running at once in the background; more wait for a later key. */
export const DATABASE_LOADS_MAX = 8;

export interface DatabaseSettingsOptions {
  /** Reads a database's D record (undefined when it has none); throws when no quorum answers. */
  readonly read: (db: DatabaseId) => Promise<DatabaseOptions | undefined>;
  /** N and consistency of a database without a D record, or of a D record that leaves them out. */
  readonly defaults: DatabaseReplication;
  readonly now?: () => number;
  readonly refreshMs?: number;
  /** Called when a database's settings changed (the Replicator's digests must be forgotten). */
  readonly onChange?: (db: DatabaseId) => void;
  /** Where failed background reads are reported. */
  readonly onError?: (db: DatabaseId, error: unknown) => void;
}

interface Entry {
  /** undefined: no D record (peer defaults). */
  settings: DatabaseReplication | undefined;
  readMs: number;
}

const CATEGORY_OBJECT = 0x4f; // 'O'
const CATEGORY_INDEX = 0x49; // 'I'

/**
 * The settings a D record asks for, over `defaults`. A field that is out of
 * range (a bad record from another peer) falls back to the default instead
 * of failing every write of the database.
 */
export function settingsFromOptions(
  options: DatabaseOptions | undefined,
  defaults: DatabaseReplication,
): DatabaseReplication | undefined {
  if (options === undefined || options === null || typeof options !== 'object') return undefined;
  const n = options.replicationFactor;
  const replicationFactor =
    typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= replicationFactorMax
      ? n
      : defaults.replicationFactor;
  const c = options.consistency;
  const consistency = c === 'one' || c === 'quorum' || c === 'all' ? c : defaults.consistency;
  return { replicationFactor, consistency };
}

function sameSettings(a: DatabaseReplication, b: DatabaseReplication): boolean {
  return (
    a.replicationFactor === b.replicationFactor &&
    JSON.stringify(a.consistency) === JSON.stringify(b.consistency)
  );
}

/** The database of an O or I record key, else undefined (metadata, coordinator records, foreign keys). */
export function databaseOfKey(key: Uint8Array): DatabaseId | undefined {
  if (key[0] !== CATEGORY_OBJECT && key[0] !== CATEGORY_INDEX) return undefined;
  try {
    const db = decodeKey(key).elements[0];
    if (typeof db === 'string' && db.length > 0) return db;
    if (typeof db === 'number' && Number.isSafeInteger(db)) return db;
  } catch {
    // Not a tuple key: no database.
  }
  return undefined;
}

export class DatabaseSettings {
  readonly defaults: DatabaseReplication;
  readonly refreshMs: number;
  readonly #read: DatabaseSettingsOptions['read'];
  readonly #now: () => number;
  readonly #onChange: DatabaseSettingsOptions['onChange'];
  readonly #onError: DatabaseSettingsOptions['onError'];
  // Keyed by type and value, so database 3 and database '3' stay apart.
  readonly #entries = new Map<string, Entry>();
  readonly #loading = new Map<string, Promise<DatabaseReplication>>();
  #closed = false;

  constructor(options: DatabaseSettingsOptions) {
    this.defaults = options.defaults;
    this.refreshMs = options.refreshMs ?? DATABASE_REFRESH_MS_DEFAULT;
    this.#read = options.read;
    this.#now = options.now ?? Date.now;
    this.#onChange = options.onChange;
    this.#onError = options.onError;
  }

  /** Settings of the database a record key belongs to, without waiting; undefined means the defaults. */
  settingsOf(key: Uint8Array): DatabaseReplication | undefined {
    const db = databaseOfKey(key);
    if (db === undefined) return undefined;
    const entry = this.#entries.get(idOf(db));
    if (entry === undefined || this.#now() - entry.readMs >= this.refreshMs) this.#background(db);
    return entry?.settings;
  }

  /**
   * The database's settings, reading its D record first when it is not
   * cached (a stale entry is returned at once and refreshed in the
   * background). When the read fails the defaults (or what was known) apply
   * until a read one refresh period later works.
   */
  async ensure(db: DatabaseId): Promise<DatabaseReplication> {
    const entry = this.#entries.get(idOf(db));
    if (entry !== undefined) {
      if (this.#now() - entry.readMs >= this.refreshMs) this.#background(db);
      return entry.settings ?? this.defaults;
    }
    try {
      return await this.load(db);
    } catch (error) {
      this.#onError?.(db, error);
      return this.defaults;
    }
  }

  /** Reads the D record now (joining a read already running) and caches it. */
  load(db: DatabaseId): Promise<DatabaseReplication> {
    const id = idOf(db);
    const running = this.#loading.get(id);
    if (running !== undefined) return running;
    const loading = (async () => {
      try {
        const settings = settingsFromOptions(await this.#read(db), this.defaults);
        this.#remember(db, settings);
        return settings ?? this.defaults;
      } catch (error) {
        // Keep what was known (the defaults if nothing) and try again after a refresh
        // period, so an unreachable metadata slot costs one read per period, not one per write.
        const entry = this.#entries.get(id);
        if (entry !== undefined) entry.readMs = this.#now();
        else this.#entries.set(id, { settings: undefined, readMs: this.#now() });
        throw error;
      } finally {
        this.#loading.delete(id);
      }
    })();
    this.#loading.set(id, loading);
    return loading;
  }

  /** Takes options this peer just wrote, so its next write uses them without waiting for a refresh. */
  remember(db: DatabaseId, options: DatabaseOptions | undefined): void {
    this.#remember(db, settingsFromOptions(options, this.defaults));
  }

  /** How many databases are cached. */
  get size(): number {
    return this.#entries.size;
  }

  /** Stops background reads (the Replicator is closing). */
  close(): void {
    this.#closed = true;
  }

  #background(db: DatabaseId): void {
    if (this.#closed || this.#loading.has(idOf(db)) || this.#loading.size >= DATABASE_LOADS_MAX) return;
    this.load(db).catch((error: unknown) => this.#onError?.(db, error));
  }

  #remember(db: DatabaseId, settings: DatabaseReplication | undefined): void {
    const id = idOf(db);
    const before = this.#entries.get(id);
    this.#entries.delete(id);
    if (this.#entries.size >= DATABASES_CACHED_MAX) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(id, { settings, readMs: this.#now() });
    // Until now the database ran on the defaults (or the old record): a change moves its owners.
    if (!sameSettings(before?.settings ?? this.defaults, settings ?? this.defaults)) this.#onChange?.(db);
  }
}

function idOf(db: DatabaseId): string {
  return typeof db === 'number' ? `n${db}` : `s${db}`;
}
