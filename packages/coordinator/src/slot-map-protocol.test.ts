import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_SLOT_MAP, mapOwners, type SlotMap } from './slot-map.ts';
import { assignSlots } from './slot-map-assign.ts';
import {
  type ProposalId,
  preparePayload,
  readAck,
  readEnd,
  readPrepare,
  SlotMapLedger,
} from './slot-map-protocol.ts';
import type { CoordinatorMessage } from './types.ts';

const msg = (clock: number, from: string, eventType: string, payload: unknown): CoordinatorMessage => ({
  from,
  cluster: 'c',
  clock,
  incarnation: 1,
  time: 0,
  messageType: 'slotmap',
  eventType,
  payload,
});

function feed(ledger: SlotMapLedger, m: CoordinatorMessage): void {
  if (m.eventType === 'prepare') ledger.addPrepare(readPrepare(m));
  else if (m.eventType === 'ack') ledger.addAck(m.from, m.clock, readAck(m));
  else ledger.addEnd(m.from, m.clock, m.eventType as 'commit' | 'abort', readEnd(m));
}

/** PREPARE by `from` at `clock`, an ok ACK from every owner, then COMMIT: the messages of one committed proposal. */
function committed(
  clock: number,
  from: string,
  base: ProposalId | null,
  current: SlotMap,
  members: string[],
  replicas: number,
) {
  const map = assignSlots({ current, members: members.map((id) => ({ id })), replicas });
  const required = mapOwners(map);
  const id: ProposalId = [clock, from];
  const messages = [
    msg(clock, from, 'prepare', preparePayload({ epoch: map.epoch, base, map, required })),
    ...required.map((o, i) => msg(clock + 1 + i, o, 'ack', { proposal: id, ok: true, reason: null })),
    msg(clock + 1 + required.length, from, 'commit', { proposal: id }),
  ];
  return { id, map, messages };
}

const members = ['a', 'b', 'c', 'd'];
const genesis = committed(1, 'a', null, EMPTY_SLOT_MAP, members, 2);
// Two proposals on the same base at epoch 2 (a partition let both commit): higher clock wins.
const left = committed(20, 'b', genesis.id, genesis.map, ['a', 'b', 'c'], 2);
const right = committed(30, 'd', genesis.id, genesis.map, ['b', 'c', 'd'], 2);
// The left side went on to epoch 3: higher epoch beats the later clock.
const leftNext = committed(40, 'a', left.id, left.map, ['a', 'b'], 2);

describe('slot map ledger', () => {
  it('every arrival order gives the same head (higher epoch, then clock, then node id)', () => {
    const all = [...genesis.messages, ...left.messages, ...right.messages];
    fc.assert(
      fc.property(fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }), (order) => {
        const ledger = new SlotMapLedger();
        for (const m of order) feed(ledger, m);
        expect(ledger.head().proposal).toEqual(right.id);
        for (const m of leftNext.messages) feed(ledger, m);
        expect(ledger.head().proposal).toEqual(leftNext.id);
      }),
      { numRuns: 50 },
    );
  });

  it('a tie on epoch and clock goes to the higher node id', () => {
    const x = committed(50, 'b', genesis.id, genesis.map, ['a', 'b', 'c'], 2);
    const y = committed(50, 'c', genesis.id, genesis.map, ['b', 'c', 'd'], 2);
    const ledger = new SlotMapLedger();
    for (const m of [...genesis.messages, ...y.messages, ...x.messages]) feed(ledger, m);
    expect(ledger.head().proposal).toEqual(y.id);
  });

  it('a commit without every ack, a commit by another peer, or one after an abort changes nothing', () => {
    const ledger = new SlotMapLedger();
    for (const m of genesis.messages) feed(ledger, m);
    const [prepare, ...rest] = left.messages;
    feed(ledger, prepare!);
    feed(ledger, rest[rest.length - 1]!); // commit, no acks
    expect(ledger.head().proposal).toEqual(genesis.id);
    expect(ledger.addEnd('c', 99, 'commit', { proposal: left.id })).toBe(false);
    feed(ledger, msg(21, 'b', 'abort', { proposal: left.id, reason: 'timeout' }));
    for (const m of rest) feed(ledger, m);
    expect(ledger.head().proposal).toEqual(genesis.id);
    expect(ledger.ended(left.id)).toBe('abort');
  });

  it('a proposal whose range epochs do not follow from its base never commits', () => {
    const bad = committed(20, 'b', genesis.id, genesis.map, ['a', 'b', 'c'], 2);
    const forged = { ...bad.map, ranges: bad.map.ranges.map((r) => ({ ...r, epoch: 2 })) };
    const messages = bad.messages.map((m) =>
      m.eventType === 'prepare'
        ? msg(
            m.clock,
            m.from,
            'prepare',
            preparePayload({ epoch: 2, base: genesis.id, map: forged, required: mapOwners(forged) }),
          )
        : m,
    );
    const ledger = new SlotMapLedger();
    for (const m of [...genesis.messages, ...messages]) feed(ledger, m);
    expect(ledger.head().proposal).toEqual(genesis.id);
  });
});
