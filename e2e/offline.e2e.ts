/** A browser client goes offline, writes, comes back: its queued writes reach the owners. */
import { expect, test } from '@tessera/testing';

test.use({ tesseraOptions: { nodes: 3, browsers: 1 } });

test('writes made offline are queued and reach the owners when the client is back', async ({ tessera }) => {
  const [client] = tessera.browsers;
  if (client === undefined) throw new Error('one browser expected');
  const nodes = tessera.nodes;
  const keys = Array.from({ length: 4 }, (_, i) => `offline:${i}:${crypto.randomUUID()}`);

  await client.goOffline(nodes.map((node) => node.id));
  for (const [i, key] of keys.entries()) {
    const { queued } = await client.queuedPut(key, { n: i });
    expect(queued).toBe(true);
  }
  expect(await client.queuedWrites()).toBe(keys.length);
  // Nothing reached the owners while offline.
  for (const key of keys) expect((await nodes[0]!.get(key, { consistency: 'all' })).found).toBe(false);

  await client.goOnline();
  await expect.poll(() => client.queuedWrites(), { timeout: 60_000, intervals: [250] }).toBe(0);
  // Every write is now on a quorum of owners with the value written offline. A retry can leave a second
  // version with the same value as a sibling: the idempotency key is remembered by the owner that minted
  // the first version, and a retry coordinated by another owner mints again (reported on issue 10).
  for (const [i, key] of keys.entries()) {
    for (const node of nodes) {
      const read = await node.get(key, { consistency: 'quorum' });
      expect(read).toMatchObject({ found: true, value: { n: i } });
      for (const sibling of read.siblings) expect(sibling).toEqual({ n: i });
    }
  }
});
