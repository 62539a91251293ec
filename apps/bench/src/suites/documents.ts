/**
 * Documents suite: find by a secondary index against a full scan, in the
 * same run, over one collection in an in-process cluster: 3 Replicators,
 * N=3, each on its own filesystem store (LMDB, durable writes) in a temp
 * dir, talking over the in-memory replica network (no wire time, so the
 * rows compare the work a query does, not the network). The memory store
 * is not used: its sorted-array inserts make a 100k load quadratic.
 *
 * `DOCUMENTS_BENCH_DOCS` sets the collection size (default 20 000; the
 * recorded run in docs/benchmarks.md uses 100 000).
 *
 * Rows:
 * - full scan, filter city = c: every object's record is read (one owner
 *   per slot, winning values decoded) and filtered: the baseline;
 * - find eq city = c (limit 1000): the same answer through the byCity index;
 * - find range on age (first page of 100): an ordered range;
 * - get by primary key: one quorum read, for scale.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Documents, decodeEnvelope, deriveIndexEntries, objectPrefix } from '@tessera/documents';
import { Replicator } from '@tessera/replication';
import { MemoryReplicaNetwork, StaticPlacement, testTimers } from '@tessera/replication/testing';
import { openFsStore } from '@tessera/storage-fs';
import { defaults, measureAsync, printTable, type Row } from '../harness.ts';

const docsDefault = 20_000;
const cities = 200;
const insertConcurrency = 64;

export async function run(): Promise<void> {
  const count = Number(process.env.DOCUMENTS_BENCH_DOCS ?? docsDefault);
  if (!Number.isSafeInteger(count) || count < cities)
    throw new Error(`DOCUMENTS_BENCH_DOCS must be an integer >= ${cities}`);
  const ids = ['peer-0', 'peer-1', 'peer-2'];
  const network = new MemoryReplicaNetwork({ seed: 1 });
  const placement = new StaticPlacement(ids, 3);
  const timers = testTimers();
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-documents-'));
  const stores = await Promise.all(ids.map((id) => openFsStore(join(dir, id))));
  const replicators = await Promise.all(
    ids.map((id, i) =>
      Replicator.open({
        transport: network.transport(id),
        placement,
        store: stores[i]!,
        timers,
        replication: { replicationFactor: 3, consistency: 'quorum' },
        derive: deriveIndexEntries,
        limits: { requestTimeoutMs: 30_000 },
      }),
    ),
  );
  try {
    const documents = new Documents({ replicator: replicators[0]!, schemaRefreshMs: 60_000 });
    const people = await documents.database('bench').collection('people', {
      fields: { id: 'integer', name: 'string', city: 'string', age: 'integer' },
      primaryKey: 'id',
      indexes: { byCity: ['city'], byAge: ['age'] },
    });
    const loadStart = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: insertConcurrency }, async () => {
        while (next < count) {
          const id = next++;
          await people.upsert({ id, name: `person ${id}`, city: `city-${id % cities}`, age: id % 90 });
        }
      }),
    );
    for (const replicator of replicators) await replicator.settle();
    const loadMs = performance.now() - loadStart;
    console.log(
      `documents: loaded ${count} documents (2 indexes) in ${(loadMs / 1000).toFixed(1)} s ` +
        `(${Math.round((count * 1000) / loadMs)} upserts/s, ${insertConcurrency} in flight)`,
    );

    const replicator = replicators[0]!;
    const start = objectPrefix('bench', 'people');
    const end = Uint8Array.from([...start, 0xff]);
    const perCity = Math.ceil(count / cities);
    const timed = { durationMs: Math.max(defaults.durationMs, 2000), warmupMs: 200, percentiles: true };

    const fullScan = await measureAsync(
      `full scan, filter city (${count} docs)`,
      async (i) => {
        const city = `city-${i % cities}`;
        let after: Uint8Array | null = null;
        let found = 0;
        do {
          const page = await replicator.scan({ start, end, after, limit: 1024, mode: 'records' });
          for (const [, bytes] of page.entries) if (decodeEnvelope(bytes)?.doc.city === city) found += 1;
          after = page.cursor;
        } while (after !== null);
        if (found !== perCity && found !== perCity - 1) throw new Error(`full scan found ${found}`);
        return found;
      },
      { ...timed, durationMs: Math.max(defaults.durationMs, 3000), warmupMs: 0 },
    );
    const findEq = await measureAsync(
      `find eq city (~${perCity} hits, verified)`,
      async (i) => {
        const page = await people.find('byCity', { eq: `city-${i % cities}` }, { limit: 1000 });
        if (page.documents.length !== perCity && page.documents.length !== perCity - 1) {
          throw new Error(`find found ${page.documents.length}`);
        }
        return page.documents.length;
      },
      timed,
    );
    const findRange = await measureAsync(
      'find range age 30..40, first 100',
      async () =>
        (await people.find('byAge', { range: { gte: 30, lt: 40 } }, { limit: 100 })).documents.length,
      timed,
    );
    const get = await measureAsync('get by primary key', async (i) => people.get(i % count), timed);
    const rows: Row[] = [
      { result: fullScan },
      { result: findEq, baseline: fullScan.name },
      { result: findRange, baseline: fullScan.name },
      { result: get, baseline: fullScan.name },
    ];
    printTable(
      `documents: ${count} documents, 3 in-process peers (fs stores, in-memory network), N=3; ` +
        'latency per query, ratio = queries/s against the full scan',
      rows,
    );
  } finally {
    for (const replicator of replicators) await replicator.close();
    for (const store of stores) await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}
