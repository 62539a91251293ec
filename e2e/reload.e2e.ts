/** A browser owner reloads its page and still has its data, read from its own IndexedDB. */
import { expect, test, waitFor } from '@tessera/testing';

test.use({ tesseraOptions: { nodes: 1, browsers: 0, replicationFactor: 2 } });

test('a browser owner keeps its id and data across a reload (IndexedDB)', async ({ tessera }) => {
  const owner = await tessera.startBrowser({ role: 'owner', storage: 'indexeddb' });
  const [node] = tessera.nodes;
  if (node === undefined) throw new Error('one Node peer expected');
  await tessera.waitForMembers();
  expect(tessera.owners).toEqual([node.id, owner.id]);

  const keys = Array.from({ length: 5 }, (_, i) => `note:${i}:${crypto.randomUUID()}`);
  // `all`: acknowledged only once both owners, the page included, have it durably. A write that times out
  // on a loaded machine is retried under the same idempotency key until acknowledged.
  for (const [i, key] of keys.entries()) {
    const idempotencyKey = crypto.randomUUID();
    await waitFor(
      () => owner.put(key, { text: `note ${i}` }, { consistency: 'all', idempotencyKey }).then(() => true),
      { timeoutMs: 60_000, intervalMs: 500, what: `write ${i} acknowledged by both owners` },
    );
  }
  const idBefore = owner.id;

  await tessera.reload(owner);
  expect(owner.id).toBe(idBefore);
  // With the only other owner gone, a read can be answered by nothing but the page's own store.
  await tessera.kill(node);
  for (const [i, key] of keys.entries()) {
    const read = await owner.get(key, { consistency: { r: 1 } });
    expect(read).toEqual({ found: true, value: { text: `note ${i}` }, siblings: [] });
  }
  expect(await owner.get(`note:missing:${crypto.randomUUID()}`, { consistency: { r: 1 } })).toMatchObject({
    found: false,
  });
});
