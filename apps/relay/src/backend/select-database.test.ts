/**
 * RESP `SELECT n` is database `n`: a real ioredis client against a RESP
 * server on the replicated backend, whose peer is the peer's own key-value
 * path (`KvData` with the D-record settings cache, as in `createPeer`) over
 * five real Replicators on replication's in-process network (every slot
 * listed with all five). A key set in database 1 is not visible in
 * database 0, and database 1's D record (N=5) decides how many owners hold it.
 */
import { decodeValue, encodeKey, encodeValue, keySlot } from '@tessera/core';
import { DatabaseSettings, KvData, kvRecordKey, META_ROUTING_KEY, routingKeyOfRecord } from '@tessera/peer';
import { startTestCluster, type TestCluster } from '@tessera/replication/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RespServer, startRespServer } from '../server/server.ts';
import { openReplicatedBackend } from './replicated.ts';

let cluster: TestCluster;
let server: RespServer;
const seed = Math.floor(Math.random() * 2 ** 31);

beforeAll(async () => {
  const settings = new DatabaseSettings({
    read: async (db) => {
      const read = await cluster.at('peer-0').get(encodeKey('D', [db]), { routingKey: META_ROUTING_KEY });
      return read.value === undefined ? undefined : decodeValue<{ o?: undefined }>(read.value).o;
    },
    defaults: { replicationFactor: 3, consistency: 'quorum' },
  });
  cluster = await startTestCluster({
    peers: 5,
    ownersPerSlot: 5,
    seed,
    databaseReplication: (key) => settings.settingsOf(key),
    routingKeyOf: routingKeyOfRecord,
  });
  const data = new KvData(
    () => cluster.at('peer-1'),
    (db) => settings.ensure(db),
  );
  const peer = {
    id: 'peer-1',
    put: data.put.bind(data),
    get: data.get.bind(data),
    delete: data.delete.bind(data),
  };
  server = await startRespServer({ backend: openReplicatedBackend({ peer }), port: 0 });
});

afterAll(async () => {
  await server?.close();
  await cluster?.close();
});

async function holders(key: Uint8Array): Promise<string[]> {
  const held: string[] = [];
  for (const id of cluster.ids) if ((await cluster.stores.get(id)!.get(key)) !== undefined) held.push(id);
  return held.sort();
}

describe(`SELECT maps onto databases (seed ${seed})`, () => {
  it('a key set in db 1 is not visible in db 0, and db 1 is written to the N owners of its D record', async () => {
    // What `peer.database(1).setOptions({ replicationFactor: 5 })` stores.
    await cluster.at('peer-2').put(encodeKey('D', [1]), encodeValue({ v: 1, o: { replicationFactor: 5 } }), {
      routingKey: META_ROUTING_KEY,
    });
    const redis = new Redis({
      port: server.port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    try {
      await redis.connect();
      // Writes acknowledged by every owner, so the stores can be compared when SET returns.
      expect(await redis.call('TESSERA.CONSISTENCY', 'all')).toBe('OK');
      expect(await redis.select(1)).toBe('OK');
      expect(await redis.set('k', 'in one')).toBe('OK');
      expect(await redis.get('k')).toBe('in one');
      expect(await redis.select(0)).toBe('OK');
      expect(await redis.get('k')).toBe(null);
      expect(await redis.exists('k')).toBe(0);
      expect(await redis.set('k', 'in zero')).toBe('OK');
      expect(await redis.select(1)).toBe('OK');
      expect(await redis.get('k')).toBe('in one');

      // Database 1 is the peer's database 1 (numeric, not the tenant "1"): kv records O, 1, 'kv', k.
      expect(await holders(kvRecordKey('k', 1))).toEqual([...cluster.ids].sort());
      expect(await holders(kvRecordKey('k', '1'))).toEqual([]);
      const three = cluster.placement.lookup(keySlot('k')).owners.slice(0, 3);
      expect(await holders(kvRecordKey('k', 0))).toEqual([...three].sort());
    } finally {
      redis.disconnect();
    }
  });
});
