import { startTestCluster } from '@tessera/replication/testing';
import { expect, it } from 'vitest';
import { Documents } from './database.ts';
import { deriveIndexEntries } from './derive.ts';

// The document layer is isomorphic: the same collection, index derivation and find run in a browser.
it('collections, schema checks and find by index run in Chromium', async () => {
  const cluster = await startTestCluster({ peers: 3, seed: 7, derive: deriveIndexEntries });
  try {
    const documents = new Documents({ replicator: cluster.at('peer-0'), schemaRefreshMs: 0 });
    const notes = await documents.database('browser').collection('notes', {
      fields: { id: 'integer', title: { type: 'string', required: true }, stars: 'number' },
      primaryKey: 'id',
      indexes: { byStars: ['stars'] },
    });
    for (let id = 0; id < 12; id++) await notes.insert({ id, title: `note ${id}`, stars: (id % 4) + 0.5 });
    await expect(notes.insert({ id: 99 } as never)).rejects.toMatchObject({ name: 'SchemaViolationError' });
    const page = await notes.find('byStars', { range: { gte: 2 } }, { limit: 100 });
    const expected = Array.from({ length: 12 }, (_, id) => ({
      id,
      title: `note ${id}`,
      stars: (id % 4) + 0.5,
    }))
      .filter((note) => note.stars >= 2)
      .sort((a, b) => a.stars - b.stars || a.id - b.id);
    expect(page.documents).toEqual(expected);
    expect(page.cursor).toBeNull();
  } finally {
    await cluster.close();
  }
});
