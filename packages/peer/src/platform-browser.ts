/**
 * The browser's libp2p setup: WebSockets to Node peers, and WebRTC to other
 * browsers with the SDP handshake carried through a circuit relay. The
 * browser entry imports this file and never the Node one.
 */
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import type { PrivateKey } from '@libp2p/interface';
import { webRTC } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';
import { createTesseraLibp2p, type TesseraLibp2p } from './libp2p-services.ts';

/** Accept relayed dials (for the WebRTC handshake) and WebRTC connections. */
export const BROWSER_LISTEN_DEFAULT: readonly string[] = ['/p2p-circuit', '/webrtc'];

export interface BrowserLibp2pInit {
  readonly privateKey: PrivateKey;
  readonly listen?: readonly string[];
  readonly gossipBytesMax: number;
  /** ICE servers for WebRTC; empty (host candidates only) by default, so nothing is contacted outside the cluster. */
  readonly iceServers?: readonly RTCIceServer[];
}

/** Creates a started browser libp2p node. */
export function createBrowserLibp2p(init: BrowserLibp2pInit): Promise<TesseraLibp2p> {
  return createTesseraLibp2p({
    privateKey: init.privateKey,
    listen: init.listen ?? BROWSER_LISTEN_DEFAULT,
    transports: [
      webSockets(),
      webRTC({ rtcConfiguration: { iceServers: [...(init.iceServers ?? [])] } }),
      circuitRelayTransport(),
    ],
    // The default browser gater refuses ws:// and private addresses, which is
    // exactly how Node peers are reached on a LAN or loopback.
    connectionGater: { denyDialMultiaddr: () => false },
    gossipBytesMax: init.gossipBytesMax,
  });
}
