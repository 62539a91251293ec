/**
 * The libp2p pieces every peer shares, Node or browser: encryption,
 * multiplexing, identify, gossipsub and ping. Transports and listen
 * addresses differ per platform and are passed in.
 */
import { type ICryptoInterface, noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { type GossipSub, gossipsub, StrictSign } from '@libp2p/gossipsub';
import { type Identify, identify } from '@libp2p/identify';
import type { ConnectionGater, PrivateKey, Transport } from '@libp2p/interface';
import { type Ping, ping } from '@libp2p/ping';
import { createLibp2p, type Libp2p } from 'libp2p';
import {
  CONNECTIONS_MAX,
  CONNECTIONS_PER_PEER_MAX,
  MUXED_INBOUND_STREAMS_MAX,
  MUXED_OUTBOUND_STREAMS_MAX,
  STREAM_WINDOW_BYTES_MAX,
} from './network-limits.ts';

/** The services every Tessera libp2p node runs; `relay` only on Node. */
export interface TesseraServices {
  identify: Identify;
  pubsub: GossipSub;
  ping: Ping;
  [name: string]: unknown;
}

/** A libp2p node as Tessera configures it. */
export type TesseraLibp2p = Libp2p<TesseraServices>;

// biome-ignore lint/suspicious/noExplicitAny: libp2p's transport factories take platform-specific component bags.
type TransportFactory = (components: any) => Transport;
// biome-ignore lint/suspicious/noExplicitAny: same for services.
type ServiceFactory = (components: any) => unknown;

/** What differs between platforms. */
export interface PlatformLibp2pInit {
  readonly privateKey: PrivateKey;
  readonly listen: readonly string[];
  readonly transports: readonly TransportFactory[];
  readonly extraServices?: Readonly<Record<string, ServiceFactory>>;
  readonly connectionGater?: ConnectionGater;
  /** Largest gossip message data accepted, in bytes. */
  readonly gossipBytesMax: number;
  /** Wraps the noise factory (Node: `coalescingEncrypter`). */
  readonly wrapEncrypter?: <T>(factory: T) => T;
  /** Noise's crypto (Node: `cachedKeyNoiseCrypto`); noise's default when absent. */
  readonly noiseCrypto?: ICryptoInterface;
  /** Wraps the yamux factory (Node: `coalescingMuxer`). */
  readonly wrapMuxer?: <T>(factory: T) => T;
}

/** Creates and starts a libp2p node with noise, yamux, identify, gossipsub and ping. */
export async function createTesseraLibp2p(init: PlatformLibp2pInit): Promise<TesseraLibp2p> {
  let created: Libp2p | undefined;
  // One remote peer cannot pile up connections (each one costs buffers and streams).
  const connectionGater: ConnectionGater = {
    ...init.connectionGater,
    denyInboundEncryptedConnection: (peerId) =>
      (created?.getConnections(peerId).length ?? 0) >= CONNECTIONS_PER_PEER_MAX,
  };
  const wrapEncrypter = init.wrapEncrypter ?? ((factory) => factory);
  const wrapMuxer = init.wrapMuxer ?? ((factory) => factory);
  const node = await createLibp2p({
    privateKey: init.privateKey,
    addresses: { listen: [...init.listen] },
    transports: [...init.transports],
    connectionEncrypters: [wrapEncrypter(noise(init.noiseCrypto ? { crypto: init.noiseCrypto } : {}))],
    streamMuxers: [
      wrapMuxer(
        yamux({
          maxInboundStreams: MUXED_INBOUND_STREAMS_MAX,
          maxOutboundStreams: MUXED_OUTBOUND_STREAMS_MAX,
          streamOptions: { maxStreamWindowSize: STREAM_WINDOW_BYTES_MAX },
        }),
      ),
    ],
    connectionGater,
    connectionManager: { maxConnections: CONNECTIONS_MAX },
    services: {
      identify: identify({ runOnLimitedConnection: true }),
      ping: ping({ runOnLimitedConnection: true }),
      pubsub: gossipsub({
        // Gossip is best effort and the coordinator has pull-based catch-up,
        // so publishing with nobody listening yet is not an error.
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        globalSignaturePolicy: StrictSign,
        maxInboundDataLength: init.gossipBytesMax,
        ignoreDuplicatePublishError: true,
      }),
      ...init.extraServices,
    },
  });
  created = node;
  return node as unknown as TesseraLibp2p;
}
