/**
 * The coordinator log as the dashboard holds it: the newest `messagesMax`
 * messages in total order (Lamport clock, then origin id), each once.
 * Catch-up delivers old messages late, so inserts go to their sorted place.
 */
import type { CoordinatorMessage } from '@tessera/coordinator';
import { compareStamps } from '@tessera/core';

/** Messages kept for the log view. */
export const LOG_MESSAGES_MAX = 2000;

const compare = (a: CoordinatorMessage, b: CoordinatorMessage): number =>
  compareStamps({ clock: a.clock, node: a.from }, { clock: b.clock, node: b.from });

export class MessageLog {
  readonly #messagesMax: number;
  #messages: CoordinatorMessage[] = [];
  #version = 0;

  constructor(messagesMax = LOG_MESSAGES_MAX) {
    this.#messagesMax = messagesMax;
  }

  /** Adds a message; returns false when it was already held or is older than everything kept in a full log. */
  add(message: CoordinatorMessage): boolean {
    const list = this.#messages;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(list[mid] as CoordinatorMessage, message) < 0) lo = mid + 1;
      else hi = mid;
    }
    const at = list[lo];
    if (at !== undefined && compare(at, message) === 0) return false;
    if (lo === 0 && list.length >= this.#messagesMax) return false;
    list.splice(lo, 0, message);
    if (list.length > this.#messagesMax) list.splice(0, list.length - this.#messagesMax);
    this.#version += 1;
    return true;
  }

  /** Bumped on every change, so views know when to copy. */
  get version(): number {
    return this.#version;
  }

  /** The kept messages, oldest first. */
  get messages(): readonly CoordinatorMessage[] {
    return this.#messages;
  }
}
