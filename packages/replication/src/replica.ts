/**
 * The owner side: executes replication ops against the local ReplicaStore.
 * Remote frames arrive through `handleFrame` (checked whole before anything
 * is applied); the local Replicator calls `execute` directly.
 */

import type { LamportClock } from '@tessera/core';
import { TesseraError } from '@tessera/core';
import { equalBytes, Hash64, toHex } from './bytes.ts';
import { BadFrameError } from './errors.ts';
import { decodeRequest, encodeErrorReply, encodeReply, type OpResult, type ReplicaOp } from './frames.ts';
import { recordsFrameBytesMax, scanExaminedPerPageMax, scanPageBytesMax } from './limits.ts';
import {
  isTombstoneOnly,
  maxClock,
  maxCounter,
  merge,
  mint,
  type ReplicaRecord,
  versionHash,
} from './record.ts';
import type { RecordsBudget, ReplicaStore } from './replica-store.ts';

/** Hash of a write's content, to tell a retry from a conflicting reuse of an idempotency key. */
export function contentHash(deleted: boolean, value: Uint8Array | null): Uint8Array {
  return new Hash64()
    .updateNumber(deleted ? 1 : 0)
    .update(value ?? new Uint8Array(0))
    .digest();
}

export interface ReplicaServiceOptions {
  readonly store: ReplicaStore;
  /** This replica's actor id: node id plus incarnation, so a restarted peer never reuses a dot. */
  readonly actor: string;
  readonly clock: LamportClock;
  readonly now: () => number;
  readonly idempotencyTtlMs: number;
  /** The slot of a record key (for `scan` in records mode); default slot 0. */
  readonly slotOf?: (key: Uint8Array) => number;
}

/** Executes ops for one replica; per-key operations are serialized. */
export class ReplicaService {
  readonly #options: ReplicaServiceOptions;
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(options: ReplicaServiceOptions) {
    this.#options = options;
  }

  /** Runs `task` after every earlier task on the same key has settled. */
  #withKey<T>(key: Uint8Array, task: () => Promise<T>): Promise<T> {
    const id = toHex(key);
    const previous = this.#locks.get(id) ?? Promise.resolve();
    const next = previous.then(task, task);
    const tail = next.catch(() => undefined);
    this.#locks.set(id, tail);
    void tail.then(() => {
      if (this.#locks.get(id) === tail) this.#locks.delete(id);
    });
    return next;
  }

  /**
   * Removes the key's record (with its index and derived entries) if it
   * still has `record`'s versions; false when it changed or is gone. Local
   * only (reclaiming a slot this peer gave up): no peer can ask for it.
   */
  dropIfUnchanged(key: Uint8Array, slot: number, record: ReplicaRecord): Promise<boolean> {
    const hash = versionHash(record);
    return this.#removeIf(key, slot, (local) => equalBytes(versionHash(local), hash));
  }

