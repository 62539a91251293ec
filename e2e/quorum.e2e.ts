/** Browser A writes with quorum, browser B reads it with quorum: the data path from page to owners and back. */
import { expect, test } from '@tessera/testing';

test.use({ tesseraOptions: { nodes: 3, browsers: 2 } });

test('browser A writes, browser B reads it back with quorum', async ({ tessera }) => {
  const [a, b] = tessera.browsers;
  if (a === undefined || b === undefined) throw new Error('two browsers expected');
  expect(a.id).not.toBe(b.id);
  const key = `todo:${crypto.randomUUID()}`;
  await a.put(key, { title: 'buy milk', done: false }, { consistency: 'quorum' });
  const read = await b.get(key, { consistency: 'quorum' });
  expect(read).toEqual({ found: true, value: { title: 'buy milk', done: false }, siblings: [] });
  // A key nobody wrote is absent, so the read above is not a default.
  expect(await b.get(`${key}-other`, { consistency: 'quorum' })).toMatchObject({ found: false });
  // The write is on a quorum of the Node owners themselves, not only cached in the browsers.
  const onNodes = await Promise.all(tessera.nodes.map((node) => node.get(key, { consistency: 'one' })));
  expect(onNodes.filter((view) => view.found).length).toBeGreaterThanOrEqual(2);
});
