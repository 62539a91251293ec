/**
 * The HTTP API routes (pairDB's contract, RESEARCH.md §3; the OpenAPI file
 * is docs/api/openapi.yaml). Tenant selection for key-value calls: the
 * `X-Tenant-ID` header, else the `tenant_id` query parameter, else (POST)
 * the body's `tenant_id`.
 */
import type { IncomingMessage } from 'node:http';
import { parseJsonObject, readBody } from './body.ts';
import { ApiError } from './errors.ts';
import {
  checkConsistency,
  checkIdempotencyKey,
  checkKey,
  decodeJsonValue,
  encodeJsonValue,
  kvKey,
  readClock,
  writeBody,
} from './kv.ts';
import type { RecordApi } from './records.ts';
import {
  checkReplicationFactor,
  checkTenantId,
  type DatabaseSettingsSource,
  REPLICATION_FACTOR_DEFAULT,
  type TenantOptions,
  Tenants,
} from './tenants.ts';

/** A handler's answer. */
export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface HttpApiOptions {
  readonly records: RecordApi;
  /** The peer (`peer.databaseReplication`): key-value calls load their tenant's N before writing. */
  readonly databases?: DatabaseSettingsSource;
  /** Body of `GET /v1/status` (membership, slots, jobs); 404 when absent. */
  readonly status?: () => Promise<unknown>;
  /** Largest request body, bytes. Default `BODY_BYTES_MAX_DEFAULT`. */
  readonly bodyBytesMax?: number;
  readonly now?: () => number;
  /**
   * Called before a tenant is read or written with the request's
   * `Authorization` header; throws the auth errors (401/403/429). Open when omitted.
   */
  readonly authorize?: (
    authorization: string | undefined,
    tenant: string,
    access: 'read' | 'write',
  ) => Promise<void>;
  /**
   * `POST /v1/cluster/rebalance`: asks the peer's slot map for a rebalance;
   * resolves with the proposal id, or null when the map is already balanced.
   * Not offered while `authorize` is set (no admin scope exists yet).
   */
  readonly rebalance?: (options: { replicas?: number; force?: boolean }) => Promise<string | null>;
  /**
   * `POST /v1/cluster/leave` starts a drain-and-leave (`start` resolves once
   * the peer announced `leaving`, rejects with `LeaveRefusedError` when it
   * may not leave); `GET /v1/cluster/leave` reports it (`state`). Not offered
   * while `authorize` is set.
   */
  readonly leave?: {
    start(options: { timeoutMs?: number }): Promise<unknown>;
    state(): unknown;
  };
}

/** Default largest body: a 1 MiB value plus its JSON escaping and the other fields. */
export const BODY_BYTES_MAX_DEFAULT = 2 * 1024 * 1024;

