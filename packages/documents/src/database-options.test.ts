import { InvalidArgumentError } from '@tessera/core';
import type { TestCluster } from '@tessera/replication/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKey, META_ROUTING_KEY } from './keys.ts';
import { documentsOn, startDocumentCluster, testSeed } from './test-kit.ts';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startDocumentCluster(3);
});
afterAll(async () => {
  await cluster?.close();
});

describe(`database options (seed ${testSeed})`, () => {
  it('setOptions refuses N outside 1..10 and unknown consistencies, and writes nothing', async () => {
    const shop = documentsOn(cluster, 'peer-0').database('shop');
    for (const bad of [0, 11, 2.5, Number.NaN, '3']) {
      await expect(shop.setOptions({ replicationFactor: bad as number })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    }
    await expect(shop.setOptions({ consistency: 'most' as 'one' })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(shop.setOptions(null as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    for (const id of cluster.ids) {
      const read = await cluster
        .at(id)
        .get(databaseKey('shop'), { routingKey: META_ROUTING_KEY, consistency: 'one' });
      expect(read.found).toBe(false);
    }
    await shop.setOptions({ replicationFactor: 10, consistency: 'all' });
    expect(await documentsOn(cluster, 'peer-2').database('shop').options()).toEqual({
      replicationFactor: 10,
      consistency: 'all',
    });
  });
});
