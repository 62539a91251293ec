/**
 * Tombstone reaping: a record that is all tombstones, older than
 * `tombstoneGraceMs`, is removed only after every owner of its key answered
 * with the very same version; then each owner removes it if it still holds
 * exactly that version. An unreachable owner means no reap this pass.
 */
import { equalBytes } from './bytes.ts';
import type { ReplicatorContext } from './context.ts';
import { isTombstoneOnly, versionHash } from './record.ts';

/** What one reaper pass did. */
export interface ReapReport {
  /** Tombstones old enough to consider. */
  readonly candidates: number;
  /** Tombstones removed from every owner that answered. */
  readonly reaped: number;
}

export async function reapTombstones(context: ReplicatorContext): Promise<ReapReport> {
  const now = context.now();
  const candidates = [];
  for await (const entry of context.replicaStore.allEntries()) {
    if (entry.tombstoneMs !== null && now - entry.tombstoneMs >= context.limits.tombstoneGraceMs)
      candidates.push(entry);
  }
  let reaped = 0;
  const repair = { timeoutMs: context.limits.repairTimeoutMs };
  for (const entry of candidates) {
    const owners = context.ownersOfKey(entry.key, entry.slot);
    // An owner the membership view has down cannot confirm: skip without waiting for its timeout.
    if (!owners.includes(context.selfId) || !owners.every((peer) => context.placement.isUp(peer))) continue;
    const replies = await Promise.all(
      owners.map(async (peer) => {
        try {
          const [result] = await context.caller.call(peer, [{ op: 'read', key: entry.key }], repair);
          return result?.ok && 'record' in result ? (result.record ?? undefined) : undefined;
        } catch {
          return undefined;
        }
      }),
    );
    const everyOwnerHasIt = replies.every(
      (record) => record && isTombstoneOnly(record) && equalBytes(versionHash(record), entry.versionHash),
    );
    if (!everyOwnerHasIt) continue;
    const op = { op: 'reap' as const, key: entry.key, slot: entry.slot, versionHash: entry.versionHash };
    // Others first, self last: while any owner may still hold it, this replica keeps it too, so a
    // later pass (or anti-entropy) can finish the job.
    const others = owners.filter((peer) => peer !== context.selfId);
    const results = await Promise.allSettled(others.map((peer) => context.caller.call(peer, [op], repair)));
    const othersReaped = results.every(
      (settled) => settled.status === 'fulfilled' && settled.value[0]?.ok && 'reaped' in settled.value[0],
    );
    if (!othersReaped) continue;
    const [own] = await context.caller.call(context.selfId, [op], repair);
    if (own?.ok && 'reaped' in own && own.reaped) reaped += 1;
  }
  return { candidates: candidates.length, reaped };
}