  /** Removes the key's record (with its index and derived entries) when `remove` says so of it. */
  #removeIf(key: Uint8Array, slot: number, remove: (local: ReplicaRecord) => boolean): Promise<boolean> {
    const { store } = this.#options;
    return this.#withKey(key, async () => {
      const local = await store.getRecord(key);
      if (!local || !remove(local)) return false;
      await store.deleteRecord(key, slot, local);
      return true;
    });
  }

  /** Handles one request frame from a peer; always resolves with a reply frame. */
  async handleFrame(bytes: Uint8Array, _from: string): Promise<Uint8Array> {
    const { clock } = this.#options;
    let ops: readonly ReplicaOp[];
    try {
      const frame = decodeRequest(bytes);
      clock.receive(frame.clock);
      ops = frame.ops;
    } catch (error) {
      const code = error instanceof TesseraError ? error.code : new BadFrameError('').code;
      return encodeErrorReply(clock.value, code, error instanceof Error ? error.message : 'bad frame');
    }
    const results = await this.executeMany(ops);
    try {
      return encodeReply(clock.tick(), results);
    } catch (error) {
      // A reply that outgrew a frame (many large records read at once): refused whole, with a reason,
      // instead of leaving the requester to time out.
      const code = error instanceof TesseraError ? error.code : 'ERR_INTERNAL';
      return encodeErrorReply(clock.value, code, error instanceof Error ? error.message : 'reply too large');
    }
  }

  /**
   * Executes a frame's ops together: they start in the same turn, so the
   * store gathers their writes into one durable batch (see
   * `ReplicaStore.putRecord`) and they are answered together.
   */
  executeMany(ops: readonly ReplicaOp[]): Promise<OpResult[]> {
    const budget: RecordsBudget = { bytesLeft: recordsFrameBytesMax, given: 0 };
    // `records` ops share the frame's byte budget in op order (execute never rejects).
    let records: Promise<unknown> = Promise.resolve();
    return Promise.all(
      ops.map((op) => {
        if (op.op !== 'records') return this.execute(op, undefined, budget);
        const result = records.then(() => this.execute(op, undefined, budget));
        records = result;
        return result;
      }),
    );
  }

  /**
   * Executes one op; operating errors become `{ ok: false }` results, never rejections.
   * @param onMinted For a `mint`: called with the new record before it is
   * durable, so the local coordinator can send it to the other owners while
   * this replica's write is in flight (the op still resolves only once durable).
   */
  async execute(
    op: ReplicaOp,
    onMinted?: (record: ReplicaRecord) => void,
    budget: RecordsBudget = { bytesLeft: recordsFrameBytesMax, given: 0 },
  ): Promise<OpResult> {
    try {
      return await this.#execute(op, onMinted, budget);
    } catch (error) {
      if (error instanceof TesseraError) return { ok: false, code: error.code, message: error.message };
      return {
        ok: false,
        code: 'ERR_INTERNAL',
        message: error instanceof Error ? error.message : String(error),
      };
    }
  }

  async #execute(
    op: ReplicaOp,
    onMinted: ((record: ReplicaRecord) => void) | undefined,
    budget: RecordsBudget,
  ): Promise<OpResult> {
    const { store, clock } = this.#options;
    switch (op.op) {
      case 'mint':
        return this.#withKey(op.key, async () => {
          if (op.idempotencyKey !== null) {
            const seen = await store.getIdempotent(op.key, op.idempotencyKey, this.#options.now());
            if (seen) {
              if (!equalBytes(seen.contentHash, contentHash(op.deleted, op.value))) {
                return { ok: false, code: 'ERR_IDEMPOTENCY_KEY_CONFLICT', message: op.idempotencyKey };
              }
              return { ok: true, duplicate: seen };
            }
          }
          const local = (await store.getRecord(op.key)) ?? [];
          // Past every stamp and counter the new version may supersede, so it outranks them and its
          // dot is fresh even if this replica lost the key's history (reaped or wiped).
          const stampClock = clock.receive(
            Math.max(maxClock(local), op.context ? maxCounter(op.context) : 0),
          );
          const { record } = mint(local, {
            actor: this.#options.actor,
            clock: stampClock,
            payload: {
              bytes: op.deleted ? null : (op.value ?? new Uint8Array(0)),
              mintedMs: this.#options.now(),
            },
            ...(op.context ? { context: op.context } : {}),
          });
          // putRecord checks the record synchronously, before it queues the write, so a merge of concurrent
          // siblings that outgrew the store throws here, before the record leaves through onMinted.
          const durable = store.putRecord(op.key, op.slot, record, local.length > 0 ? local : undefined);
          onMinted?.(record);
          await durable;
          return { ok: true, record };
        });
      case 'apply':
        return this.#withKey(op.key, async () => {
          clock.receive(maxClock(op.record));
          const local = await store.getRecord(op.key);
          const merged = merge(local, op.record)!;
          if (!local || !equalBytes(versionHash(local), versionHash(merged)))
            await store.putRecord(op.key, op.slot, merged, local);
          return { ok: true };
        });
      case 'read':
        return { ok: true, record: (await store.getRecord(op.key)) ?? null };
      case 'remember':
        await store.putIdempotent(
          op.key,
          op.idempotencyKey,
          op.result,
          this.#options.now() + this.#options.idempotencyTtlMs,
        );
        return { ok: true };
      case 'digests': {
        const digests = await store.slotDigests(new Set(op.slots));
        return { ok: true, digests: op.slots.map((slot) => digests.get(slot)!.byMinN[op.minN - 1]!.digest) };
      }
      case 'children': {
        const children: (readonly [Uint8Array, number])[] = [];
        for (const parent of op.parents) {
          for (const child of await store.childDigests(op.slot, op.minN, op.level, parent)) {
            children.push([child.digest, child.count]);
          }
        }
        return { ok: true, children };
      }
      case 'entries': {
        const page = await store.bucketEntries(op.slot, op.minN, op.level, op.bucket, op.after, op.limit + 1);
        const entries = page.slice(0, op.limit).map((entry) => [entry.key, entry.versionHash] as const);
        return { ok: true, entries, more: page.length > op.limit };
      }
      case 'records': {
        const page = await store.recordsPage(op.slot, op.minN ?? 1, op.after, op.limit, budget);
        return { ok: true, records: page.records, more: page.more };
      }
      case 'scan': {
        const page = await store.scanPage(
          op,
          this.#options.slotOf ?? (() => 0),
          scanPageBytesMax,
          scanExaminedPerPageMax,
        );
        return { ok: true, scanned: page.entries, next: page.next };
      }
      case 'reap': {
        const reaped = await this.#removeIf(
          op.key,
          op.slot,
          (local) => isTombstoneOnly(local) && equalBytes(versionHash(local), op.versionHash),
        );
        return { ok: true, reaped };
      }
    }
  }
}
