/**
 * Framing of the replication transport: a stream carries many requests and
 * their replies, each one length-prefixed frame (`lpStream`, unsigned varint
 * length) holding a 4-byte big-endian request id and then replication's
 * frame as is. Replies carry their request's id and may come in any order.
 * Frames queued in the same tick go out in one write (`writeV`), which also
 * waits for the stream to drain (backpressure).
 */
import type { Stream } from '@libp2p/interface';
import type { lpStream } from '@libp2p/utils';
import { MalformedFrameError } from './errors.ts';

/** Bytes of the request id in front of every frame. */
export const REQUEST_ID_BYTES = 4;
/** Most frames written in one `writeV`. */
export const FRAMES_PER_WRITE_MAX = 256;

export type LpStream = ReturnType<typeof lpStream<Stream>>;

/** Prepends the request id. */
export function withRequestId(id: number, frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(REQUEST_ID_BYTES + frame.byteLength);
  new DataView(out.buffer).setUint32(0, id);
  out.set(frame, REQUEST_ID_BYTES);
  return out;
}

/** Splits a received frame into its request id and payload; throws `MalformedFrameError` when too short. */
export function splitRequestId(frame: Uint8Array): { id: number; payload: Uint8Array } {
  if (frame.byteLength < REQUEST_ID_BYTES) {
    throw new MalformedFrameError(`replication frame of ${frame.byteLength} bytes has no request id`);
  }
  const id = new DataView(frame.buffer, frame.byteOffset, REQUEST_ID_BYTES).getUint32(0);
  return { id, payload: frame.subarray(REQUEST_ID_BYTES) };
}

/** Writes frames in batches, one write at a time; a failed write calls `onError` once and drops the rest. */
export class FrameWriter {
  readonly #lp: LpStream;
  readonly #onError: (err: unknown) => void;
  readonly #framesQueuedMax: number;
  #queue: Uint8Array[] = [];
  #scheduled = false;
  #failed = false;

  constructor(lp: LpStream, framesQueuedMax: number, onError: (err: unknown) => void) {
    this.#lp = lp;
    this.#framesQueuedMax = framesQueuedMax;
    this.#onError = onError;
  }

  /** Frames waiting to be written. */
  get queued(): number {
    return this.#queue.length;
  }

  push(frame: Uint8Array): void {
    if (this.#failed) return;
    if (this.#queue.length >= this.#framesQueuedMax) {
      this.#fail(new MalformedFrameError(`more than ${this.#framesQueuedMax} frames wait to be written`));
      return;
    }
    this.#queue.push(frame);
    if (!this.#scheduled) {
      this.#scheduled = true;
      // Later frames of the same tick join this write.
      queueMicrotask(() => void this.#flush());
    }
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#failed) {
        const batch = this.#queue.splice(0, FRAMES_PER_WRITE_MAX);
        await this.#lp.writeV(batch);
      }
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#scheduled = false;
    }
  }

  #fail(err: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#queue = [];
    this.#onError(err);
  }
}
