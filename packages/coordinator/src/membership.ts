/**
 * The membership view and the failure detector. A member is heard from only
 * through its own node state (the sender is transport-verified). Silence past
 * `suspectAfterMs * scale` makes a member suspect, past `downAfterMs * scale`
 * down, where `scale` is the heartbeat period's factor (it grows with the
 * cluster, so detection waits for the same number of missed heartbeats at
 * any size); a state from a newer incarnation (a restart) or from the same
 * incarnation after silence brings it back.
 */
import type { PeerIdString } from './env.ts';
import type { Liveness, Member, NodeState, NodeStatus } from './types.ts';

export interface MembershipOptions {
  readonly suspectAfterMs: number;
  readonly downAfterMs: number;
  readonly membersMax: number;
}

/** What observing a state did. */
export type Observation =
  | { readonly kind: 'stale' }
  | { readonly kind: 'full' }
  | { readonly kind: 'accepted'; readonly change: { member: Member; previous: Member | null } | null };

function effectiveStatus(liveness: Liveness, reported: NodeStatus): NodeStatus {
  if (liveness === 'down') return 'down';
  if (liveness === 'suspect') return 'unreachable';
  return reported;
}

function makeMember(state: NodeState, liveness: Liveness, lastHeardMs: number): Member {
  return {
    id: state.id,
    status: effectiveStatus(liveness, state.status),
    liveness,
    role: state.role,
    incarnation: state.incarnation,
    lastHeardMs,
    state,
  };
}

const sameView = (a: Member, b: Member) =>
  a.status === b.status && a.role === b.role && a.incarnation === b.incarnation;

export class Membership {
  readonly #selfId: PeerIdString;
  readonly #options: MembershipOptions;
  readonly #members = new Map<PeerIdString, Member>();

  constructor(selfId: PeerIdString, options: MembershipOptions) {
    this.#selfId = selfId;
    this.#options = options;
  }

  /** Records this peer's own state (always alive). */
  setSelf(state: NodeState, nowMs: number): { member: Member; previous: Member | null } | null {
    const previous = this.#members.get(this.#selfId) ?? null;
    const member = makeMember(state, 'alive', nowMs);
    this.#members.set(this.#selfId, member);
    return previous && sameView(previous, member) ? null : { member, previous };
  }

  /** Applies a state heard directly from its node at `nowMs`. */
  observe(state: NodeState, nowMs: number): Observation {
    if (state.id === this.#selfId) return { kind: 'stale' };
    const previous = this.#members.get(state.id) ?? null;
    if (previous) {
      const p = previous.state;
      if (state.incarnation < p.incarnation) return { kind: 'stale' };
      if (state.incarnation === p.incarnation && state.version <= p.version) return { kind: 'stale' };
    } else if (this.#members.size >= this.#options.membersMax) {
      return { kind: 'full' };
    }
    const member = makeMember(state, 'alive', nowMs);
    this.#members.set(state.id, member);
    return { kind: 'accepted', change: previous && sameView(previous, member) ? null : { member, previous } };
  }

  /** Members not marked down, this peer included. */
  liveCount(): number {
    let live = 0;
    for (const member of this.#members.values()) if (member.liveness !== 'down') live += 1;
    return live;
  }

  /**
   * Runs the failure detector at `nowMs` with the timeouts multiplied by
   * `scale` (>= 1); returns the members whose view changed.
   */
  check(nowMs: number, scale = 1): { member: Member; previous: Member }[] {
    const changes: { member: Member; previous: Member }[] = [];
    const suspectAfterMs = this.#options.suspectAfterMs * scale;
    const downAfterMs = this.#options.downAfterMs * scale;
    for (const previous of this.#members.values()) {
      if (previous.id === this.#selfId) continue;
      const silentMs = nowMs - previous.lastHeardMs;
      const liveness: Liveness =
        silentMs >= downAfterMs ? 'down' : silentMs >= suspectAfterMs ? 'suspect' : 'alive';
      // Down is sticky until the member is heard again (observe), never undone by time.
      if (liveness === previous.liveness || previous.liveness === 'down') continue;
      const member = makeMember(previous.state, liveness, previous.lastHeardMs);
      this.#members.set(member.id, member);
      if (!sameView(previous, member)) changes.push({ member, previous });
    }
    return changes;
  }

  get(id: PeerIdString): Member | undefined {
    return this.#members.get(id);
  }

  /** Every member, this peer included, sorted by id. */
  list(): Member[] {
    return [...this.#members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
