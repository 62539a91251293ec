/**
 * Cuts a running peer off from chosen remote peers, for partition tests:
 * the libp2p connection gater refuses dials to and connections from them,
 * and open connections to them are closed. Runs inside the peer's own
 * process or page, so the cut is at the network layer the peer really uses
 * (relayed and WebRTC connections included), not a flag the test reads.
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface';
import type { Peer } from '@tessera/peer';

/** The remote peers a peer refuses to talk to. */
export interface Blocklist {
  /** Refuses `ids` from now on and closes every open connection to them. */
  block(ids: readonly string[]): Promise<void>;
  /** Allows `ids` again (every blocked peer when omitted); reconnecting is left to the peer's dialers. */
  unblock(ids?: readonly string[]): void;
  /** The ids refused right now, sorted. */
  blocked(): string[];
}

/** Peer ids blocked at once, at most: a partition is a handful of peers. */
export const BLOCKED_PEERS_MAX = 256;

/** Installs a blocklist into `peer`'s connection gater (libp2p reads the gater on every check). */
export function installBlocklist(peer: Peer): Blocklist {
  const refused = new Set<string>();
  const components = (peer.libp2p as unknown as { components: { connectionGater: ConnectionGater } })
    .components;
  const gater = components.connectionGater;
  const deny = (id: PeerId): boolean => refused.has(id.toString());
  gater.denyDialPeer = deny;
  gater.denyInboundEncryptedConnection = deny;
  gater.denyOutboundEncryptedConnection = deny;
  gater.denyInboundUpgradedConnection = deny;
  gater.denyOutboundUpgradedConnection = deny;
  return {
    async block(ids) {
      if (refused.size + ids.length > BLOCKED_PEERS_MAX)
        throw new RangeError(`at most ${BLOCKED_PEERS_MAX} peers can be blocked`);
      for (const id of ids) refused.add(id);
      const open = peer.libp2p.getConnections().filter((connection) => deny(connection.remotePeer));
      await Promise.all(
        open.map((connection) => connection.close().catch(() => connection.abort(new Error('blocked')))),
      );
    },
    unblock(ids) {
      if (ids === undefined) refused.clear();
      else for (const id of ids) refused.delete(id);
    },
    blocked: () => [...refused].sort(),
  };
}
