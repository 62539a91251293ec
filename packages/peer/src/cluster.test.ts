import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoordinatorTiming } from '@tessera/coordinator';
import { openMemoryStore } from '@tessera/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { createPeer, type Peer } from './index.ts';
import { type PeerProcess, type PeerProcessEvent, spawnPeerProcess } from './testing/peer-process-control.ts';
import { waitFor } from './testing/wait.ts';

// Short, so failure detection happens within a test; generous enough for a
// loaded 2-core machine not to flap.
const timing: Partial<CoordinatorTiming> = {
  statePeriodMs: 200,
  suspectAfterMs: 1500,
  downAfterMs: 3000,
  syncPeriodMs: 1000,
  syncIntervalMinMs: 200,
  requestTimeoutMs: 3000,
};

interface View {
  members: { id: string; status: string; liveness: string; incarnation: number }[];
  log: { clock: number; from: string; payload: unknown }[];
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function inProcessPeer(bootstrap: string[]): Promise<Peer> {
  const storage = await openMemoryStore();
  const peer = await createPeer({
    storage,
    cluster: 'three',
    bootstrap,
    timing,
    bootstrapRetry: { delayMsMin: 100, delayMsMax: 1000 },
    memberDialing: { intervalMs: 500 },
  });
  cleanups.push(async () => {
    await peer.stop();
    await storage.close();
  });
  return peer;
}

async function viewOf(peer: Peer): Promise<View> {
  const log: View['log'] = [];
  // Slot-map messages (every peer runs the slot map) are not part of what this test compares.
  for await (const m of peer.messages())
    if (m.messageType !== 'slotmap') log.push({ clock: m.clock, from: m.from, payload: m.payload });
  const members = peer
    .members()
    .map((m) => ({ id: m.id, status: m.status, liveness: m.liveness, incarnation: m.incarnation }));
  return { members, log };
}

async function viewOfProcess(child: PeerProcess): Promise<View> {
  const seen = child.events.length;
  child.send({ cmd: 'state' });
  const event = await waitFor(
    () => child.events.slice(seen).find((e: PeerProcessEvent) => e.event === 'state'),
    {
      timeoutMs: 10_000,
      what: 'a state report',
    },
  );
  return event as unknown as View;
}

const member = (view: View, id: string) => view.members.find((m) => m.id === id);

describe('three Node peers over TCP on loopback, one in a child process', () => {
  it('agree on membership and message order, mark a SIGKILLed peer down, and take it back under its old id', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tessera-peer-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const a = await inProcessPeer([]);
    const seed = a.multiaddrs.find((address) => !address.includes('/ws'));
    if (seed === undefined) throw new Error('no TCP address');
    const b = await inProcessPeer([seed]);
    let c = await spawnPeerProcess({ cluster: 'three', bootstrap: [seed], dataDir, timing });
    cleanups.push(() => c.kill());
    const cId = c.id;
    const ids = [a.id, b.id, cId].sort();

    const allUp = (view: View) =>
      ids.every((id) => member(view, id)?.status === 'up' && member(view, id)?.liveness === 'alive');
    await waitFor(
      async () => allUp(await viewOf(a)) && allUp(await viewOf(b)) && allUp(await viewOfProcess(c)),
      {
        what: 'all three to see all three up',
      },
    );

    await a.publish({ messageType: 'test', eventType: 'created', payload: 'a1' });
    await b.publish({ messageType: 'test', eventType: 'created', payload: 'b1' });
    c.send({ cmd: 'publish', payload: 'c1' });
    await a.publish({ messageType: 'test', eventType: 'created', payload: 'a2' });
    c.send({ cmd: 'publish', payload: 'c2' });
    await b.publish({ messageType: 'test', eventType: 'created', payload: 'b2' });

    const sameLog = async (count: number) => {
      const views = [await viewOf(a), await viewOf(b), await viewOfProcess(c)];
      const logs = views.map((view) => JSON.stringify(view.log));
      return views[0]?.log.length === count && logs.every((log) => log === logs[0])
        ? views[0].log
        : undefined;
    };
    const log = await waitFor(() => sameLog(6), { what: 'the same six-message log everywhere' });
    expect(log.map((m) => m.payload).sort()).toEqual(['a1', 'a2', 'b1', 'b2', 'c1', 'c2']);
    // Total order: (clock, origin id), strictly increasing.
    for (let i = 1; i < log.length; i++) {
      const [prev, next] = [log[i - 1], log[i]] as [View['log'][number], View['log'][number]];
      expect(prev.clock < next.clock || (prev.clock === next.clock && prev.from < next.from)).toBe(true);
    }
    const incarnationBefore = member(await viewOf(a), cId)?.incarnation ?? -1;

    await c.kill();
    await waitFor(
      async () =>
        member(await viewOf(a), cId)?.liveness === 'down' &&
        member(await viewOf(b), cId)?.liveness === 'down',
      { what: 'a and b to mark the killed peer down' },
    );
    expect(member(await viewOf(a), cId)?.status).toBe('down');
    await a.publish({ messageType: 'test', eventType: 'created', payload: 'a3 while c is down' });

    c = await spawnPeerProcess({ cluster: 'three', bootstrap: [seed], dataDir, timing });
    expect(c.id).toBe(cId);
    await waitFor(
      async () => {
        const [va, vb] = [await viewOf(a), await viewOf(b)];
        return [va, vb].every(
          (view) =>
            member(view, cId)?.status === 'up' &&
            member(view, cId)?.liveness === 'alive' &&
            (member(view, cId)?.incarnation ?? -1) > incarnationBefore,
        );
      },
      { what: 'the restarted peer to be up again with a new incarnation' },
    );
    c.send({ cmd: 'publish', payload: 'c3 after restart' });
    const finalLog = await waitFor(() => sameLog(8), { what: 'the same eight-message log everywhere' });
    expect(finalLog.map((m) => m.payload)).toContain('a3 while c is down');
    expect(finalLog.map((m) => m.payload)).toContain('c3 after restart');
  });
});
