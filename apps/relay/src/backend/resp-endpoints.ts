/**
 * Where each peer's RESP server listens, so CLUSTER SLOTS can name a slot's
 * owners by their own RESP address. Node state carries only libp2p
 * addresses, so every relay publishes its endpoint as a coordinator message
 * (`messageType` `relay`, `eventType` `resp-endpoint`, payload
 * `{ host, port }`): stored, gossiped and caught up like any other, so a
 * peer that joins later learns every endpoint from the log. The newest
 * message of a peer (highest Lamport clock) wins; a restart on another port
 * publishes again.
 */
import type { CoordinatorMessage } from '@tessera/coordinator';
import type { Peer } from '@tessera/peer';

export const RESP_ENDPOINT_MESSAGE_TYPE = 'relay';
export const RESP_ENDPOINT_EVENT_TYPE = 'resp-endpoint';
/** Longest host name accepted from another peer's message, characters. */
export const ENDPOINT_HOST_CHARS_MAX = 255;

export interface RespEndpoint {
  readonly host: string;
  readonly port: number;
}

type EndpointPeer = Pick<Peer, 'publish' | 'messages' | 'on'>;

/** The endpoint in a message, or undefined when it is not one (or malformed: it comes from another peer). */
function endpointOf(message: CoordinatorMessage): RespEndpoint | undefined {
  if (message.messageType !== RESP_ENDPOINT_MESSAGE_TYPE || message.eventType !== RESP_ENDPOINT_EVENT_TYPE) {
    return undefined;
  }
  const payload = message.payload as { host?: unknown; port?: unknown } | null;
  if (typeof payload !== 'object' || payload === null) return undefined;
  const { host, port } = payload;
  if (typeof host !== 'string' || host.length === 0 || host.length > ENDPOINT_HOST_CHARS_MAX)
    return undefined;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  return { host, port };
}

export class RespEndpoints {
  readonly #peer: EndpointPeer;
  readonly #latest = new Map<string, { clock: number; endpoint: RespEndpoint }>();
  #unsubscribe: (() => void) | undefined;

  constructor(peer: EndpointPeer) {
    this.#peer = peer;
  }

  #note(message: CoordinatorMessage): void {
    const endpoint = endpointOf(message);
    if (endpoint === undefined) return;
    const seen = this.#latest.get(message.from);
    if (seen === undefined || seen.clock < message.clock) {
      this.#latest.set(message.from, { clock: message.clock, endpoint });
    }
  }

  /** Follows new messages, reads the stored log, then publishes this peer's own endpoint. */
  async start(self: RespEndpoint): Promise<void> {
    this.#unsubscribe = this.#peer.on('message', ({ message }) => this.#note(message));
    for await (const message of this.#peer.messages()) this.#note(message);
    await this.#peer.publish({
      messageType: RESP_ENDPOINT_MESSAGE_TYPE,
      eventType: RESP_ENDPOINT_EVENT_TYPE,
      payload: { host: self.host, port: self.port },
    });
  }

  /** The newest published endpoint of `peerId`, if any. */
  get(peerId: string): RespEndpoint | undefined {
    return this.#latest.get(peerId)?.endpoint;
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }
}
