/**
 * Node's libp2p setup: TCP and WebSockets listeners and a circuit-relay-v2
 * server, so browsers can reach each other through this peer. Only the Node
 * entry imports this file.
 */
import { circuitRelayServer } from '@libp2p/circuit-relay-v2';
import type { PrivateKey } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { webSockets } from '@libp2p/websockets';
import { createTesseraLibp2p, type TesseraLibp2p } from './libp2p-services.ts';
import { cachedKeyNoiseCrypto } from './noise-crypto-node.ts';
import { coalescingEncrypter, coalescingMuxer } from './write-coalescing.ts';

/** Loopback TCP and WebSockets on ephemeral ports. */
export const NODE_LISTEN_DEFAULT: readonly string[] = ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'];

/** Limits of the relay server, named so they show up in the README. */
export const RELAY_RESERVATIONS_MAX = 128;

export interface NodeLibp2pInit {
  readonly privateKey: PrivateKey;
  readonly listen?: readonly string[];
  readonly gossipBytesMax: number;
}

/** Creates a started Node libp2p node. */
export function createNodeLibp2p(init: NodeLibp2pInit): Promise<TesseraLibp2p> {
  return createTesseraLibp2p({
    privateKey: init.privateKey,
    listen: init.listen ?? NODE_LISTEN_DEFAULT,
    transports: [tcp(), webSockets()],
    extraServices: {
      relay: circuitRelayServer({ reservations: { maxReservations: RELAY_RESERVATIONS_MAX } }),
    },
    // Tests and local clusters run on loopback, which the default gater
    // refuses to dial.
    connectionGater: { denyDialMultiaddr: () => false },
    gossipBytesMax: init.gossipBytesMax,
    // Fewer, larger socket writes and encryptions: see write-coalescing.ts.
    wrapEncrypter: coalescingEncrypter as <T>(factory: T) => T,
    wrapMuxer: coalescingMuxer as <T>(factory: T) => T,
    // Session keys imported once, not per message: see noise-crypto-node.ts.
    noiseCrypto: cachedKeyNoiseCrypto,
  });
}
