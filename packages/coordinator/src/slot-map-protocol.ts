/**
 * The slot-map protocol's messages and its fold. Every peer feeds the
 * `slotmap` coordinator messages it holds into a `SlotMapLedger`; the
 * committed map is a pure function of that set of messages, so peers that
 * hold the same messages (the coordinator's catch-up makes logs agree) hold
 * the same map, whatever order the messages arrived in.
 */
import { compareStamps, SLOT_COUNT } from '@tessera/core';
import type { PeerIdString } from './env.ts';
import {
  EMPTY_SLOT_MAP,
  fromWire,
  mapOwners,
  ownersBySlot,
  type SlotMap,
  type SlotMapWire,
  slotMapOwnersMax,
  toWire,
} from './slot-map.ts';
import { InvalidSlotMapError } from './slot-map-errors.ts';
import type { CoordinatorMessage } from './types.ts';

/** `messageType` of every slot-map message. */
export const SLOT_MAP_MESSAGE_TYPE = 'slotmap';
/** Longest reason text carried in an ack or abort. */
export const reasonCharsMax = 200;

/** A proposal's id: the id `[clock, origin]` of its PREPARE message. */
export type ProposalId = readonly [number, PeerIdString];

/** PREPARE payload: the proposed map at `epoch`, derived from the committed map `base`. */
export interface PreparePayload {
  readonly epoch: number;
  /** The proposal whose map this one changes; null for the first map. */
  readonly base: ProposalId | null;
  readonly map: SlotMapWire;
  /** Owners whose ok ack the commit needs: every owner of the proposed map, sorted. */
  readonly required: readonly PeerIdString[];
}

/** ACK payload: an owner accepts (data ready) or rejects a proposal. */
export interface AckPayload {
  readonly proposal: ProposalId;
  readonly ok: boolean;
  readonly reason: string | null;
}

/** COMMIT / ABORT payload; only the proposer's count. */
export interface EndPayload {
  readonly proposal: ProposalId;
  readonly reason?: string;
}

/** A checked PREPARE. */
export interface Proposal {
  readonly id: ProposalId;
  readonly epoch: number;
  readonly base: ProposalId | null;
  readonly map: SlotMap;
  readonly required: readonly PeerIdString[];
}

export const proposalKey = (id: ProposalId): string => `${id[0]}/${id[1]}`;

/** Proposal order of the tie-break: higher epoch, then higher Lamport clock, then higher node id. */
export function compareProposals(
  a: Pick<Proposal, 'epoch' | 'id'>,
  b: Pick<Proposal, 'epoch' | 'id'>,
): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  return compareStamps({ clock: a.id[0], node: a.id[1] }, { clock: b.id[0], node: b.id[1] });
}

const isNat = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

function readId(x: unknown): ProposalId {
  if (!Array.isArray(x) || x.length !== 2 || !isNat(x[0]) || typeof x[1] !== 'string' || x[1].length === 0) {
    throw new InvalidSlotMapError('malformed', 'proposal id must be [clock, origin]');
  }
  return [x[0], x[1]];
}

function readReason(x: unknown): string | null {
  if (x === undefined || x === null) return null;
  if (typeof x !== 'string') throw new InvalidSlotMapError('malformed', 'reason must be a string');
  return x.slice(0, reasonCharsMax);
}

/** Checks a PREPARE from another peer; throws `InvalidSlotMapError` and changes nothing. */
export function readPrepare(message: CoordinatorMessage): Proposal {
  const p = message.payload as Partial<Record<keyof PreparePayload, unknown>> | null;
  if (typeof p !== 'object' || p === null) throw new InvalidSlotMapError('malformed', 'payload is not a map');
  if (!isNat(p.epoch) || p.epoch < 1) throw new InvalidSlotMapError('epoch', 'epoch must be >= 1');
  const base = p.base === null ? null : readId(p.base);
  if ((base === null) !== (p.epoch === 1))
    throw new InvalidSlotMapError('epoch', 'only epoch 1 has no base, and epoch 1 has none');
  const map = fromWire(p.map);
  if (map.epoch !== p.epoch)
    throw new InvalidSlotMapError('epoch', `map epoch ${map.epoch} is not ${p.epoch}`);
  if (!Array.isArray(p.required) || p.required.length > slotMapOwnersMax)
    throw new InvalidSlotMapError('malformed', 'required must be an array of owners');
  const owners = mapOwners(map);
  if (p.required.length !== owners.length || p.required.some((o, i) => o !== owners[i]))
    throw new InvalidSlotMapError('malformed', 'required must list exactly the owners of the map, sorted');
  return { id: [message.clock, message.from], epoch: p.epoch, base, map, required: owners };
}

export function readAck(message: CoordinatorMessage): AckPayload {
  const p = message.payload as Partial<Record<keyof AckPayload, unknown>> | null;
  if (typeof p !== 'object' || p === null) throw new InvalidSlotMapError('malformed', 'payload is not a map');
  if (typeof p.ok !== 'boolean') throw new InvalidSlotMapError('malformed', 'ok must be a boolean');
  return { proposal: readId(p.proposal), ok: p.ok, reason: readReason(p.reason) };
}

