/**
 * Pulling whole slots: every record of slots a replica holds none of, as
 * `records` pages from one peer, merged into the replica. Anti-entropy uses
 * it for a wiped replica's slots, a new owner's slot copy (@tessera/peer)
 * for the slots it gains; each brings its own way to ask the peer and to
 * merge.
 */
import { BadFrameError } from './errors.ts';
import type { ApplyOp, RecordsOp } from './frames.ts';
import { recordFromStored, recordsPageAdvances } from './replica-store.ts';

/** A slot to pull: its keys whose database's N is at least `minN`. */
export interface WholeSlot {
  readonly slot: number;
  readonly minN: number;
}

/** One `records` page, shape-checked: keys with their records' stored bytes. */
export interface RecordsPage {
  readonly records: ReadonlyArray<readonly [Uint8Array, Uint8Array]>;
  readonly more: boolean;
}

/** How a pull asks its peer and merges what came back. */
export interface SlotPullIo {
  /** Sends one frame of `records` ops to the peer; resolves with one shape-checked page per op. */
  fetch(ops: readonly RecordsOp[]): Promise<readonly RecordsPage[]>;
  /** Merges one frame's records into this replica (rejects when any of them failed). */
  apply(ops: readonly ApplyOp[]): Promise<void>;
}

/**
 * Pulls every record of `slots`, one `records` op per slot still open in
 * each frame (at most `limit` records per op), and merges each frame's
 * records before asking for more; resolves with the records merged.
 * Records arrive as the peer stores them and are checked whole
 * (`recordFromStored`): a bad record, a page that does not advance in
 * slot-index order, or "more" with no record at all in the frame fails the
 * pull with `BadFrameError` before anything of that frame is merged.
 */
export async function pullSlotsWhole(
  slots: readonly WholeSlot[],
  limit: number,
  io: SlotPullIo,
): Promise<number> {
  let merged = 0;
  let open = slots.map(({ slot, minN }) => ({ slot, minN, after: null as Uint8Array | null }));
  while (open.length > 0) {
    const pages = await io.fetch(
      open.map(({ slot, minN, after }) => ({ op: 'records', slot, minN, after, limit })),
    );
    if (pages.length !== open.length)
      throw new BadFrameError(`records: ${pages.length} pages for ${open.length} ops`);
    const applies: ApplyOp[] = [];
    const next: typeof open = [];
    for (const [i, page] of open.entries()) {
      const { records, more } = pages[i]!;
      if (
        !recordsPageAdvances(
          page.slot,
          page.after,
          records.map(([key]) => key),
        )
      )
        throw new BadFrameError('records: a page out of order');
      for (const [n, [key, bytes]] of records.entries()) {
        let record: ApplyOp['record'];
        try {
          record = recordFromStored(bytes);
        } catch (error) {
          throw new BadFrameError(`records[${n}]: ${error instanceof Error ? error.message : String(error)}`);
        }
        applies.push({ op: 'apply', key, slot: page.slot, record });
      }
      // A page cut short by the frame's byte budget may be empty: ask again from the same key.
      if (more) next.push({ ...page, after: records.at(-1)?.[0] ?? page.after });
    }
    // A peer always returns a frame's first record: "more" with nothing at all would ask the same forever.
    if (applies.length === 0 && next.length > 0) throw new BadFrameError('records: more, but no records');
    if (applies.length > 0) await io.apply(applies);
    merged += applies.length;
    open = next;
  }
  return merged;
}
