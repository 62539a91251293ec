/**
 * Tenants are databases: tenant `t` is the D record `encodeKey('D', [t])`
 * holding CBOR options, written and read with quorum through the record
 * API like any other record (its slot is `CLUSTER KEYSLOT t`), so every
 * peer sees the same tenants.
 */
import { decodeValue, encodeKey, encodeValue } from '@tessera/core';
import { ApiError } from './errors.ts';
import type { RecordApi } from './records.ts';

/** What a D record holds. */
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

function decodeOptions(bytes: Uint8Array): TenantOptions {
  const value = decodeValue<Record<string, unknown>>(bytes);
  const n = value?.replicationFactor;
  if (typeof n !== 'number' || typeof value.createdAtMs !== 'number') {
    throw new ApiError('INTERNAL_ERROR', 'stored tenant record is malformed');
  }
  return value as unknown as TenantOptions;
}

export class Tenants {
  readonly #records: RecordApi;
  readonly #now: () => number;
  readonly #cache = new Map<string, { options: TenantOptions; atMs: number }>();

  constructor(records: RecordApi, now: () => number = Date.now) {
    this.#records = records;
    this.#now = now;
  }

  /** The tenant's options, or undefined when it does not exist (quorum read). */
  async get(id: string): Promise<TenantOptions | undefined> {
    const read = await this.#records.get(tenantKey(id), { consistency: 'quorum', routingKey: id });
    if (!read.found || read.value === undefined) {
      this.#cache.delete(id);
      return undefined;
    }
    const options = decodeOptions(read.value);
    this.#remember(id, options);
    return options;
  }

  /** Like `get`, served from a short cache (for the key-value path). */
  async lookup(id: string): Promise<TenantOptions | undefined> {
    const hit = this.#cache.get(id);
    if (hit !== undefined && this.#now() - hit.atMs < TENANT_CACHE_MS) return hit.options;
    return this.get(id);
  }

  /**
   * Creates a tenant. TENANT_EXISTS when the D record is there. Two
   * creates racing on different peers both succeed and the later write
   * wins (no cluster-wide compare-and-set yet).
   */
  async create(id: string, replicationFactor: number): Promise<TenantOptions> {
    if ((await this.get(id)) !== undefined)
      throw new ApiError('TENANT_EXISTS', `tenant ${id} already exists`);
    const now = this.#now();
    const options: TenantOptions = {
      replicationFactor,
      consistency: 'quorum',
      createdAtMs: now,
      updatedAtMs: now,
    };
    await this.#records.put(tenantKey(id), encodeValue(options), { consistency: 'quorum', routingKey: id });
    this.#remember(id, options);
    return options;
  }

  /** Changes N; resolves with the old and new options. TENANT_NOT_FOUND when absent. */
  async setReplicationFactor(
    id: string,
    replicationFactor: number,
  ): Promise<{ before: TenantOptions; after: TenantOptions }> {
    const before = await this.get(id);
    if (before === undefined) throw new ApiError('TENANT_NOT_FOUND', `tenant ${id} does not exist`);
    const after = { ...before, replicationFactor, updatedAtMs: this.#now() };
    await this.#records.put(tenantKey(id), encodeValue(after), { consistency: 'quorum', routingKey: id });
    this.#remember(id, after);
    return { before, after };
  }

  #remember(id: string, options: TenantOptions): void {
    if (this.#cache.size >= TENANT_CACHE_ENTRIES_MAX) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(id, { options, atMs: this.#now() });
  }
}
