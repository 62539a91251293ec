import { keyPrefix } from '@tessera/core';
import type { TestCluster } from '@tessera/replication/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collection } from './collection.ts';
import type { Documents } from './database.ts';
import { collectionKey, objectPrefix, afterAll as rangeEnd } from './keys.ts';
import type { Document } from './schema.ts';
import { documentsOn, replicaIndexCheck, startDocumentCluster, storedKeys, testSeed } from './test-kit.ts';

let cluster: TestCluster;
let docs: Documents;

beforeAll(async () => {
  cluster = await startDocumentCluster();
  docs = documentsOn(cluster, 'peer-0');
});
afterAll(async () => {
  await cluster?.close();
});

const usersDefinition = {
  fields: {
    id: 'string',
    email: { type: 'string', required: true },
    age: 'integer',
    score: 'number',
    tags: 'array',
  },
  primaryKey: 'id',
  indexes: { byEmail: ['email'], byAge: ['age'], byScore: ['score'] },
} as const;

/** Every stored key of the collection's objects, on every peer. */
async function objectKeysEverywhere(collection: string) {
  const prefix = objectPrefix('shop', collection);
  const all: string[] = [];
  for (const id of cluster.ids) all.push(...(await storedKeys(cluster, id, prefix, rangeEnd(prefix))));
  return all;
}

async function allPages(
  collection: Collection,
  index: string,
  query: Parameters<Collection['find']>[1],
  limit: number,
) {
  const out: Document[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const page = await collection.find(index, query, { limit, cursor });
    out.push(...page.documents);
    if (page.cursor === null) return out;
    cursor = page.cursor;
  }
  throw new Error('find did not end');
}

