/**
 * The reindex job behind `addIndex` and `dropIndex`: after every peer's
 * cached schema has had time to refresh, page through the collection's
 * objects (one owner per slot) and rewrite each object whose envelope
 * carries other index entries than the current schema implies. The rewrite
 * goes through the normal replicated write path, so every replica derives
 * the new entries (and deletes dropped ones) in the object's own batch.
 */
import type { Job } from '@tessera/coordinator';
import type { Collection } from './collection.ts';
import type { Documents } from './database.ts';
import { decodeEnvelope, encodeEnvelope, indexedValuesOf, sameIndexed } from './envelope.ts';
import { afterAll, objectPrefix } from './keys.ts';
import { backfillPageMax } from './limits.ts';
import type { CollectionSchema } from './schema.ts';

/** The coordinator job kind of a reindex. */
export const REINDEX_JOB_KIND = 'documents.reindex';

/** What a reindex did. */
export interface ReindexReport {
  /** The job that recorded progress, when a jobs API was given. */
  readonly job: Job | undefined;
  /** Objects looked at. */
  readonly total: number;
  /** Objects rewritten because their index entries differed. */
  readonly rewritten: number;
}

async function* objectPages(documents: Documents, collection: Collection) {
  const start = objectPrefix(collection.database, collection.name);
  const end = afterAll(start);
  let after: Uint8Array | null = null;
  for (;;) {
    const page = await documents.replicator.scan({
      start,
      end,
      after,
      limit: backfillPageMax,
      mode: 'records',
    });
    yield page.entries;
    if (page.cursor === null) return;
    after = page.cursor;
  }
}

export async function reindex(
  documents: Documents,
  collection: Collection,
  schema: CollectionSchema,
): Promise<ReindexReport> {
  const { jobs, replicator } = documents;
  let job = jobs ? await jobs.create({ kind: REINDEX_JOB_KIND, status: 'running', total: 0 }) : undefined;
  try {
    // Writers on other peers pick the new schema up within one refresh period; objects they write
    // after that carry the new entries, objects written before are in the scan below.
    await new Promise((resolve) => setTimeout(resolve, documents.schemaRefreshMs));
    let total = 0;
    for await (const page of objectPages(documents, collection)) total += page.length;
    if (job && jobs) job = await jobs.update(job.id, { total, done: 0 });
    let done = 0;
    let rewritten = 0;
    for await (const page of objectPages(documents, collection)) {
      for (const [key, bytes] of page) {
        const envelope = decodeEnvelope(bytes);
        if (envelope && !sameIndexed(envelope.indexed, indexedValuesOf(schema, envelope.doc))) {
          // Re-read at quorum and write with that read's context, so only what was read is replaced.
          const read = await replicator.get(key, { routingKey: key });
          const current = read.found && read.value ? decodeEnvelope(read.value) : undefined;
          if (current) {
            const indexed = indexedValuesOf(schema, current.doc);
            if (!sameIndexed(current.indexed, indexed)) {
              await replicator.put(key, encodeEnvelope({ doc: current.doc, indexed }), {
                routingKey: key,
                context: read.context,
              });
              rewritten += 1;
            }
          }
        }
      }
      done = Math.min(total, done + page.length);
      total = Math.max(total, done);
      if (job && jobs) job = await jobs.update(job.id, { done, total });
    }
    if (job && jobs) job = await jobs.update(job.id, { status: 'done', done: total, total });
    return { job, total, rewritten };
  } catch (error) {
    if (job && jobs) {
      await jobs.update(job.id, {
        status: 'failed',
        error: error instanceof Error ? error.message : String(error),
      });
    }
    throw error;
  }
}