export function readEnd(message: CoordinatorMessage): EndPayload {
  const p = message.payload as Partial<Record<keyof EndPayload, unknown>> | null;
  if (typeof p !== 'object' || p === null) throw new InvalidSlotMapError('malformed', 'payload is not a map');
  return { proposal: readId(p.proposal), reason: readReason(p.reason) ?? '' };
}

export const preparePayload = (proposal: Omit<Proposal, 'id'>): PreparePayload => ({
  epoch: proposal.epoch,
  base: proposal.base,
  map: toWire(proposal.map),
  required: proposal.required,
});

/** True when `next` keeps the range epochs of `base` wherever a slot's owners did not change, and uses its own epoch elsewhere. */
export function epochsDerive(base: SlotMap, next: SlotMap): boolean {
  const before = ownersBySlot(base);
  const baseEpochs = new Array<number>(SLOT_COUNT).fill(0);
  for (const r of base.ranges) for (let s = r.start; s <= r.end; s++) baseEpochs[s] = r.epoch;
  for (const r of next.ranges) {
    for (let s = r.start; s <= r.end; s++) {
      const old = before[s]!;
      const same = old.length === r.owners.length && old.every((o, i) => o === r.owners[i]);
      if (r.epoch !== (same ? baseEpochs[s] : next.epoch)) return false;
    }
  }
  return true;
}

/** The committed map and the proposal that made it (null before the first commit). */
export interface SlotMapHead {
  readonly map: SlotMap;
  readonly proposal: ProposalId | null;
}

interface End {
  readonly kind: 'commit' | 'abort';
  readonly clock: number;
}

/**
 * Every slot-map message a peer holds, and the fold over them. A proposal
 * is committed when its PREPARE, an ok ACK from each required owner, and a
 * COMMIT from its proposer are held (an ABORT earlier in the log wins), and
 * its base is committed with epoch one lower (or it is epoch 1 with no
 * base). The head is the committed proposal with the highest (epoch,
 * clock, node id).
 */
export class SlotMapLedger {
  readonly #prepares = new Map<string, Proposal>();
  readonly #acks = new Map<string, Map<PeerIdString, { ok: boolean; clock: number }>>();
  readonly #ends = new Map<string, End>();
  readonly #derives = new Map<string, boolean>();

  proposal(id: ProposalId): Proposal | undefined {
    return this.#prepares.get(proposalKey(id));
  }

  proposals(): Proposal[] {
    return [...this.#prepares.values()];
  }

  addPrepare(p: Proposal): void {
    this.#prepares.set(proposalKey(p.id), p);
  }

  /** Records an ack; an owner's earliest ack for a proposal in log order counts. */
  addAck(from: PeerIdString, clock: number, ack: AckPayload): void {
    const key = proposalKey(ack.proposal);
    let acks = this.#acks.get(key);
    if (!acks) {
      acks = new Map();
      this.#acks.set(key, acks);
    }
    const seen = acks.get(from);
    if (!seen || clock < seen.clock) acks.set(from, { ok: ack.ok, clock });
  }

  /** Records a COMMIT or ABORT; ignored unless `from` is the proposer. The earliest in log order counts. */
  addEnd(from: PeerIdString, clock: number, kind: 'commit' | 'abort', end: EndPayload): boolean {
    if (end.proposal[1] !== from) return false;
    const key = proposalKey(end.proposal);
    const seen = this.#ends.get(key);
    if (!seen || clock < seen.clock) this.#ends.set(key, { kind, clock });
    return true;
  }

  /** Each owner's ack (true = ok) for a proposal. */
  acks(id: ProposalId): Map<PeerIdString, boolean> {
    const acks = this.#acks.get(proposalKey(id));
    return new Map([...(acks ?? [])].map(([o, a]) => [o, a.ok]));
  }

  ended(id: ProposalId): 'commit' | 'abort' | null {
    return this.#ends.get(proposalKey(id))?.kind ?? null;
  }

  /** The committed head; see the class comment. */
  head(): SlotMapHead {
    const committed = new Map<string, Proposal>();
    const byEpoch = [...this.#prepares.values()]
      .filter((p) => this.ended(p.id) === 'commit' && this.#fullyAcked(p))
      .sort((a, b) => a.epoch - b.epoch);
    let best: Proposal | null = null;
    for (const p of byEpoch) {
      const base = p.base === null ? null : committed.get(proposalKey(p.base));
      if (p.base !== null && (!base || base.epoch + 1 !== p.epoch)) continue;
      if (!this.#derivesFrom(p, base?.map ?? EMPTY_SLOT_MAP)) continue;
      committed.set(proposalKey(p.id), p);
      if (!best || compareProposals(p, best) > 0) best = p;
    }
    return best ? { map: best.map, proposal: best.id } : { map: EMPTY_SLOT_MAP, proposal: null };
  }

  #fullyAcked(p: Proposal): boolean {
    const acks = this.acks(p.id);
    return p.required.every((o) => acks.get(o) === true);
  }

  #derivesFrom(p: Proposal, base: SlotMap): boolean {
    const key = proposalKey(p.id);
    let ok = this.#derives.get(key);
    if (ok === undefined) {
      ok = epochsDerive(base, p.map);
      this.#derives.set(key, ok);
    }
    return ok;
  }
}
