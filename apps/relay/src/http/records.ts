/**
 * What the HTTP API needs from the data plane: the record-level API of the
 * peer's Replicator (`peer.replicator.put/get/delete`), typed from
 * `@tessera/peer`'s own `Peer` so a change there shows up here at compile time.
 */
import type { Peer } from '@tessera/peer';

/** Quorum reads and writes of records (bytes keyed by bytes). */
export type RecordApi = Pick<Peer['replicator'], 'put' | 'get' | 'delete'>;

export type RecordWriteOptions = NonNullable<Parameters<RecordApi['put']>[2]>;
export type RecordConsistencyOptions = NonNullable<Parameters<RecordApi['get']>[1]>;
export type RecordWriteResult = Awaited<ReturnType<RecordApi['put']>>;
export type RecordReadResult = Awaited<ReturnType<RecordApi['get']>>;
/** A version stamp: the minting owner's Lamport clock and its actor id. */
export type RecordVersion = RecordWriteResult['version'];
