/**
 * Tenants are databases: the HTTP API's tenants are the document layer's D
 * records, and a tenant's replication factor decides how many owners its
 * key-value records land on. Five real Replicators on replication's
 * in-process network, every slot listed with all five as owners; one
 * DatabaseSettings (the peer's D-record cache) feeds their
 * `databaseReplication`, as each peer's own does in `createPeer`.
 */
import { decodeValue, encodeKey, encodeValue, keySlot } from '@tessera/core';
import {
  DatabaseSettings,
  KV_COLLECTION,
  kvRecordKey,
  META_ROUTING_KEY,
  routingKeyOfRecord,
} from '@tessera/peer';
import { startTestCluster, type TestCluster } from '@tessera/replication/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpApi } from './api.ts';
import { type HttpServer, startHttpServer } from './server.ts';
import { Tenants } from './tenants.ts';

let cluster: TestCluster;
let server: HttpServer;
let base: string;
const seed = Math.floor(Math.random() * 2 ** 31);

beforeAll(async () => {
  const tenants = () => new Tenants(cluster.at('peer-0'));
  const settings = new DatabaseSettings({
    read: async (db) => (typeof db === 'string' ? await tenants().get(db) : undefined),
    defaults: { replicationFactor: 3, consistency: 'quorum' },
  });
  cluster = await startTestCluster({
    peers: 5,
    ownersPerSlot: 5,
    seed,
    databaseReplication: (key) => settings.settingsOf(key),
    routingKeyOf: routingKeyOfRecord,
  });
  const api = new HttpApi({
    records: cluster.at('peer-1'),
    databases: { databaseReplication: (db) => settings.ensure(db) },
  });
  server = await startHttpServer({ api, port: 0 });
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
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Peers whose own store holds `key`. */
async function holders(key: Uint8Array): Promise<string[]> {
  const held: string[] = [];
  for (const id of cluster.ids) if ((await cluster.stores.get(id)!.get(key)) !== undefined) held.push(id);
  return held;
}

/** The stored D record of `db` on an owner of the metadata slot, as the document layer reads it. */
async function storedDatabase(db: string): Promise<unknown> {
  const read = await cluster.at('peer-3').get(encodeKey('D', [db]), { routingKey: META_ROUTING_KEY });
  return read.value === undefined ? undefined : decodeValue(read.value);
}

describe(`tenants are databases (seed ${seed})`, () => {
  it("POST /v1/tenants writes the database's D record in the document layer's format, in the metadata slot", async () => {
    const created = await call('POST', '/v1/tenants', { tenant_id: 'wide', replication_factor: 5 });
    expect(created.status).toBe(201);
    expect(await storedDatabase('wide')).toEqual({
      v: 1,
      o: {
        replicationFactor: 5,
        consistency: 'quorum',
        createdAtMs: expect.any(Number),
        updatedAtMs: expect.any(Number),
      },
    });
    // Routed by the metadata key, not by the tenant id: only the metadata slot's owners hold it (W of them at least).
    const metaOwners = cluster.placement.lookup(keySlot(META_ROUTING_KEY)).owners.slice(0, 3);
    const held = await holders(encodeKey('D', ['wide']));
    expect(held.length).toBeGreaterThanOrEqual(2);
    expect(held.filter((id) => !metaOwners.includes(id))).toEqual([]);
    expect((await call('POST', '/v1/tenants', { tenant_id: 'wide' })).body).toMatchObject({
      error_code: 'TENANT_EXISTS',
    });
  });

  it("a tenant's key-value records are the peer's database records, written to the tenant's N owners", async () => {
    await call('POST', '/v1/tenants', { tenant_id: 'narrow', replication_factor: 2 });
    const wide = await call(
      'POST',
      '/v1/key-value',
      { key: 'k', value: { n: 1 }, consistency: 'all' },
      { 'x-tenant-id': 'wide' },
    );
    expect(wide.status, JSON.stringify(wide.body)).toBe(200);
    expect(wide.body).toMatchObject({ replica_count: 5 });
    // The same record `peer.put('k', value, { database: 'wide' })` writes: the kv collection of database 'wide'.
    expect(kvRecordKey('k', 'wide')).toEqual(
      encodeKey('O', ['wide', KV_COLLECTION, new TextEncoder().encode('k')]),
    );
    expect(await holders(kvRecordKey('k', 'wide'))).toEqual(cluster.ids);

    const narrow = await call(
      'POST',
      '/v1/key-value',
      { key: 'k', value: 'two', consistency: 'all' },
      { 'x-tenant-id': 'narrow' },
    );
    expect(narrow.body).toMatchObject({ replica_count: 2 });
    const two = cluster.placement.lookup(keySlot('k')).owners.slice(0, 2).sort();
    expect((await holders(kvRecordKey('k', 'narrow'))).sort()).toEqual(two);
    const read = await call('GET', '/v1/key-value?key=k', undefined, { 'x-tenant-id': 'narrow' });
    expect(read.body).toMatchObject({ status: 'success', value: 'two', replica_count: 2 });
  });

  it('a database created by the document layer is a tenant; an unknown tenant is TENANT_NOT_FOUND and writes nothing', async () => {
    // What `peer.database('shop').setOptions({ consistency: 'one' })` stores: no N, no times.
    await cluster
      .at('peer-2')
      .put(encodeKey('D', ['shop']), encodeValue({ v: 1, o: { consistency: 'one' } }), {
        routingKey: META_ROUTING_KEY,
      });
    const shop = await call('GET', '/v1/tenants/shop');
    expect(shop.body).toMatchObject({
      status: 'success',
      tenant_id: 'shop',
      replication_factor: 3,
      consistency: 'one',
    });
    expect((await call('POST', '/v1/tenants', { tenant_id: 'shop' })).body).toMatchObject({
      error_code: 'TENANT_EXISTS',
    });
    const put = await call('POST', '/v1/key-value', { key: 'cart', value: 1 }, { 'x-tenant-id': 'shop' });
    expect(put.body).toMatchObject({ status: 'success', consistency: 'one' });

    const missing = await call('POST', '/v1/key-value', { key: 'x', value: 1 }, { 'x-tenant-id': 'nobody' });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error_code: 'TENANT_NOT_FOUND' });
    expect(await holders(kvRecordKey('x', 'nobody'))).toEqual([]);
  });

  it('PUT replication-factor keeps the rest of the D record', async () => {
    await cluster
      .at('peer-2')
      .put(
        encodeKey('D', ['kept']),
        encodeValue({ v: 1, o: { consistency: 'all', createdAtMs: 1000, updatedAtMs: 1000 } }),
        { routingKey: META_ROUTING_KEY },
      );
    const changed = await call('PUT', '/v1/tenants/kept/replication-factor', { replication_factor: 4 });
    expect(changed.body).toMatchObject({ old_replication_factor: 3, new_replication_factor: 4 });
    expect(await storedDatabase('kept')).toEqual({
      v: 1,
      o: { consistency: 'all', createdAtMs: 1000, updatedAtMs: expect.any(Number), replicationFactor: 4 },
    });
  });
});
