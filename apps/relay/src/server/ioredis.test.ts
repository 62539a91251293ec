/** ioredis, standalone (RESP2 and RESP3) and in Cluster mode, against the server. */
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-harness.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

for (const protocol of [2, 3] as const) {
  describe(`ioredis over RESP${protocol}`, () => {
    it('reads and writes, pipelines, scans and sees expiry', async () => {
      const redis = new Redis({
        port: t.port,
        host: '127.0.0.1',
        protocol,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
      });
      try {
        await redis.connect();
        const p = `io${protocol}:`;
        expect(await redis.set(`${p}k`, 'v')).toBe('OK');
        expect(await redis.get(`${p}k`)).toBe('v');
        expect(await redis.set(`${p}k`, 'w', 'NX')).toBe(null);
        expect(await redis.set(`${p}k`, 'w', 'XX', 'GET')).toBe('v');
        expect(await redis.incrby(`${p}n`, 5)).toBe(5);
        expect(await redis.mset(`${p}a`, '1', `${p}b`, '2')).toBe('OK');
        expect(await redis.mget(`${p}a`, `${p}b`, `${p}zz`)).toEqual(['1', '2', null]);
        expect(await redis.exists(`${p}a`, `${p}zz`)).toBe(1);
        const binary = Buffer.from([0, 1, 2, 255, 13, 10]);
        await redis.set(`${p}bin`, binary);
        expect(Buffer.compare((await redis.getBuffer(`${p}bin`))!, binary)).toBe(0);

        const pipeline = redis.pipeline();
        for (let i = 0; i < 100; i++) pipeline.set(`${p}pipe:${i}`, String(i));
        for (let i = 0; i < 100; i++) pipeline.get(`${p}pipe:${i}`);
        const results = await pipeline.exec();
        expect(results!.slice(100).map(([err, v]) => [err, v])).toEqual(
          Array.from({ length: 100 }, (_, i) => [null, String(i)]),
        );

        const scanned: string[] = [];
        await new Promise<void>((resolve, reject) => {
          const stream = redis.scanStream({ match: `${p}pipe:*`, count: 13 });
          stream.on('data', (keys: string[]) => scanned.push(...keys));
          stream.on('end', resolve);
          stream.on('error', reject);
        });
        expect(scanned.sort()).toEqual(Array.from({ length: 100 }, (_, i) => `${p}pipe:${i}`).sort());

        await redis.set(`${p}ttl`, 'x', 'PX', 30);
        await new Promise((resolve) => setTimeout(resolve, 80));
        expect(await redis.get(`${p}ttl`)).toBe(null);

        await expect(redis.incr(`${p}k`)).rejects.toThrow('ERR value is not an integer or out of range');
        expect(await redis.client('SETNAME', 'tester')).toBe('OK');
        expect(await redis.client('GETNAME')).toBe('tester');
        expect(String(await redis.call('CLIENT', 'INFO'))).toContain(`resp=${protocol}`);
        expect(await redis.select(2)).toBe('OK');
        expect(await redis.get(`${p}k`)).toBe(null);
      } finally {
        redis.disconnect();
      }
    });
  });
}

describe('ioredis Cluster', () => {
  it('learns the slot map and runs commands across slots', async () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: t.port }], {
      lazyConnect: true,
      redisOptions: { maxRetriesPerRequest: 0 },
    });
    try {
      await cluster.connect();
      for (let i = 0; i < 50; i++) expect(await cluster.set(`cl:${i}`, String(i))).toBe('OK');
      for (let i = 0; i < 50; i++) expect(await cluster.get(`cl:${i}`)).toBe(String(i));
      expect(await cluster.mget('{tag}a', '{tag}b')).toEqual([null, null]);
      expect(cluster.nodes('master')).toHaveLength(1);
      const slots = (await cluster.cluster('SLOTS')) as unknown[][];
      expect(slots[0]!.slice(0, 2)).toEqual([0, 16383]);
    } finally {
      cluster.disconnect();
    }
  });
});
