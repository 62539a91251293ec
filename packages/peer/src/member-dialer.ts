/**
 * Dials members the coordinator knows about but this peer has no connection
 * to, using the addresses in their node state. This is how two browsers that
 * only share a relay find each other's `/webrtc` address and connect
 * directly, and how Node peers form a mesh beyond their bootstrap list.
 */
import type { Logger } from '@libp2p/interface';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import type { Coordinator } from '@tessera/coordinator';
import type { TesseraLibp2p } from './libp2p-services.ts';

/** Bounds of member dialing. */
export interface MemberDialing {
  /** How often members without a connection are looked for, ms. */
  readonly intervalMs: number;
  /** Stop dialing members once this many peers are connected. */
  readonly connectionsMax: number;
  /** Dials in flight at once. */
  readonly dialsInFlightMax: number;
  /** Timeout of one dial, ms. */
  readonly dialTimeoutMs: number;
}

export const MEMBER_DIALING_DEFAULT: MemberDialing = {
  intervalMs: 2_000,
  connectionsMax: 32,
  dialsInFlightMax: 4,
  dialTimeoutMs: 10_000,
};

export class MemberDialer {
  readonly #node: TesseraLibp2p;
  readonly #coordinator: Coordinator;
  readonly #options: MemberDialing;
  readonly #log: Logger;
  readonly #dialing = new Map<string, AbortController>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #unsubscribe: (() => void) | undefined;

  constructor(node: TesseraLibp2p, coordinator: Coordinator, options: MemberDialing) {
    this.#node = node;
    this.#coordinator = coordinator;
    this.#options = options;
    this.#log = node.logger.forComponent('tessera:member-dialer');
  }

  start(): void {
    this.#unsubscribe = this.#coordinator.on('member', () => this.#sweep());
    this.#tick();
  }

  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    clearTimeout(this.#timer);
    for (const controller of this.#dialing.values()) controller.abort();
  }

  #tick(): void {
    if (this.#stopped) return;
    this.#sweep();
    this.#timer = setTimeout(() => this.#tick(), this.#options.intervalMs);
  }

  #sweep(): void {
    if (this.#stopped || !this.#coordinator.running) return;
    const self = this.#node.peerId.toString();
    // A relayed (limited) connection does not count: it is the stepping stone to WebRTC.
    const connected = new Set(
      this.#node
        .getConnections()
        .filter((connection) => connection.limits === undefined)
        .map((connection) => connection.remotePeer.toString()),
    );
    for (const member of this.#coordinator.members()) {
      if (connected.size + this.#dialing.size >= this.#options.connectionsMax) return;
      if (this.#dialing.size >= this.#options.dialsInFlightMax) return;
      if (member.id === self || connected.has(member.id) || this.#dialing.has(member.id)) continue;
      if (member.liveness === 'down') continue;
      const addresses = dialable(member.id, member.state.addresses);
      if (addresses.length === 0) continue;
      void this.#dial(member.id, addresses);
    }
  }

  async #dial(id: string, addresses: Multiaddr[]): Promise<void> {
    const controller = new AbortController();
    this.#dialing.set(id, controller);
    const timeout = setTimeout(() => controller.abort(), this.#options.dialTimeoutMs);
    try {
      await this.#node.dial(addresses, { signal: controller.signal });
    } catch (err) {
      this.#log('dialing member %s failed: %e', id, err);
    } finally {
      clearTimeout(timeout);
      this.#dialing.delete(id);
    }
  }
}

// Addresses come from other peers' node state: parse defensively and keep
// only those that name this member, so a peer cannot point us at another id.
export function dialable(id: string, addresses: readonly string[]): Multiaddr[] {
  const out: Multiaddr[] = [];
  for (const text of addresses) {
    if (typeof text !== 'string') continue;
    try {
      const address = multiaddr(text);
      const last = address.getComponents().findLast((component) => component.name === 'p2p');
      if (last?.value === id) out.push(address);
    } catch {
      // An unparsable address from the wire is skipped.
    }
  }
  // Through a relay, ask for WebRTC only; otherwise the dialer may settle for
  // a limited relayed connection.
  const webrtc = out.filter((address) =>
    address.getComponents().some((component) => component.name === 'webrtc'),
  );
  return webrtc.length > 0 ? webrtc : out;
}
