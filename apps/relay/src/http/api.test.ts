/**
 * Contract tests of the HTTP API (pairDB's endpoints, shapes and error
 * codes) against a real node:http server in front of three real
 * Replicators on replication's in-process network.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { startTestCluster, type TestCluster } from '@tessera/replication/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpApi } from './api.ts';
import { type HttpServer, startHttpServer } from './server.ts';

let cluster: TestCluster;
let server: HttpServer;
let base: string;
const seed = Math.floor(Math.random() * 2 ** 31);

beforeAll(async () => {
  cluster = await startTestCluster({ peers: 3, seed });
  // A still clock: the tenant cache never expires mid-test, so a tenant lookup never needs a quorum the test took away.
  const api = new HttpApi({
    records: cluster.at('peer-0'),
    bodyBytesMax: 64 * 1024,
    now: () => 1_800_000_000_000,
  });
  server = await startHttpServer({ api, port: 0, headersTimeoutMs: 1000, requestTimeoutMs: 1500 });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  await cluster?.close();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function expectError(
  result: { status: number; body: Record<string, unknown> },
  status: number,
  code: string,
) {
  expect(result.status, JSON.stringify(result.body)).toBe(status);
  expect(result.body).toMatchObject({ status: 'error', error_code: code });
  expect(typeof result.body.message).toBe('string');
}

describe(`tenants (seed ${seed})`, () => {
  it('POST /v1/tenants creates with the default N=3 and GET reads it back', async () => {
    const created = await call('POST', '/v1/tenants', { tenant_id: 'acme' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'success', tenant_id: 'acme', replication_factor: 3 });
    const read = await call('GET', '/v1/tenants/acme');
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ tenant_id: 'acme', replication_factor: 3, consistency: 'quorum' });
    expect(read.body.created_at).toBe(created.body.created_at);
  });

  it('a second create is TENANT_EXISTS (409)', async () => {
    await call('POST', '/v1/tenants', { tenant_id: 'dup', replication_factor: 2 });
    expectError(await call('POST', '/v1/tenants', { tenant_id: 'dup' }), 409, 'TENANT_EXISTS');
  });

  it('replication factor outside 1..10 is INVALID_REPLICATION_FACTOR, on create and on update', async () => {
    for (const n of [0, 11, 2.5, '3']) {
      expectError(
        await call('POST', '/v1/tenants', { tenant_id: 'bad-n', replication_factor: n }),
        400,
        'INVALID_REPLICATION_FACTOR',
      );
    }
    expectError(await call('GET', '/v1/tenants/bad-n'), 404, 'TENANT_NOT_FOUND');
    await call('POST', '/v1/tenants', { tenant_id: 'upd', replication_factor: 1 });
    expectError(
      await call('PUT', '/v1/tenants/upd/replication-factor', { replication_factor: 0 }),
      400,
      'INVALID_REPLICATION_FACTOR',
    );
  });

  it('PUT /v1/tenants/{id}/replication-factor changes N and reports old and new', async () => {
    await call('POST', '/v1/tenants', { tenant_id: 'grow', replication_factor: 1 });
    const changed = await call('PUT', '/v1/tenants/grow/replication-factor', { replication_factor: 5 });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      tenant_id: 'grow',
      old_replication_factor: 1,
      new_replication_factor: 5,
    });
    expect((await call('GET', '/v1/tenants/grow')).body.replication_factor).toBe(5);
    expectError(
      await call('PUT', '/v1/tenants/nobody/replication-factor', { replication_factor: 2 }),
      404,
      'TENANT_NOT_FOUND',
    );
  });

  it('unknown tenants are TENANT_NOT_FOUND and bad ids INVALID_REQUEST', async () => {
    expectError(await call('GET', '/v1/tenants/ghost'), 404, 'TENANT_NOT_FOUND');
    expectError(await call('POST', '/v1/tenants', { tenant_id: 'has space' }), 400, 'INVALID_REQUEST');
    expectError(await call('POST', '/v1/tenants', {}), 400, 'INVALID_REQUEST');
  });
});

describe('key-value', () => {
  beforeAll(async () => {
    expect((await call('POST', '/v1/tenants', { tenant_id: 'kv' })).status).toBe(201);
  });

  it('POST writes, GET reads back the JSON value with vector_clock and replica_count', async () => {
    const value = { name: 'Ada', tags: ['x', 'y'], n: 42, nested: { ok: true } };
    const written = await call(
      'POST',
      '/v1/key-value',
      { key: 'user:1', value, consistency: 'all' },
      { 'x-tenant-id': 'kv' },
    );
    expect(written.status).toBe(200);
    expect(written.body).toMatchObject({
      status: 'success',
      key: 'user:1',
      consistency: 'all',
      replica_count: 3,
      is_duplicate: false,
    });
    const clock = written.body.vector_clock as { coordinator_node_id: string; logical_timestamp: number }[];
    expect(clock).toHaveLength(1);
    expect(clock[0]!.logical_timestamp).toBeGreaterThan(0);
    const read = await call('GET', '/v1/key-value?key=user%3A1&tenant_id=kv&consistency=quorum');
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ status: 'success', key: 'user:1', value, consistency: 'quorum' });
    expect(read.body.replica_count).toBeGreaterThanOrEqual(2);
    expect((read.body.vector_clock as unknown[]).length).toBeGreaterThan(0);
  });

  it('consistency defaults to the tenant default (quorum); the body may name the tenant', async () => {
    const written = await call('POST', '/v1/key-value', { tenant_id: 'kv', key: 'k2', value: 'v2' });
    expect(written.body).toMatchObject({ consistency: 'quorum', is_duplicate: false });
    expect(written.body.replica_count).toBeGreaterThanOrEqual(2);
  });

  it('an Idempotency-Key retry is a duplicate with the same clock; other content is a conflict', async () => {
    const headers = { 'x-tenant-id': 'kv', 'idempotency-key': 'req-1' };
    const first = await call('POST', '/v1/key-value', { key: 'idem', value: 1 }, headers);
    const again = await call('POST', '/v1/key-value', { key: 'idem', value: 1 }, headers);
    expect(first.body).toMatchObject({ is_duplicate: false, idempotency_key: 'req-1' });
    expect(again.body).toMatchObject({ is_duplicate: true, idempotency_key: 'req-1' });
    expect(again.body.vector_clock).toEqual(first.body.vector_clock);
    expectError(
      await call('POST', '/v1/key-value', { key: 'idem', value: 2 }, headers),
      400,
      'IDEMPOTENCY_KEY_CONFLICT',
    );
  });

  it('DELETE writes a tombstone; GET is then KEY_NOT_FOUND', async () => {
    await call('POST', '/v1/key-value', { key: 'gone', value: 'soon' }, { 'x-tenant-id': 'kv' });
    const deleted = await call('DELETE', '/v1/key-value?key=gone', undefined, { 'x-tenant-id': 'kv' });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ status: 'success', key: 'gone', is_duplicate: false });
    expectError(await call('GET', '/v1/key-value?key=gone&tenant_id=kv'), 404, 'KEY_NOT_FOUND');
    expectError(await call('GET', '/v1/key-value?key=never&tenant_id=kv'), 404, 'KEY_NOT_FOUND');
  });

  it('tenants are separate key spaces', async () => {
    await call('POST', '/v1/tenants', { tenant_id: 'other' });
    await call('POST', '/v1/key-value', { key: 'shared', value: 'in kv' }, { 'x-tenant-id': 'kv' });
    expectError(await call('GET', '/v1/key-value?key=shared&tenant_id=other'), 404, 'KEY_NOT_FOUND');
  });

  it('bad requests are INVALID_REQUEST (400) and unknown tenants TENANT_NOT_FOUND', async () => {
    const h = { 'x-tenant-id': 'kv' };
    expectError(await call('POST', '/v1/key-value', '{"key": "a", "value":', h), 400, 'INVALID_REQUEST');
    expectError(await call('POST', '/v1/key-value', '[1,2]', h), 400, 'INVALID_REQUEST');
    expectError(await call('POST', '/v1/key-value', { value: 1 }, h), 400, 'INVALID_REQUEST');
    expectError(await call('POST', '/v1/key-value', { key: 'a' }, h), 400, 'INVALID_REQUEST');
    expectError(
      await call('POST', '/v1/key-value', { key: 'a', value: 1, consistency: 'most' }, h),
      400,
      'INVALID_REQUEST',
    );
    expectError(await call('POST', '/v1/key-value', { key: 'a', value: 1 }), 400, 'INVALID_REQUEST');
    expectError(
      await call('POST', '/v1/key-value', { key: 'a', value: 1 }, { 'x-tenant-id': 'ghost' }),
      404,
      'TENANT_NOT_FOUND',
    );
    expectError(await call('GET', '/v1/key-value?tenant_id=kv'), 400, 'INVALID_REQUEST');
    expectError(
      await call('GET', `/v1/key-value?tenant_id=kv&key=${'k'.repeat(1025)}`),
      400,
      'INVALID_REQUEST',
    );
    expectError(
      await call(
        'POST',
        '/v1/key-value',
        { key: 'a', value: 1 },
        { ...h, 'idempotency-key': 'i'.repeat(256) },
      ),
      400,
      'INVALID_REQUEST',
    );
    expectError(await call('GET', '/v1/nothing'), 404, 'INVALID_REQUEST');
    expectError(await call('PATCH', '/v1/key-value'), 405, 'INVALID_REQUEST');
  });

  it('a body over the bound is 413 INVALID_REQUEST', async () => {
    const big = await call(
      'POST',
      '/v1/key-value',
      { key: 'big', value: 'x'.repeat(70 * 1024) },
      { 'x-tenant-id': 'kv' },
    );
    expectError(big, 413, 'INVALID_REQUEST');
  });

  it('a body over the bound without Content-Length (chunked) is also cut at 413', async () => {
    const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${base}/v1/key-value`,
        { method: 'POST', headers: { 'x-tenant-id': 'kv', 'transfer-encoding': 'chunked' } },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => {
            body += d.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 80; i++) req.write('x'.repeat(1024));
      req.end();
    });
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toMatchObject({ error_code: 'INVALID_REQUEST' });
  });

  it('a client that stops sending mid-request is cut off', async () => {
    const closed = await new Promise<string>((resolve) => {
      const socket = connect(server.port, '127.0.0.1', () => {
        socket.write('POST /v1/key-value HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{"key":');
      });
      let data = '';
      socket.on('data', (d: Buffer) => {
        data += d.toString();
      });
      socket.on('close', () => resolve(data));
    });
    // Node answers 408 when requestTimeout passes, then closes.
    expect(closed).toMatch(/^HTTP\/1\.1 408/);
  });

  it('fewer owners than W is QUORUM_NOT_REACHED (503)', async () => {
    await call('POST', '/v1/tenants', { tenant_id: 'fragile' });
    await call('POST', '/v1/key-value', { key: 'q', value: 1 }, { 'x-tenant-id': 'fragile' });
    cluster.network.stop('peer-1');
    cluster.network.stop('peer-2');
    try {
      expectError(
        await call('POST', '/v1/key-value', { key: 'q', value: 2 }, { 'x-tenant-id': 'fragile' }),
        503,
        'QUORUM_NOT_REACHED',
      );
      expectError(
        await call('GET', '/v1/key-value?key=q&consistency=all', undefined, { 'x-tenant-id': 'fragile' }),
        503,
        'QUORUM_NOT_REACHED',
      );
      // ONE still works with a single owner up.
      const one = await call(
        'POST',
        '/v1/key-value',
        { key: 'q', value: 3, consistency: 'one' },
        { 'x-tenant-id': 'fragile' },
      );
      expect(one.status).toBe(200);
      expect(one.body.replica_count).toBe(1);
    } finally {
      cluster.network.resume('peer-1');
      cluster.network.resume('peer-2');
    }
  });

  it('an unexpected failure is INTERNAL_ERROR (500) without internals in the message', async () => {
    const failing = new HttpApi({
      records: {
        put: () => Promise.reject(new TypeError('secret detail')),
        get: () => Promise.reject(new TypeError('secret detail')),
        delete: () => Promise.reject(new TypeError('secret detail')),
      },
    });
    const errors: unknown[] = [];
    const broken = await startHttpServer({ api: failing, port: 0, onError: (e) => errors.push(e) });
    try {
      const response = await fetch(`http://127.0.0.1:${broken.port}/v1/tenants/x`);
      const body = (await response.json()) as Record<string, unknown>;
      expect(response.status).toBe(500);
      expect(body).toEqual({ status: 'error', error_code: 'INTERNAL_ERROR', message: 'internal error' });
      expect(errors).toHaveLength(1);
    } finally {
      await broken.close();
    }
  });
});
