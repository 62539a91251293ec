/**
 * A small history checker for replication runs. Clients log each operation
 * as it starts and ends; `check` then verifies, against the healed state:
 * - every acknowledged write is present: the final winner of its key is that
 *   write or one ordered after it (higher stamp);
 * - no read (and no final state) shows a value that was never written;
 * - read-your-writes (when R+W>N): a read that starts after the same
 *   client's acknowledged write sees that write or a later one.
 * Values must be unique per write so a value names its write.
 */
import { compareStamps } from '@tessera/core';
import type { ReadResult, Version } from '../replicator.ts';

const decoder = new TextDecoder();

interface WriteEntry {
  readonly client: string;
  readonly key: string;
  readonly value: string | null;
  readonly start: number;
  end?: number;
  version?: Version;
  acknowledged?: boolean;
}

interface ReadEntry {
  readonly client: string;
  readonly key: string;
  readonly start: number;
  end?: number;
  result?: ReadResult;
}

function show(version: Version | undefined): string {
  return version ? `${version.clock}@${version.node}` : 'none';
}

export class History {
  readonly #writes: WriteEntry[] = [];
  readonly #reads: ReadEntry[] = [];
  #time = 0;

  /** Logs a write (value null for a delete) as started; call the returned function with its outcome. */
  write(client: string, key: string, value: string | null): (outcome: Version | Error) => void {
    const entry: WriteEntry = { client, key, value, start: ++this.#time };
    this.#writes.push(entry);
    return (outcome) => {
      entry.end = ++this.#time;
      entry.acknowledged = !(outcome instanceof Error);
      if (!(outcome instanceof Error)) entry.version = outcome;
    };
  }

  /** Logs a read as started; call the returned function with its result (or error). */
  read(client: string, key: string): (result: ReadResult | Error) => void {
    const entry: ReadEntry = { client, key, start: ++this.#time };
    this.#reads.push(entry);
    return (result) => {
      entry.end = ++this.#time;
      if (!(result instanceof Error)) entry.result = result;
    };
  }

  get acknowledgedWrites(): number {
    return this.#writes.filter((w) => w.acknowledged).length;
  }

  get completedReads(): number {
    return this.#reads.filter((r) => r.result).length;
  }

  #written(key: string): Set<string> {
    return new Set(this.#writes.filter((w) => w.key === key && w.value !== null).map((w) => w.value!));
  }

  #phantoms(where: string, key: string, result: ReadResult, violations: string[]) {
    const written = this.#written(key);
    const values = [result.found ? result.value : undefined, ...result.siblings.map((s) => s.value)];
    for (const value of values) {
      if (value === undefined) continue;
      const text = decoder.decode(value);
      if (!written.has(text))
        violations.push(`${where}: key ${key} shows ${JSON.stringify(text)}, never written`);
    }
  }

  /**
   * Checks the history against `final` (each key's state read after healing).
   * Returns violations, empty when the run is correct.
   */
  check(final: ReadonlyMap<string, ReadResult>, options: { readYourWrites: boolean }): string[] {
    const violations: string[] = [];
    const keys = new Set(this.#writes.map((w) => w.key));
    for (const key of keys) {
      const state = final.get(key);
      if (!state) {
        violations.push(`final state of key ${key} missing`);
        continue;
      }
      this.#phantoms('final', key, state, violations);
      const acked = this.#writes.filter((w) => w.key === key && w.acknowledged);
      for (const write of acked) {
        if (!state.version || compareStamps(state.version, write.version!) < 0) {
          violations.push(
            `key ${key}: acknowledged write ${JSON.stringify(write.value)} (${show(write.version)}) lost; final is ${show(state.version)}`,
          );
        } else if (compareStamps(state.version, write.version!) === 0) {
          const finalValue = state.found ? decoder.decode(state.value!) : null;
          if (finalValue !== write.value) {
            violations.push(
              `key ${key}: final version ${show(state.version)} holds ${finalValue}, not ${write.value}`,
            );
          }
        }
      }
    }
    for (const read of this.#reads) {
      if (!read.result) continue;
      this.#phantoms(`read by ${read.client}`, read.key, read.result, violations);
      if (!options.readYourWrites) continue;
      const own = this.#writes.filter(
        (w) => w.client === read.client && w.key === read.key && w.acknowledged && w.end! < read.start,
      );
      for (const write of own) {
        if (!read.result.version || compareStamps(read.result.version, write.version!) < 0) {
          violations.push(
            `read-your-writes: ${read.client} read ${read.key} at ${show(read.result.version)} after its write at ${show(write.version)}`,
          );
        }
      }
    }
    return violations;
  }
}
