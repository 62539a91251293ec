/**
 * `@tessera/peer` for browsers: WebSockets to Node peers and WebRTC to other
 * browsers through a relay. Same API as the Node entry; default role client.
 */
import { createPeerOn, type Peer, type PeerOptions, type Platform } from './peer.ts';
import { createBrowserLibp2p } from './platform-browser.ts';

export * from './exports.ts';
export { BROWSER_LISTEN_DEFAULT } from './platform-browser.ts';

/** Browser-only options. */
export interface BrowserPeerOptions extends PeerOptions {
  /** ICE servers for WebRTC; none by default (host candidates only). */
  readonly iceServers?: readonly RTCIceServer[];
}

/** Starts a browser peer: loads (or creates) its identity from `storage`, listens on the relay and WebRTC, dials `bootstrap`. */
export function createPeer(options: BrowserPeerOptions): Promise<Peer> {
  const platform: Platform = {
    defaultRole: 'client',
    createLibp2p: (init) =>
      createBrowserLibp2p({
        ...init,
        ...(options.iceServers === undefined ? {} : { iceServers: options.iceServers }),
      }),
  };
  return createPeerOn(platform, options);
}