describe(`documents (seed ${testSeed})`, () => {
  it('refuses bad definitions with InvalidSchemaError and stores no collection', async () => {
    const db = docs.database('shop');
    const bad = [
      { fields: { id: 'string' }, primaryKey: 'missing' },
      { fields: { id: 'number' }, primaryKey: 'id' },
      { fields: { id: 'string', x: 'nope' }, primaryKey: 'id' },
      { fields: { id: 'string', m: 'map' }, primaryKey: 'id', indexes: { byM: ['m'] } },
      { fields: { id: 'string' }, primaryKey: 'id', indexes: { byX: ['x'] } },
      { fields: { id: 'string' }, primaryKey: 'id', indexes: { empty: [] } },
    ];
    for (const definition of bad) {
      await expect(db.collection('bad', definition as never)).rejects.toMatchObject({
        name: 'InvalidSchemaError',
      });
    }
    expect(
      (await cluster.at('peer-1').get(collectionKey('shop', 'bad'), { routingKey: '{tessera.meta}' })).found,
    ).toBe(false);
    await expect(db.collection('never-made')).rejects.toMatchObject({ name: 'CollectionNotFoundError' });
    await expect(db.collection('kv', usersDefinition)).rejects.toMatchObject({
      name: 'InvalidArgumentError',
    });
  });

  it('refuses schema violations with SchemaViolationError and writes nothing on any peer', async () => {
    const users = await docs.database('shop').collection('violations', { ...usersDefinition, strict: true });
    const cases: [unknown, string][] = [
      [{ id: 'a' }, 'email'],
      [{ id: 'a', email: 7 }, 'email'],
      [{ id: 'a', email: 'a@x', age: 1.5 }, 'age'],
      [{ id: 'a', email: 'a@x', score: Number.NaN }, 'score'],
      [{ id: 'a', email: 'a@x', tags: 'x' }, 'tags'],
      [{ id: 'a', email: 'a@x', extra: 1 }, 'extra'],
      [{ id: 5, email: 'a@x' }, 'id'],
      [{ email: 'a@x' }, 'id'],
      [{ id: 'a', email: 'x'.repeat(2000) }, 'email'],
      [[1, 2], ''],
      [null, ''],
    ];
    for (const [doc, field] of cases) {
      await expect(users.insert(doc as Document)).rejects.toMatchObject({
        name: 'SchemaViolationError',
        field,
      });
      await expect(users.upsert(doc as Document)).rejects.toMatchObject({
        name: 'SchemaViolationError',
        field,
      });
    }
    expect(await objectKeysEverywhere('violations')).toEqual([]);
    await users.insert({ id: 'a', email: 'a@x' });
    await expect(users.update('a', { age: 'old' as never })).rejects.toMatchObject({
      name: 'SchemaViolationError',
    });
    await expect(users.update('a', { id: 'b' })).rejects.toMatchObject({ name: 'SchemaViolationError' });
    expect(await users.get('a')).toEqual({ id: 'a', email: 'a@x' });
  });

  it('insert, get, replace, update, upsert and delete, with typed errors for the wrong state', async () => {
    const users = await docs.database('shop').collection('crud', usersDefinition);
    await users.insert({ id: 'u1', email: 'one@x', age: 30 });
    await expect(users.insert({ id: 'u1', email: 'other@x' })).rejects.toMatchObject({
      name: 'DocumentExistsError',
    });
    await expect(users.replace({ id: 'u2', email: 'two@x' })).rejects.toMatchObject({
      name: 'DocumentNotFoundError',
    });
    await expect(users.update('u2', { age: 1 })).rejects.toMatchObject({ name: 'DocumentNotFoundError' });
    // Another peer's handle sees the same documents.
    const elsewhere = await documentsOn(cluster, 'peer-3').database('shop').collection('crud');
    expect(await elsewhere.get('u1')).toEqual({ id: 'u1', email: 'one@x', age: 30 });
    await elsewhere.replace({ id: 'u1', email: 'uno@x', age: 31 });
    expect(await users.update('u1', { age: 32, score: 1.5 })).toEqual({
      id: 'u1',
      email: 'uno@x',
      age: 32,
      score: 1.5,
    });
    expect(await users.update('u1', { score: undefined })).toEqual({ id: 'u1', email: 'uno@x', age: 32 });
    await users.upsert({ id: 'u2', email: 'two@x' });
    expect((await users.find('byEmail', { eq: 'uno@x' })).documents).toEqual([
      { id: 'u1', email: 'uno@x', age: 32 },
    ]);
    expect((await users.find('byEmail', { eq: 'one@x' })).documents).toEqual([]);
    await users.delete('u1');
    expect(await users.get('u1')).toBeUndefined();
    expect((await users.find('byEmail', {})).documents.map((d) => d.id)).toEqual(['u2']);
    // The reopened collection keeps its definition; a different one conflicts.
    await expect(docs.database('shop').collection('crud', usersDefinition)).resolves.toBeDefined();
    await expect(
      docs.database('shop').collection('crud', { ...usersDefinition, indexes: {} }),
    ).rejects.toMatchObject({ name: 'SchemaConflictError' });
    expect(await docs.database('shop').options()).toEqual({});
    const listed = await documentsOn(cluster, 'peer-2').database('shop').collections();
    expect(listed).toContain('crud');
    expect(listed).not.toContain('bad');
    expect(listed).toEqual([...listed].sort());
    expect(await docs.database('nobody').collections()).toEqual([]);
  });

  it('finds by equality, numeric ranges, string prefixes and missing fields, in index order, with cursors', async () => {
    const items = await docs.database('shop').collection('items', {
      fields: { sku: 'integer', name: 'string', price: 'number', brand: 'string' },
      primaryKey: 'sku',
      indexes: { byPrice: ['price'], byBrandName: ['brand', 'name'] },
    });
    const all: Document[] = [];
    for (let sku = 0; sku < 40; sku++) {
      const doc: Document = {
        sku,
        name: `item-${String(sku % 13).padStart(2, '0')}`,
        price: (sku % 10) * 1.5 + (sku % 3),
      };
      if (sku % 7 !== 0) doc.brand = sku % 2 === 0 ? 'acme' : 'zenith';
      all.push(doc);
      await items.insert(doc);
    }
    const byPriceThenSku = (a: Document, b: Document) =>
      (a.price as number) - (b.price as number) || (a.sku as number) - (b.sku as number);
    const range = all
      .filter((d) => (d.price as number) >= 3 && (d.price as number) < 9.5)
      .sort(byPriceThenSku);
    // 3 is an integer-valued bound on a number field: it must still order among 1.5, 4.5, ...
    expect(await allPages(items, 'byPrice', { range: { gte: 3, lt: 9.5 } }, 4)).toEqual(range);
    expect(await allPages(items, 'byPrice', { range: { gt: 3 } }, 1000)).toEqual(
      all.filter((d) => (d.price as number) > 3).sort(byPriceThenSku),
    );
    const acme = all
      .filter((d) => d.brand === 'acme' && (d.name as string).startsWith('item-1'))
      .sort((a, b) =>
        (a.name as string) < (b.name as string)
          ? -1
          : a.name === b.name
            ? (a.sku as number) - (b.sku as number)
            : 1,
      );
    expect(await allPages(items, 'byBrandName', { eq: ['acme'], prefix: 'item-1' }, 3)).toEqual(acme);
    const noBrand = all.filter((d) => d.brand === undefined).map((d) => d.sku);
    expect(
      (await allPages(items, 'byBrandName', { eq: [null] }, 2))
        .map((d) => d.sku)
        .sort((a, b) => (a as number) - (b as number)),
    ).toEqual(noBrand);
    // Range and prefix never match a missing field.
    expect((await allPages(items, 'byBrandName', { range: { lt: 'zzz' } }, 50)).length).toBe(
      all.length - noBrand.length,
    );
    await expect(items.find('nope', {})).rejects.toMatchObject({ name: 'IndexNotFoundError' });
    for (const [query, options] of [
      [{ eq: 'cheap' }, {}],
      [{ range: { gte: null } }, {}],
      [{ eq: [1, 2] }, {}],
      [{ prefix: 'x' }, {}],
      [{ range: { gt: 1, gte: 2 } }, {}],
      [{}, { limit: 0 }],
      [{}, { cursor: 'not a cursor!' }],
      [{}, { cursor: 'AAAA' }],
    ] as const) {
      await expect(items.find('byPrice', query as never, options as never)).rejects.toMatchObject({
        name: 'InvalidQueryError',
      });
    }
    for (const id of cluster.ids) {
      const { expected, actual } = await replicaIndexCheck(cluster, id, 'shop', 'items');
      expect(actual).toEqual(expected);
    }
  });

  it('keeps plain key-value records out of the indexes', async () => {
    const key = keyPrefix('O', ['shop', 'kv', new TextEncoder().encode('k')]);
    const lookalike = (await import('./envelope.ts')).encodeEnvelope({
      doc: { a: 1 },
      indexed: [['byA', new Uint8Array([0x15, 0x01])]],
    });
    await cluster.at('peer-0').put(key, lookalike, { routingKey: 'k', consistency: 'all' });
    for (const id of cluster.ids) {
      const { actual } = await replicaIndexCheck(cluster, id, 'shop', 'kv');
      expect(actual).toEqual([]);
    }
  });
});
