/**
 * RESP AUTH and HTTP Bearer over real sockets: no token, a forged, expired,
 * read-only or other-database token, and a flood from one client against a
 * per-database rate limit. Every refusal writes nothing and the server keeps
 * serving other clients.
 */
import { ClusterAuthority, ClusterSigner, issueToken } from '@tessera/auth';
import { startTestCluster, type TestCluster } from '@tessera/replication/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpApi } from '../http/api.ts';
import { type HttpServer, startHttpServer } from '../http/server.ts';
import { RawClient, startTestServer, type TestServer } from '../server/test-harness.ts';
import { RelayGuard } from './relay-guard.ts';

const CLUSTER = 'relay-auth';
const HOUR = 3_600_000;
let signer: ClusterSigner;
let authority: ClusterAuthority;
let resp: TestServer;
const clients: RawClient[] = [];

const token = (databases: string[] | '*', read: boolean, write: boolean, nowMs = Date.now()) =>
  issueToken(signer, { cluster: CLUSTER, subject: 'relay-test', databases, read, write, ttlMs: HOUR, nowMs });

async function connect(): Promise<RawClient> {
  const client = await RawClient.connect(resp.port);
  clients.push(client);
  return client;
}

beforeAll(async () => {
  signer = await ClusterSigner.generate();
  authority = await ClusterAuthority.create({
    clusterPublicKey: signer.verifier.publicKey,
    cluster: CLUSTER,
  });
  resp = await startTestServer({ guard: new RelayGuard({ authority }) });
});

afterAll(async () => {
  for (const client of clients.splice(0)) client.close();
  await resp?.close();
});

describe('RESP AUTH with capability tokens', () => {
  it('answers NOAUTH before AUTH and WRONGPASS for a forged or expired token', async () => {
    const client = await connect();
    expect(await client.call('PING')).toEqual({ error: expect.stringMatching(/^NOAUTH /) });
    expect(await client.call('SET', 'k', 'v')).toEqual({ error: expect.stringMatching(/^NOAUTH /) });
    expect(await client.call('GET', 'k')).toEqual({ error: expect.stringMatching(/^NOAUTH /) });
    const foreign = await issueToken(await ClusterSigner.generate(), {
      cluster: CLUSTER,
      subject: 'x',
      databases: '*',
      read: true,
      write: true,
      ttlMs: HOUR,
    });
    expect(await client.call('AUTH', foreign)).toEqual({ error: expect.stringMatching(/^WRONGPASS /) });
    expect(await client.call('AUTH', await token('*', true, true, Date.now() - 3 * HOUR))).toEqual({
      error: expect.stringMatching(/^WRONGPASS .*expired/),
    });
    expect(await client.call('AUTH', 'garbage!')).toEqual({ error: expect.stringMatching(/^WRONGPASS /) });
    expect(await client.call('SET', 'k', 'v')).toEqual({ error: expect.stringMatching(/^NOAUTH /) });
    expect(await resp.backend.get(0, Buffer.from('k'))).toBeUndefined();
  });

  it('maps read, write and database to the token: NOPERM outside it', async () => {
    const writer = await connect();
    expect(await writer.call('AUTH', 'default', await token(['0'], true, true))).toBe('OK');
    expect(await writer.call('SET', 'stock', '7')).toBe('OK');
    expect(await writer.call('SELECT', '1')).toBe('OK');
    expect(await writer.call('SET', 'stock', '9')).toEqual({ error: expect.stringMatching(/^NOPERM /) });

    const hello = await connect();
    const greeting = await hello.call('HELLO', '3', 'AUTH', 'default', await token(['0'], true, false));
    expect(greeting).toMatchObject({ proto: 3 });
    expect(await hello.call('GET', 'stock')).toBe('7');

    const reader = await connect();
    expect(await reader.call('AUTH', await token(['0'], true, false))).toBe('OK');
    expect(await reader.call('GET', 'stock')).toBe('7');
    expect(await reader.call('SET', 'stock', '0')).toEqual({ error: expect.stringMatching(/^NOPERM /) });
    expect(await reader.call('DEL', 'stock')).toEqual({ error: expect.stringMatching(/^NOPERM /) });
    expect(await writer.call('SELECT', '0')).toBe('OK');
    expect(await writer.call('GET', 'stock')).toBe('7');
  });
});

