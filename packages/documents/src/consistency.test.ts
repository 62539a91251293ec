import { keySlot } from '@tessera/core';
import type { StaticPlacement, TestCluster } from '@tessera/replication/testing';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Collection } from './collection.ts';
import { indexPrefix, objectKey, afterAll as rangeEnd } from './keys.ts';
import type { Document } from './schema.ts';
import {
  documentsOn,
  MemoryJobs,
  replicaIndexCheck,
  startDocumentCluster,
  storedKeys,
  testSeed,
} from './test-kit.ts';

const definition = {
  fields: { id: 'string', city: 'string', age: 'integer' },
  primaryKey: 'id',
  indexes: { byCityAge: ['city', 'age'] },
} as const;

interface Person extends Document {
  id: string;
  city?: string;
  age: number;
}

type Query = { eq?: unknown[]; range?: { gte?: number; lt?: number }; prefix?: string };

/** What `find(byCityAge, query)` must return, from the model: filter, then (city, age, id) order; missing city first. */
function expected(model: Map<string, Person>, query: Query): Person[] {
  const [city, age] = query.eq ?? [];
  return [...model.values()]
    .filter((p) => query.eq === undefined || (city === null ? p.city === undefined : p.city === city))
    .filter((p) => query.eq === undefined || query.eq.length < 2 || p.age === age)
    .filter((p) => query.prefix === undefined || p.city?.startsWith(query.prefix) === true)
    .filter(
      (p) =>
        query.range === undefined ||
        ((query.range.gte === undefined || p.age >= query.range.gte) &&
          (query.range.lt === undefined || p.age < query.range.lt)),
    )
    .sort(
      (a, b) =>
        cmp(a.city === undefined ? 0 : 1, b.city === undefined ? 0 : 1) ||
        cmp(a.city ?? '', b.city ?? '') ||
        cmp(a.age, b.age) ||
        cmp(a.id, b.id),
    );
}

const cmp = <T extends string | number>(a: T, b: T) => (a < b ? -1 : a > b ? 1 : 0);

async function findAll(collection: Collection<Person>, query: Query, limit: number): Promise<Person[]> {
  const out: Person[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 500; i++) {
    const page = await collection.find('byCityAge', query, { limit, cursor });
    out.push(...page.documents);
    if (page.cursor === null) return out;
    cursor = page.cursor;
  }
  throw new Error('find did not end');
}

const ids = Array.from({ length: 30 }, (_, i) => `p${i}`);
const cities = ['ams', 'amsterdam', 'berlin', 'bern', 'oslo'];
const personArb = fc.record(
  {
    id: fc.constantFrom(...ids),
    city: fc.constantFrom(...cities),
    age: fc.integer({ min: -3, max: 60 }),
  },
  { requiredKeys: ['id', 'age'] },
);
type Op =
  | { op: 'upsert'; doc: Person }
  | { op: 'delete'; id: string }
  | { op: 'update'; id: string; age: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('upsert' as const), doc: personArb }),
  fc.record({ op: fc.constant('delete' as const), id: fc.constantFrom(...ids) }),
  fc.record({
    op: fc.constant('update' as const),
    id: fc.constantFrom(...ids),
    age: fc.integer({ min: 0, max: 60 }),
  }),
);
const queryArb: fc.Arbitrary<Query> = fc.oneof(
  fc.constant({}),
  fc.record({ eq: fc.tuple(fc.constantFrom<string | null>(...cities, null)) }),
  fc.record({ eq: fc.tuple(fc.constantFrom(...cities), fc.integer({ min: 0, max: 60 })) }),
  fc.record({ prefix: fc.constantFrom('a', 'ams', 'ber', 'x', '') }),
  fc.record({
    eq: fc.tuple(fc.constantFrom(...cities)),
    range: fc.record(
      { gte: fc.integer({ min: -5, max: 60 }), lt: fc.integer({ min: 0, max: 70 }) },
      { requiredKeys: [] },
    ),
  }),
);

async function applyOp(collection: Collection<Person>, model: Map<string, Person>, op: Op) {
  if (op.op === 'upsert') {
    await collection.upsert(op.doc);
    model.set(op.doc.id, op.doc);
  } else if (op.op === 'delete') {
    await collection.delete(op.id);
    model.delete(op.id);
  } else if (model.has(op.id)) {
    model.set(op.id, await collection.update(op.id, { age: op.age }));
  }
}

