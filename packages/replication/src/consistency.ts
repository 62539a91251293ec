/**
 * Per-operation consistency: how many owners must acknowledge a write (W)
 * or answer a read (R), out of the database's replication factor N.
 */
import { InvalidArgumentError } from '@tessera/core';

/** `quorum` is floor(N/2)+1; `{ w }` / `{ r }` are explicit counts (1 ≤ count ≤ N). */
export type Consistency = 'one' | 'quorum' | 'all' | { readonly w: number } | { readonly r: number };

/** Per-database replication settings (kept in D records once those land). */
export interface DatabaseReplication {
  /** N: how many owners hold each key (the first N of the slot's owners). */
  readonly replicationFactor: number;
  /** Used when an operation names no consistency. */
  readonly consistency: Consistency;
}

/** Bounds on N (pairDB accepts 1–10). */
export const replicationFactorMax = 10;

/** Checks a replication setting; throws `InvalidArgumentError` when it is out of range. */
export function checkDatabaseReplication(settings: DatabaseReplication): void {
  const n = settings.replicationFactor;
  if (!Number.isInteger(n) || n < 1 || n > replicationFactorMax) {
    throw new InvalidArgumentError(
      `replicationFactor must be an integer in 1..${replicationFactorMax}, got ${n}`,
    );
  }
}

/**
 * The number of owners an operation needs.
 * @param kind 'write' accepts `{ w }`, 'read' accepts `{ r }`.
 */
export function requiredCount(consistency: Consistency, n: number, kind: 'write' | 'read'): number {
  if (consistency === 'one') return 1;
  if (consistency === 'quorum') return Math.floor(n / 2) + 1;
  if (consistency === 'all') return n;
  if (typeof consistency === 'object' && consistency !== null) {
    const count = kind === 'write' ? (consistency as { w?: unknown }).w : (consistency as { r?: unknown }).r;
    if (typeof count === 'number' && Number.isInteger(count) && count >= 1 && count <= n) return count;
    const field = kind === 'write' ? 'w' : 'r';
    throw new InvalidArgumentError(
      `a ${kind} needs consistency { ${field}: 1..${n} }, got ${JSON.stringify(consistency)}`,
    );
  }
  throw new InvalidArgumentError(`unknown consistency ${JSON.stringify(consistency)}`);
}