function tenantBody(id: string, options: TenantOptions): Record<string, unknown> {
  return {
    status: 'success',
    tenant_id: id,
    replication_factor: options.replicationFactor,
    consistency: options.consistency,
    created_at: Math.floor(options.createdAtMs / 1000),
    updated_at: Math.floor(options.updatedAtMs / 1000),
  };
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export class HttpApi {
  readonly #records: RecordApi;
  readonly #tenants: Tenants;
  readonly #status: (() => Promise<unknown>) | undefined;
  readonly #authorize: HttpApiOptions['authorize'];
  readonly #rebalance: HttpApiOptions['rebalance'];
  readonly #leave: HttpApiOptions['leave'];
  readonly bodyBytesMax: number;

  constructor(options: HttpApiOptions) {
    this.#records = options.records;
    this.#tenants = new Tenants(options.records, options.now, options.databases);
    this.#status = options.status;
    this.#authorize = options.authorize;
    this.#rebalance = options.rebalance;
    this.#leave = options.leave;
    this.bodyBytesMax = options.bodyBytesMax ?? BODY_BYTES_MAX_DEFAULT;
  }

  /** The route name (for metrics) and its handler; undefined when no route matches the path. */
  route(
    method: string,
    path: string,
  ): { name: string; run?: (request: IncomingMessage, url: URL) => Promise<ApiResponse> } | undefined {
    const allow = (
      name: string,
      handlers: Record<string, (request: IncomingMessage, url: URL) => Promise<ApiResponse>>,
    ) => {
      const run = handlers[method];
      return run === undefined ? { name } : { name, run };
    };
    if (path === '/v1/tenants') return allow('tenants', { POST: (r) => this.#createTenant(r) });
    const tenant = /^\/v1\/tenants\/([^/]+)$/.exec(path);
    if (tenant !== null) return allow('tenant', { GET: (r) => this.#getTenant(r, decode(tenant[1]!)) });
    const factor = /^\/v1\/tenants\/([^/]+)\/replication-factor$/.exec(path);
    if (factor !== null) {
      return allow('replication_factor', { PUT: (r) => this.#setReplicationFactor(r, decode(factor[1]!)) });
    }
    if (path === '/v1/key-value') {
      return allow('key_value', {
        POST: (r, url) => this.#put(r, url),
        GET: (r, url) => this.#get(r, url),
        DELETE: (r, url) => this.#delete(r, url),
      });
    }
    if (path === '/v1/cluster/rebalance' && this.#rebalance !== undefined && this.#authorize === undefined) {
      return allow('rebalance', { POST: (r) => this.#rebalanceMap(r) });
    }
    if (path === '/v1/cluster/leave' && this.#leave !== undefined && this.#authorize === undefined) {
      const leave = this.#leave;
      return allow('leave', {
        POST: (r) => this.#startLeave(r, leave),
        GET: async () => ({ status: 200, body: { status: 'success', leave: leave.state() } }),
      });
    }
    if (path === '/v1/status' && this.#status !== undefined) {
      const status = this.#status;
      return allow('status', { GET: async () => ({ status: 200, body: await status() }) });
    }
    return undefined;
  }

  async #json(request: IncomingMessage): Promise<Record<string, unknown>> {
    return parseJsonObject(await readBody(request, this.bodyBytesMax));
  }

  async #rebalanceMap(request: IncomingMessage): Promise<ApiResponse> {
    const body = await this.#json(request);
    const { replicas, force } = body;
    if (replicas !== undefined && !(Number.isSafeInteger(replicas) && (replicas as number) >= 1)) {
      throw new ApiError('INVALID_REQUEST', 'replicas must be a positive integer');
    }
    if (force !== undefined && typeof force !== 'boolean') {
      throw new ApiError('INVALID_REQUEST', 'force must be a boolean');
    }
    let proposal: string | null;
    try {
      proposal = await this.#rebalance!({
        ...(replicas === undefined ? {} : { replicas: replicas as number }),
        ...(force === undefined ? {} : { force }),
      });
    } catch (error) {
      if (error instanceof Error && error.name === 'SlotMapProposalError') {
        throw new ApiError('REBALANCE_REFUSED', error.message);
      }
      throw error;
    }
    return { status: proposal === null ? 200 : 202, body: { status: 'success', proposal } };
  }

  async #startLeave(
    request: IncomingMessage,
    leave: NonNullable<HttpApiOptions['leave']>,
  ): Promise<ApiResponse> {
    const body = await this.#json(request);
    const timeoutMs = body.timeout_ms;
    if (timeoutMs !== undefined && !(Number.isSafeInteger(timeoutMs) && (timeoutMs as number) >= 1)) {
      throw new ApiError('INVALID_REQUEST', 'timeout_ms must be a positive integer');
    }
    try {
      await leave.start(timeoutMs === undefined ? {} : { timeoutMs: timeoutMs as number });
    } catch (error) {
      if (error instanceof Error && error.name === 'LeaveRefusedError') {
        throw new ApiError('LEAVE_REFUSED', error.message);
      }
      throw error;
    }
    return { status: 202, body: { status: 'success', leave: leave.state() } };
  }

  async #createTenant(request: IncomingMessage): Promise<ApiResponse> {
    const body = await this.#json(request);
    const id = checkTenantId(body.tenant_id);
    await this.#authorize?.(header(request, 'authorization'), id, 'write');
    const n = checkReplicationFactor(body.replication_factor ?? REPLICATION_FACTOR_DEFAULT);
    const options = await this.#tenants.create(id, n);
    return { status: 201, body: tenantBody(id, options) };
  }

  async #getTenant(request: IncomingMessage, id: string): Promise<ApiResponse> {
    checkTenantId(id);
    await this.#authorize?.(header(request, 'authorization'), id, 'read');
    const options = await this.#tenants.get(id);
    if (options === undefined) throw new ApiError('TENANT_NOT_FOUND', `tenant ${id} does not exist`);
    return { status: 200, body: tenantBody(id, options) };
  }

  async #setReplicationFactor(request: IncomingMessage, id: string): Promise<ApiResponse> {
    checkTenantId(id);
    await this.#authorize?.(header(request, 'authorization'), id, 'write');
    const body = await this.#json(request);
    if (!('replication_factor' in body))
      throw new ApiError('INVALID_REQUEST', 'replication_factor is required');
    const n = checkReplicationFactor(body.replication_factor);
    const { before, after } = await this.#tenants.setReplicationFactor(id, n);
    return {
      status: 200,
      body: {
        status: 'success',
        tenant_id: id,
        old_replication_factor: before.replicationFactor,
        new_replication_factor: after.replicationFactor,
        updated_at: Math.floor(after.updatedAtMs / 1000),
      },
    };
  }

  async #tenantOf(
    request: IncomingMessage,
    url: URL,
    access: 'read' | 'write',
    body?: Record<string, unknown>,
  ): Promise<[string, TenantOptions]> {
    const raw = header(request, 'x-tenant-id') ?? url.searchParams.get('tenant_id') ?? body?.tenant_id;
    if (raw === undefined || raw === null) {
      throw new ApiError(
        'INVALID_REQUEST',
        'name the tenant: X-Tenant-ID header or tenant_id query parameter',
      );
    }
    const id = checkTenantId(raw);
    // Before the lookup, so a refused caller cannot learn which tenants exist.
    await this.#authorize?.(header(request, 'authorization'), id, access);
    const options = await this.#tenants.lookup(id);
    if (options === undefined) throw new ApiError('TENANT_NOT_FOUND', `tenant ${id} does not exist`);
    return [id, options];
  }

  async #put(request: IncomingMessage, url: URL): Promise<ApiResponse> {
    const body = await this.#json(request);
    const idempotencyKey = checkIdempotencyKey(request.headers['idempotency-key']);
    const key = checkKey(body.key);
    if (!('value' in body)) throw new ApiError('INVALID_REQUEST', 'value is required');
    const value = encodeJsonValue(body.value);
    const [tenant, options] = await this.#tenantOf(request, url, 'write', body);
    const consistency = checkConsistency(body.consistency, options.consistency);
    const result = await this.#records.put(kvKey(tenant, key), value, {
      consistency,
      routingKey: key,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    });
    return { status: 200, body: writeBody(tenant, key, consistency, result, idempotencyKey) };
  }

  async #get(request: IncomingMessage, url: URL): Promise<ApiResponse> {
    const key = checkKey(url.searchParams.get('key') ?? undefined);
    const [tenant, options] = await this.#tenantOf(request, url, 'read');
    const consistency = checkConsistency(url.searchParams.get('consistency'), options.consistency);
    const read = await this.#records.get(kvKey(tenant, key), { consistency, routingKey: key });
    if (!read.found || read.value === undefined) throw new ApiError('KEY_NOT_FOUND', `key ${key} not found`);
    return {
      status: 200,
      body: {
        status: 'success',
        tenant_id: tenant,
        key,
        value: decodeJsonValue(read.value),
        vector_clock: readClock(read),
        replica_count: read.answered,
        consistency,
        siblings: read.siblings.length,
      },
    };
  }

  async #delete(request: IncomingMessage, url: URL): Promise<ApiResponse> {
    const body = await this.#json(request);
    const idempotencyKey = checkIdempotencyKey(request.headers['idempotency-key']);
    const key = checkKey(url.searchParams.get('key') ?? body.key);
    const [tenant, options] = await this.#tenantOf(request, url, 'write', body);
    const consistency = checkConsistency(
      url.searchParams.get('consistency') ?? body.consistency,
      options.consistency,
    );
    const result = await this.#records.delete(kvKey(tenant, key), {
      consistency,
      routingKey: key,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    });
    return { status: 200, body: writeBody(tenant, key, consistency, result, idempotencyKey) };
  }
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError('INVALID_REQUEST', 'malformed percent-encoding in path');
  }
}
