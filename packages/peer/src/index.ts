/**
 * `@tessera/peer` for Node: TCP and WebSockets listeners and a circuit-relay
 * server. Browsers resolve `index.browser.ts` through the `browser` export
 * condition instead, so nothing Node-only reaches a browser bundle.
 */
import { createPeerOn, type Peer, type PeerOptions, type Platform } from './peer.ts';
import { createNodeLibp2p } from './platform-node.ts';

export * from './exports.ts';
export {
  LEAVE_LINGER_MS_DEFAULT,
  LEAVE_TIMEOUT_MS_DEFAULT,
  type LeaveJob,
  type LeaveOptions,
  type LeavePhase,
  type LeaveProgress,
  type LeaveResult,
} from './leave.ts';
export { LeaveAbortedError, type LeaveRefusal, LeaveRefusedError } from './leave-errors.ts';
export { NODE_LISTEN_DEFAULT } from './platform-node.ts';

const nodePlatform: Platform = { defaultRole: 'owner', createLibp2p: createNodeLibp2p };

/** Starts a Node peer: loads (or creates) its identity from `storage`, listens, dials `bootstrap`. */
export function createPeer(options: PeerOptions): Promise<Peer> {
  return createPeerOn(nodePlatform, options);
}
