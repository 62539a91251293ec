/** Helpers for this package's tests: an in-process cluster with the document derive hook, and replica checks. */
import type { Job, JobInput, JobPatch, Jobs } from '@tessera/coordinator';
import { decodeValue } from '@tessera/core';
import { recordFromWire } from '@tessera/replication';
import { startTestCluster, type TestCluster } from '@tessera/replication/testing';
import { Documents } from './database.ts';
import { deriveIndexEntries } from './derive.ts';
import { afterAll, type DatabaseName, indexPrefix, objectPrefix } from './keys.ts';

export const testSeed = Number(process.env.DOCUMENTS_SEED ?? Date.now() % 100_000);

export async function startDocumentCluster(peers = 4): Promise<TestCluster> {
  return startTestCluster({ peers, seed: testSeed, derive: deriveIndexEntries });
}

/** A Documents API on `id` that re-reads schemas on every use (no refresh window to wait out). */
export function documentsOn(cluster: TestCluster, id: string, jobs?: Jobs): Documents {
  return new Documents({ replicator: cluster.at(id), schemaRefreshMs: 0, ...(jobs ? { jobs } : {}) });
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** Keys (hex, sorted) of every stored entry on `id` in [start, end). */
export async function storedKeys(cluster: TestCluster, id: string, start: Uint8Array, end: Uint8Array) {
  const keys: string[] = [];
  for await (const { key } of cluster.stores.get(id)!.scan({ start, end })) keys.push(hex(key));
  return keys;
}

/**
 * The replica invariant: the index entries `id` stores for a collection are
 * exactly those its stored object records derive. Returns both, as hex.
 */
export async function replicaIndexCheck(
  cluster: TestCluster,
  id: string,
  db: DatabaseName,
  collection: string,
) {
  const expected: string[] = [];
  const objects = objectPrefix(db, collection);
  for await (const { key, value } of cluster.stores
    .get(id)!
    .scan({ start: objects, end: afterAll(objects) })) {
    const record = recordFromWire(decodeValue<{ s: unknown }>(value).s);
    for (const entry of deriveIndexEntries(key, record)) expected.push(hex(entry.key));
  }
  expected.sort();
  const indexes = indexPrefix(db, collection, '').subarray(0, -2);
  const actual = await storedKeys(cluster, id, indexes, afterAll(indexes));
  return { expected, actual };
}

/** An in-memory Jobs (the coordinator's keep them in its store); records every update for progress checks. */
export class MemoryJobs implements Jobs {
  readonly jobs = new Map<string, Job>();
  readonly updates: Job[] = [];
  #next = 0;

  async create(input: JobInput): Promise<Job> {
    this.#next += 1;
    const job: Job = {
      id: `job-${this.#next}`,
      kind: input.kind,
      status: input.status ?? 'pending',
      progress: { done: 0, total: input.total ?? 0 },
      slots: input.slots ?? [],
      node: 'test',
      createdMs: Date.now(),
      updatedMs: Date.now(),
      error: null,
    };
    this.jobs.set(job.id, job);
    return job;
  }

  async update(id: string, patch: JobPatch): Promise<Job> {
    const job = this.jobs.get(id)!;
    const next: Job = {
      ...job,
      status: patch.status ?? job.status,
      progress: { done: patch.done ?? job.progress.done, total: patch.total ?? job.progress.total },
      error: patch.error === undefined ? job.error : patch.error,
      updatedMs: Date.now(),
    };
    this.jobs.set(id, next);
    this.updates.push(next);
    return next;
  }

  async get(id: string): Promise<Job | undefined> {
    return this.jobs.get(id);
  }

  async list(): Promise<Job[]> {
    return [...this.jobs.values()];
  }
}