/** Every peer's index entries match the object records it stores. */
async function expectReplicasConsistent(cluster: TestCluster, collection: string) {
  for (const id of cluster.ids) {
    const { expected: derived, actual } = await replicaIndexCheck(cluster, id, 'db', collection);
    expect(actual, `index entries on ${id}`).toEqual(derived);
  }
}

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe(`index consistency (seed ${testSeed})`, () => {
  it('find over all slots matches an in-memory model (property, paged with random limits)', async () => {
    cluster = await startDocumentCluster();
    const c = cluster;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        fc.array(fc.tuple(queryArb, fc.integer({ min: 1, max: 12 }), fc.constantFrom(...c.ids)), {
          minLength: 1,
          maxLength: 6,
        }),
        async (ops, queries) => {
          run += 1;
          const name = `people${run}`;
          const people = await documentsOn(c, 'peer-0').database('db').collection<Person>(name, definition);
          const model = new Map<string, Person>();
          for (const op of ops) await applyOp(people, model, op);
          for (const [query, limit, peer] of queries) {
            const reader = await documentsOn(c, peer).database('db').collection<Person>(name);
            expect(await findAll(reader, query, limit)).toEqual(expected(model, query));
          }
        },
      ),
      { numRuns: 10, seed: testSeed },
    );
  });

  it('stays consistent when an owner is killed mid-run, and after it returns and repair runs', async () => {
    cluster = await startDocumentCluster();
    const people = await documentsOn(cluster, 'peer-0')
      .database('db')
      .collection<Person>('killed', definition);
    const model = new Map<string, Person>();
    const rng = fc.sample(fc.array(opArb, { minLength: 80, maxLength: 80 }), {
      numRuns: 1,
      seed: testSeed,
    })[0]!;
    for (const op of rng.slice(0, 40)) await applyOp(people, model, op);
    cluster.network.stop('peer-2');
    (cluster.placement as StaticPlacement).markDown('peer-2');
    for (const op of rng.slice(40)) await applyOp(people, model, op);
    const reader = await documentsOn(cluster, 'peer-1').database('db').collection<Person>('killed');
    expect(await findAll(reader, {}, 7)).toEqual(expected(model, {}));
    cluster.network.resume('peer-2');
    (cluster.placement as StaticPlacement).markUp('peer-2');
    await cluster.repairUntilQuiet();
    await expectReplicasConsistent(cluster, 'killed');
    // Once repaired, peer-2's own entries are complete: it serves its slots and the answer matches.
    const onPeer2 = await documentsOn(cluster, 'peer-2').database('db').collection<Person>('killed');
    expect(await findAll(onPeer2, {}, 1000)).toEqual(expected(model, {}));
  });

  it('a stale entry on a lagging owner is dropped by the verifying read, and quorum find sees the new one', async () => {
    cluster = await startDocumentCluster();
    const people = await documentsOn(cluster, 'peer-0')
      .database('db')
      .collection<Person>('stale', definition);
    const ids = Array.from({ length: 12 }, (_, i) => `s${i}`);
    for (const id of ids) await people.upsert({ id, city: 'oslo', age: 1 });
    for (const id of cluster.ids) await cluster.at(id).settle();
    // peer-3 misses the moves to bern (not marked down: the writes reach quorum elsewhere and leave hints).
    cluster.network.stop('peer-3');
    for (const id of ids) await people.update(id, { city: 'bern' });
    for (const id of cluster.ids) await cluster.at(id).settle();
    cluster.network.resume('peer-3');
    const lagging = await documentsOn(cluster, 'peer-3').database('db').collection<Person>('stale');
    // At ONE, peer-3 answers from its own slots alone: the old version, as ONE promises and no more.
    const oslo = await lagging.find('byCityAge', { eq: ['oslo'] }, { consistency: 'one' });
    expect(oslo.documents.length).toBeGreaterThan(0);
    expect(oslo.documents.every((p) => p.city === 'oslo')).toBe(true);
    // At quorum, peer-3's stale entries still come back from the scan, and the verifying reads drop them.
    const quorumOslo = await lagging.find('byCityAge', { eq: ['oslo'] });
    expect(quorumOslo.documents).toEqual([]);
    expect(quorumOslo.skipped).toBeGreaterThan(0);
    const bern = await lagging.find('byCityAge', { eq: ['bern'] }, { limit: 100 });
    expect(bern.documents.map((p) => p.id).sort()).toEqual([...ids].sort());
  });

  it('a wiped replica gets its index entries back through anti-entropy', async () => {
    cluster = await startDocumentCluster();
    const people = await documentsOn(cluster, 'peer-0')
      .database('db')
      .collection<Person>('wiped', definition);
    for (let i = 0; i < 30; i++) await people.upsert({ id: `p${i}`, city: cities[i % 5]!, age: i });
    const prefix = indexPrefix('db', 'wiped', 'byCityAge');
    const before = await storedKeys(cluster, 'peer-1', prefix, rangeEnd(prefix));
    expect(before.length).toBeGreaterThan(0);
    await cluster.wipe('peer-1');
    await cluster.repairUntilQuiet();
    expect(await storedKeys(cluster, 'peer-1', prefix, rangeEnd(prefix))).toEqual(before);
    await expectReplicasConsistent(cluster, 'wiped');
  });

  it('entries follow their objects when slots move to a new owner', async () => {
    cluster = await startDocumentCluster(5);
    const placement = cluster.placement as StaticPlacement;
    const people = await documentsOn(cluster, 'peer-0')
      .database('db')
      .collection<Person>('moved', definition);
    const model = new Map<string, Person>();
    for (let i = 0; i < 30; i++) {
      const doc = { id: `p${i}`, city: cities[i % 5]!, age: i };
      await people.upsert(doc);
      model.set(doc.id, doc);
    }
    // Move every object's slot to owners that include a peer which never held it, then drop an old owner.
    for (const doc of model.values()) {
      const slot = keySlot(objectKey('db', 'moved', doc.id));
      const owners = placement.lookup(slot).owners;
      const newcomer = cluster.ids.find((id) => !owners.includes(id))!;
      placement.moveSlot(slot, [newcomer, owners[0]!, owners[1]!]);
    }
    await cluster.repairUntilQuiet();
    await expectReplicasConsistent(cluster, 'moved');
    for (const id of cluster.ids) {
      const reader = await documentsOn(cluster, id).database('db').collection<Person>('moved');
      expect(await findAll(reader, {}, 9)).toEqual(expected(model, {}));
    }
  });

  it('addIndex backfills as a job with progress; dropIndex removes the entries on every replica', async () => {
    cluster = await startDocumentCluster();
    const jobs = new MemoryJobs();
    const documents = documentsOn(cluster, 'peer-0', jobs);
    const db = documents.database('db');
    const people = await db.collection<Person>('reindexed', definition);
    const model = new Map<string, Person>();
    for (let i = 0; i < 40; i++) {
      const doc = { id: `p${i}`, city: cities[i % 5]!, age: i % 7 };
      await people.upsert(doc);
      model.set(doc.id, doc);
    }
    const report = await db.addIndex('reindexed', 'byAge', ['age']);
    for (const id of cluster.ids) await cluster.at(id).settle();
    expect(report).toMatchObject({ total: 40, rewritten: 40 });
    expect(report.job).toMatchObject({
      kind: 'documents.reindex',
      status: 'done',
      progress: { done: 40, total: 40 },
    });
    // Progress: counted first (0 of 40), never going back, done at the end.
    expect(jobs.updates[0]!.progress).toEqual({ done: 0, total: 40 });
    const dones = jobs.updates.map((job) => job.progress.done);
    expect(dones).toEqual([...dones].sort((a, b) => a - b));
    const byAge = [...model.values()].filter((p) => p.age === 3).sort((a, b) => cmp(a.id, b.id));
    expect((await people.find('byAge', { eq: 3 })).documents).toEqual(byAge);
    await expectReplicasConsistent(cluster, 'reindexed');
    const dropped = await db.dropIndex('reindexed', 'byAge');
    expect(dropped.rewritten).toBe(40);
    // Writes resolve at W = 2; the third owner's copy lands in the background fan-out.
    for (const id of cluster.ids) await cluster.at(id).settle();
    const prefix = indexPrefix('db', 'reindexed', 'byAge');
    for (const id of cluster.ids) expect(await storedKeys(cluster, id, prefix, rangeEnd(prefix))).toEqual([]);
    await expect(people.find('byAge', { eq: 3 })).rejects.toMatchObject({ name: 'IndexNotFoundError' });
    await expectReplicasConsistent(cluster, 'reindexed');
  });
});
