/**
 * `tessera join`: `tessera start` that also waits, printing progress, until
 * a committed slot map takes the new peer in (an owner: the map names it,
 * which happens only after it copied the slots it gains; a client: any
 * committed map). The peer then runs on like `start`.
 */
import type { Peer } from '@tessera/peer';
import { bar } from './progress.ts';

/** How long `tessera join` waits for the map before it says so and runs on as a plain `start`. */
export const JOIN_WAIT_MS_DEFAULT = 300_000;
/** Poll period of the map and the members' jobs. */
const POLL_MS = 500;
/** Jobs last updated this long before the join began still show (other peers' clocks differ). */
const jobClockSkewMs = 5000;

/** What the join reports: one line of text each, or with `json` one JSON object each. */
export type JoinEvent =
  | { event: 'joining'; epoch: number; members: number; slotsOwned: number }
  | { event: 'job'; peer: string; id: string; kind: string; status: string; done: number; total: number }
  | { event: 'joined'; epoch: number; slotsOwned: number; owners: number }
  | { event: 'join-timeout'; waitMs: number; epoch: number };

function text(e: JoinEvent): string {
  switch (e.event) {
    case 'joining':
      return `joining: epoch ${e.epoch}, ${e.members} members seen, this peer owns ${e.slotsOwned} slots`;
    case 'job':
      return `  ${e.kind} on ${e.peer.slice(-8)} ${e.id.split('/').at(-1)} ${e.status} ${bar(e.done, e.total)}`;
    case 'joined':
      return `joined: epoch ${e.epoch}, this peer owns ${e.slotsOwned} slots, the map names ${e.owners} owners`;
    case 'join-timeout':
      return `WARNING: no map took this peer in within ${e.waitMs} ms (epoch ${e.epoch}); it runs on and the slot map keeps trying`;
  }
}

/** Waits until the map takes `peer` in (true) or `waitMs` passes or `signal` aborts (false), writing progress. */
export async function followJoin(
  peer: Peer,
  write: (line: string) => void,
  options: { json: boolean; waitMs: number; signal: AbortSignal },
): Promise<boolean> {
  const startedMs = Date.now();
  const say = (e: JoinEvent) => write(`${options.json ? JSON.stringify(e) : text(e)}\n`);
  const shown = new Map<string, string>();
  let lastLine = '';
  for (;;) {
    const map = peer.slotMap.map;
    const owners = new Set<string>();
    let slotsOwned = 0;
    for (const r of map.ranges) {
      for (const o of r.owners) owners.add(o);
      if (r.owners.includes(peer.id)) slotsOwned += r.end - r.start + 1;
    }
    const members = peer.members();
    for (const m of members) {
      for (const j of m.state.jobs ?? []) {
        if ((j.kind !== 'slotmap' && j.kind !== 'slotcopy') || j.updatedMs < startedMs - jobClockSkewMs)
          continue;
        const e: JoinEvent = {
          event: 'job',
          peer: m.id,
          id: j.id,
          kind: j.kind,
          status: j.status,
          done: j.done,
          total: j.total,
        };
        const line = JSON.stringify(e);
        if (shown.get(j.id) !== line) say(e);
        shown.set(j.id, line);
      }
    }
    const joined = peer.role === 'owner' ? slotsOwned > 0 : map.epoch > 0;
    if (joined) {
      say({ event: 'joined', epoch: map.epoch, slotsOwned, owners: owners.size });
      return true;
    }
    const progress: JoinEvent = { event: 'joining', epoch: map.epoch, members: members.length, slotsOwned };
    if (JSON.stringify(progress) !== lastLine) say(progress);
    lastLine = JSON.stringify(progress);
    if (options.signal.aborted) return false;
    if (Date.now() - startedMs > options.waitMs) {
      say({ event: 'join-timeout', waitMs: options.waitMs, epoch: map.epoch });
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
