/**
 * Tenants are databases: tenant `t` is the database `t` of the document
 * layer, its D record `encodeKey('D', [t])` with the value
 * `{ v: 1, o: options }`, routed like all metadata by `META_ROUTING_KEY`
 * (one slot; docs/decisions/0002-document-metadata.md), read and written at
 * quorum. So `peer.database(t).options()` reads what POST /v1/tenants
 * wrote, and the peer's per-database replication (N, default consistency)
 * follows it.
 */
import { decodeValue, encodeKey, encodeValue, type VersionVector } from '@tessera/core';
import { type DatabaseOptions, META_ROUTING_KEY, METADATA_FORMAT_VERSION } from '@tessera/peer';
import { ApiError } from './errors.ts';
import type { RecordApi } from './records.ts';

/** What the HTTP API reports of a D record. */
export interface TenantOptions {
  readonly replicationFactor: number;
  readonly consistency: 'one' | 'quorum' | 'all';
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

export const REPLICATION_FACTOR_MIN = 1;
export const REPLICATION_FACTOR_MAX = 10;
export const REPLICATION_FACTOR_DEFAULT = 3;
/** Tenant ids: 1..128 of A-Z a-z 0-9 . _ - */
export const TENANT_ID = /^[A-Za-z0-9._-]{1,128}$/;
/** How long a tenant read is reused before reading the D record again, ms. */
export const TENANT_CACHE_MS = 2_000;
/** Tenants remembered in the cache. */
export const TENANT_CACHE_ENTRIES_MAX = 10_000;

export function checkTenantId(id: unknown): string {
  if (typeof id !== 'string' || !TENANT_ID.test(id)) {
    throw new ApiError('INVALID_REQUEST', 'tenant_id must be 1..128 characters of A-Z a-z 0-9 . _ -');
  }
  return id;
}

export function checkReplicationFactor(value: unknown): number {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < REPLICATION_FACTOR_MIN ||
    value > REPLICATION_FACTOR_MAX
  ) {
    throw new ApiError(
      'INVALID_REPLICATION_FACTOR',
      `replication_factor must be an integer ${REPLICATION_FACTOR_MIN}..${REPLICATION_FACTOR_MAX}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function tenantKey(id: string): Uint8Array {
  return encodeKey('D', [id]);
}

const meta = { consistency: 'quorum', routingKey: META_ROUTING_KEY } as const;

/** A D record's options as stored (other fields, e.g. the document layer's, are kept on rewrite). */
type StoredOptions = DatabaseOptions & { readonly createdAtMs?: unknown; readonly updatedAtMs?: unknown };

function decodeStored(bytes: Uint8Array): StoredOptions {
  let value: { v?: unknown; o?: unknown } | undefined;
  try {
    value = decodeValue(bytes);
  } catch {
    throw new ApiError('INTERNAL_ERROR', 'stored tenant record is malformed');
  }
  const options = value?.o ?? {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ApiError('INTERNAL_ERROR', 'stored tenant record is malformed');
  }
  return options as StoredOptions;
}

/**
 * A database created by the document layer may leave N, the consistency or
 * the times out: it runs on the peer defaults, reported as the HTTP default.
 */
function tenantOptions(stored: StoredOptions): TenantOptions {
  const n = stored.replicationFactor;
  const c = stored.consistency;
  return {
    replicationFactor:
      typeof n === 'number' &&
      Number.isInteger(n) &&
      n >= REPLICATION_FACTOR_MIN &&
      n <= REPLICATION_FACTOR_MAX
        ? n
        : REPLICATION_FACTOR_DEFAULT,
    consistency: c === 'one' || c === 'quorum' || c === 'all' ? c : 'quorum',
    createdAtMs: typeof stored.createdAtMs === 'number' ? stored.createdAtMs : 0,
    updatedAtMs: typeof stored.updatedAtMs === 'number' ? stored.updatedAtMs : 0,
  };
}

function encodeStored(options: StoredOptions): Uint8Array {
  return encodeValue({ v: METADATA_FORMAT_VERSION, o: options });
}

/** Where the peer keeps each database's replication settings; the key-value path loads a tenant's before writing. */
export interface DatabaseSettingsSource {
  databaseReplication(database: string): Promise<unknown>;
}

export class Tenants {
  readonly #records: RecordApi;
  readonly #now: () => number;
  readonly #databases: DatabaseSettingsSource | undefined;
  readonly #cache = new Map<string, { options: TenantOptions; atMs: number }>();

  constructor(records: RecordApi, now: () => number = Date.now, databases?: DatabaseSettingsSource) {
    this.#records = records;
    this.#now = now;
    this.#databases = databases;
  }

  /** The tenant's options, or undefined when it does not exist (quorum read). */
  async get(id: string): Promise<TenantOptions | undefined> {
    const stored = await this.#read(id);
    return stored.options === undefined ? undefined : tenantOptions(stored.options);
  }

  async #read(id: string): Promise<{ options: StoredOptions | undefined; context: VersionVector }> {
    const read = await this.#records.get(tenantKey(id), meta);
    if (!read.found || read.value === undefined) {
      this.#cache.delete(id);
      return { options: undefined, context: read.context };
    }
    const options = decodeStored(read.value);
    this.#remember(id, tenantOptions(options));
    return { options, context: read.context };
  }

  /**
   * Like `get`, served from a short cache, for the key-value path: also
   * has the peer load the database's replication settings, so the write
   * that follows goes to the tenant's N owners.
   */
  async lookup(id: string): Promise<TenantOptions | undefined> {
    const hit = this.#cache.get(id);
    const options =
      hit !== undefined && this.#now() - hit.atMs < TENANT_CACHE_MS ? hit.options : await this.get(id);
    if (options !== undefined) await this.#databases?.databaseReplication(id);
    return options;
  }

  /**
   * Creates a tenant. TENANT_EXISTS when the D record is there. Two
   * creates racing on different peers both succeed (no cluster-wide
   * compare-and-set yet): they become siblings and the higher Lamport stamp wins.
   */
  async create(id: string, replicationFactor: number): Promise<TenantOptions> {
    const stored = await this.#read(id);
    if (stored.options !== undefined) throw new ApiError('TENANT_EXISTS', `tenant ${id} already exists`);
    const now = this.#now();
    const options: TenantOptions = {
      replicationFactor,
      consistency: 'quorum',
      createdAtMs: now,
      updatedAtMs: now,
    };
    // With the read's context: a racing create becomes a sibling instead of being overwritten unseen.
    await this.#records.put(tenantKey(id), encodeStored(options), { ...meta, context: stored.context });
    this.#remember(id, options);
    return options;
  }

  /** Changes N; resolves with the old and new options. TENANT_NOT_FOUND when absent. */
  async setReplicationFactor(
    id: string,
    replicationFactor: number,
  ): Promise<{ before: TenantOptions; after: TenantOptions }> {
    const stored = await this.#read(id);
    if (stored.options === undefined) throw new ApiError('TENANT_NOT_FOUND', `tenant ${id} does not exist`);
    const before = tenantOptions(stored.options);
    const updatedAtMs = this.#now();
    await this.#records.put(
      tenantKey(id),
      encodeStored({ ...stored.options, replicationFactor, updatedAtMs }),
      { ...meta, context: stored.context },
    );
    const after = { ...before, replicationFactor, updatedAtMs };
    this.#remember(id, after);
    return { before, after };
  }

  #remember(id: string, options: TenantOptions): void {
    if (this.#cache.size >= TENANT_CACHE_ENTRIES_MAX) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(id, { options, atMs: this.#now() });
  }
}
