/**
 * SCAN cursors. Redis clients treat a cursor as an unsigned 64-bit decimal
 * (redis-cli parses it with strtoull), but a resume position in an ordered
 * store is a whole key. So the server keeps a bounded table from small
 * numeric cursors to positions; the oldest entries are dropped first, and a
 * dropped or made-up cursor gets `ERR invalid cursor` rather than a silent
 * restart.
 */
import { randomInt } from 'node:crypto';

export class ScanCursors {
  readonly cursorsMax: number;
  readonly #positions = new Map<string, { db: number; after: Uint8Array }>();
  #next: number;

  constructor(cursorsMax: number) {
    this.cursorsMax = cursorsMax;
    // A random start makes cursors from an earlier server run unlikely to collide.
    this.#next = randomInt(1, 2 ** 40);
  }

  save(db: number, after: Uint8Array): string {
    const cursor = String(this.#next++);
    this.#positions.set(cursor, { db, after });
    if (this.#positions.size > this.cursorsMax) {
      const oldest = this.#positions.keys().next().value;
      if (oldest !== undefined) this.#positions.delete(oldest);
    }
    return cursor;
  }

  load(db: number, cursor: string): Uint8Array | undefined {
    const position = this.#positions.get(cursor);
    return position?.db === db ? position.after : undefined;
  }
}
