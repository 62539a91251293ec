/**
 * Lamport clock: tick before sending, `max(local, remote) + 1` on receive,
 * and a total order over stamps (clock, then node id). Clocks are plain
 * non-negative safe integers that never wrap; a received clock too far ahead
 * is refused so one bad message cannot burn the clock space. See
 * docs/spec/clocks.md.
 */
import { ClockJumpError, InvalidClockError, LimitExceededError } from './errors.ts';

/** Highest clock value: past this a JS number stops being an exact integer. */
export const CLOCK_MAX = Number.MAX_SAFE_INTEGER;

/**
 * Default `clockJumpMax` (2^32): far above any honest lag (a peer would have
 * to miss four billion events) yet only 2^-21 of the clock space, so even
 * accepted jumps need two million messages to exhaust it.
 */
export const CLOCK_JUMP_MAX_DEFAULT = 2 ** 32;

/** A Lamport timestamp: the sender's clock and its node id. Plain data; CBOR-encodes as a map. */
export interface LamportStamp {
  clock: number;
  node: string;
}

/** Options for {@link LamportClock}. */
export interface LamportClockOptions {
  /** Refuse a received clock more than this far ahead of the local one. */
  clockJumpMax?: number;
}

/** True when `n` is a valid clock value: an integer in 0..CLOCK_MAX. */
export function isClock(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function checkClock(what: string, n: unknown): asserts n is number {
  if (!isClock(n))
    throw new InvalidClockError(`${what} must be an integer in 0..${CLOCK_MAX}, got ${String(n)}`);
}

/** A node's Lamport clock. Not shared between nodes; one instance per node (or per clock domain). */
export class LamportClock {
  #value: number;
  /** A received clock more than this far ahead of the local one is refused with ClockJumpError. */
  readonly clockJumpMax: number;

  constructor(initial = 0, options: LamportClockOptions = {}) {
    checkClock('initial clock', initial);
    const jump = options.clockJumpMax ?? CLOCK_JUMP_MAX_DEFAULT;
    if (!Number.isSafeInteger(jump) || jump < 1) {
      throw new InvalidClockError(`clockJumpMax must be a positive safe integer, got ${String(jump)}`);
    }
    this.#value = initial;
    this.clockJumpMax = jump;
  }

  /** The current clock (the last value issued or observed). */
  get value(): number {
    return this.#value;
  }

  /** Advance for a local event or a send; returns the new clock to stamp the message with. */
  tick(): number {
    if (this.#value >= CLOCK_MAX) throw new LimitExceededError('clockMax', CLOCK_MAX, this.#value + 1);
    this.#value += 1;
    return this.#value;
  }

  /** Tick and return a stamp `{ clock, node }` for an outgoing message. */
  stamp(node: string): LamportStamp {
    return { clock: this.tick(), node };
  }

  /**
   * Merge a received clock: the clock becomes `max(local, remote) + 1` and is
   * returned. Throws, leaving the clock unchanged, when `remote` is not a
   * clock value (InvalidClockError), is more than `clockJumpMax` ahead
   * (ClockJumpError), or would push past CLOCK_MAX (LimitExceededError).
   */
  receive(remote: number): number {
    checkClock('remote clock', remote);
    const local = this.#value;
    if (remote > local && remote - local > this.clockJumpMax)
      throw new ClockJumpError(local, remote, this.clockJumpMax);
    const next = Math.max(local, remote);
    if (next >= CLOCK_MAX) throw new LimitExceededError('clockMax', CLOCK_MAX, next + 1);
    this.#value = next + 1;
    return this.#value;
  }
}

/**
 * Order node ids by their UTF-8 bytes. JS `<` compares UTF-16 code units,
 * which disagrees with UTF-8 order when a surrogate meets U+E000..U+FFFF;
 * shifting surrogates above that block gives code-point (= UTF-8 byte) order.
 */
export function compareNodeIds(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x += x >= 0xe000 ? -0x800 : 0x2000;
      y += y >= 0xe000 ? -0x800 : 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** Total order over stamps: by clock, then by node id (UTF-8 bytewise). */
export function compareStamps(a: LamportStamp, b: LamportStamp): -1 | 0 | 1 {
  if (a.clock !== b.clock) return a.clock < b.clock ? -1 : 1;
  return compareNodeIds(a.node, b.node);
}

/** True when `s` is a well-formed stamp (check data from a peer before using it). */
export function isLamportStamp(s: unknown): s is LamportStamp {
  if (typeof s !== 'object' || s === null) return false;
  const { clock, node } = s as { clock?: unknown; node?: unknown };
  return isClock(clock) && typeof node === 'string' && node.length > 0;
}
