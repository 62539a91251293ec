/** Names the transport of a libp2p connection from its remote multiaddr. */

/** How this tab reaches a peer. */
export type TransportKind = 'WebSockets' | 'WebRTC' | 'relayed' | 'TCP' | 'other';

/**
 * Classifies a connection. WebRTC first: a browser-to-browser WebRTC address
 * still names the relay it was set up through (`…/p2p-circuit/webrtc/…`) but
 * the connection itself is direct. `limited` is libp2p's `connection.limits`
 * being set, which only relayed connections have.
 */
export function transportOf(remoteAddr: string, limited = false): TransportKind {
  const parts = remoteAddr.split('/');
  if (parts.includes('webrtc') || parts.includes('webrtc-direct')) return 'WebRTC';
  if (limited || parts.includes('p2p-circuit')) return 'relayed';
  if (parts.includes('ws') || parts.includes('wss')) return 'WebSockets';
  if (parts.includes('tcp')) return 'TCP';
  return 'other';
}
