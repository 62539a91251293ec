/**
 * Waiting for peer processes to go idle before measuring: a fresh cluster
 * copies slots and runs anti-entropy over every slot, and a bulk load leaves
 * repairs running for seconds after it; measuring then charges that one-off
 * work to whatever runs next.
 */
import { type PeerProcess, waitFor } from '@tessera/peer/testing';

/** A peer using less than this fraction of a core is idle (heartbeats and gossip only). */
export const quietCpuFraction = 0.1;

/** Resolves once every process used under `quietCpuFraction` of a core over the same one-second window. */
export async function waitForQuietPeers(
  processes: readonly PeerProcess[],
  what: string,
  timeoutMs = 120_000,
): Promise<void> {
  await waitFor(
    async () => {
      const busy = await Promise.all(
        processes.map((child) => child.call<number>({ cmd: 'cpuBusy', ms: 1000 })),
      );
      return busy.every((fraction) => fraction < quietCpuFraction);
    },
    { what, timeoutMs },
  );
}