describe('per-database rate limit', () => {
  it('a flood from one client gets RATELIMITED, other databases keep being served, nothing is lost', async () => {
    let now = 1_000_000;
    const limited = await startTestServer({
      guard: new RelayGuard({ rateLimit: { ratePerSecond: 10, burst: 20 }, now: () => now }),
    });
    try {
      const flooder = await RawClient.connect(limited.port);
      const other = await RawClient.connect(limited.port);
      clients.push(flooder, other);
      const replies = [];
      for (let i = 0; i < 50; i++) replies.push(await flooder.call('SET', `k${i}`, String(i)));
      const ok = replies.filter((r) => r === 'OK').length;
      expect(ok).toBe(20);
      expect(replies.slice(20)).toEqual(Array(30).fill({ error: expect.stringMatching(/^RATELIMITED /) }));
      expect(await other.call('SELECT', '1')).toBe('OK');
      expect(await other.call('SET', 'a', 'b')).toBe('OK');
      // Every acknowledged write is there; no refused one is.
      expect(await limited.backend.get(0, Buffer.from('k19'))).toBeDefined();
      expect(await limited.backend.get(0, Buffer.from('k20'))).toBeUndefined();
      now += 1000;
      expect(await flooder.call('SET', 'later', 'x')).toBe('OK');
    } finally {
      await limited.close();
    }
  });
});

describe('HTTP Authorization: Bearer', () => {
  let cluster: TestCluster;
  let http: HttpServer;
  let base: string;
  beforeAll(async () => {
    cluster = await startTestCluster({ peers: 3, seed: 9 });
    const guard = new RelayGuard({ authority, rateLimit: { ratePerSecond: 0.001, burst: 6 } });
    const api = new HttpApi({
      records: cluster.at('peer-0'),
      now: () => 1_800_000_000_000,
      authorize: (authorization, tenant, access) => guard.authorizeHttp(authorization, tenant, access),
    });
    http = await startHttpServer({ api, port: 0 });
    base = `http://127.0.0.1:${http.port}`;
  });
  afterAll(async () => {
    await http?.close();
    await cluster?.close();
  });

  const call = async (method: string, path: string, bearer?: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        'x-tenant-id': 'shop',
        ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body: (await response.json()) as Record<string, unknown>,
    };
  };

  it('401 without or with a bad token, 403 outside the capability, 429 past the rate', async () => {
    const admin = await token(['shop'], true, true);
    const readOnly = await token(['shop'], true, false);
    const otherDb = await token(['other'], true, true);
    expect((await call('POST', '/v1/tenants', undefined, { tenant_id: 'shop' })).status).toBe(401);
    expect((await call('POST', '/v1/tenants', 'forged', { tenant_id: 'shop' })).body).toMatchObject({
      error_code: 'UNAUTHORIZED',
    });
    expect((await call('POST', '/v1/tenants', admin, { tenant_id: 'shop' })).status).toBe(201);
    expect((await call('POST', '/v1/key-value', admin, { key: 'k', value: { n: 1 } })).status).toBe(200);
    expect((await call('GET', '/v1/key-value?key=k', readOnly)).body).toMatchObject({ value: { n: 1 } });
    const denied = await call('POST', '/v1/key-value', readOnly, { key: 'k', value: 2 });
    expect(denied).toMatchObject({ status: 403, body: { error_code: 'FORBIDDEN' } });
    expect((await call('GET', '/v1/key-value?key=k', otherDb)).status).toBe(403);
    expect((await call('GET', '/v1/key-value?key=k', undefined)).status).toBe(401);
    // Refused calls take nothing from the bucket (burst 6, refill negligible): the tenant create,
    // the put and the get took 3, so 3 more pass and then 429.
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await call('GET', '/v1/key-value?key=k', readOnly)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const limited = await call('GET', '/v1/key-value?key=k', readOnly);
    expect(limited.body).toMatchObject({ error_code: 'RATE_LIMIT_EXCEEDED' });
    // One operation at 0.001/s is 1000 s away.
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(999);
    expect(denied.retryAfter).toBeNull();
  });
});
