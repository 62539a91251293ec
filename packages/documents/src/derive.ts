/**
 * The Replicator's `derive` hook: the index entries of an object record,
 * from its winning sibling's envelope. Runs on every replica for every
 * record it writes, in the same store batch, so an object and its index
 * entries never disagree on a replica (crash, repair, hinted handoff, slot
 * copy). Records that are not document objects derive nothing.
 */
import { decodeKey, decodeTuple, encodeTuple } from '@tessera/core';
import type { DerivedEntry, ReplicaRecord } from '@tessera/replication';
import { winnerOf } from '@tessera/replication';
import { decodeEnvelope } from './envelope.ts';
import { concatBytes, indexPrefix, KV_COLLECTION } from './keys.ts';
import { indexesMax } from './limits.ts';

const O = 'O'.charCodeAt(0);
const EMPTY = new Uint8Array(0);

/** The I key of one entry: index prefix, the encoded values, then the primary key. */
export function indexEntryKey(
  db: string | number,
  collection: string,
  index: string,
  values: Uint8Array,
  pk: Parameters<typeof encodeTuple>[0][number],
): Uint8Array {
  return concatBytes(indexPrefix(db, collection, index), values, encodeTuple([pk]));
}

export function deriveIndexEntries(key: Uint8Array, record: ReplicaRecord): DerivedEntry[] {
  if (key[0] !== O || record.length === 0) return [];
  const bytes = winnerOf(record).value.bytes;
  if (bytes === null) return [];
  const { elements } = decodeKey(key);
  const [db, collection, pk] = elements;
  if (elements.length !== 3 || collection === KV_COLLECTION || typeof collection !== 'string') return [];
  if (typeof db !== 'string' && typeof db !== 'number') return [];
  const envelope = decodeEnvelope(bytes);
  if (!envelope) return [];
  const entries: DerivedEntry[] = [];
  for (const [index, values] of envelope.indexed.slice(0, indexesMax)) {
    // Values from another peer must be one well-formed tuple, or the entry is skipped.
    try {
      decodeTuple(values);
      entries.push({ key: indexEntryKey(db, collection, index, values, pk!), value: EMPTY });
    } catch {}
  }
  return entries;
}
