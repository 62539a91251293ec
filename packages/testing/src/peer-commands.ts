/**
 * What a test can ask of any peer, Node process or browser page alike: the
 * same commands run inside both, so a scenario reads the same whichever kind
 * of peer it drives. Results are plain JSON (they cross a pipe or
 * `page.evaluate`).
 */
import type { DataReadOptions, DataWriteOptions, Peer } from '@tessera/peer';
import { StaticPlacement } from '@tessera/replication/testing';
import { type Blocklist, installBlocklist } from './blocklist.ts';

/** A read as a test sees it: the winning value and the losing siblings' values. */
export interface ReadView {
  readonly found: boolean;
  readonly value?: unknown;
  readonly siblings: unknown[];
}

/** One open connection of a peer. */
export interface ConnectionView {
  readonly peer: string;
  /** `webrtc`, `websockets`, `tcp` or `relay` (a limited connection through a relay). */
  readonly transport: string;
}

/** One member as a peer sees it. */
export interface MemberView {
  readonly id: string;
  readonly role: string;
  readonly liveness: string;
  readonly status: string;
}

/** A command and its arguments. */
export type PeerCommand =
  | {
      readonly cmd: 'put';
      readonly key: string;
      readonly value: unknown;
      readonly options?: DataWriteOptions;
    }
  | { readonly cmd: 'get'; readonly key: string; readonly options?: DataReadOptions }
  | { readonly cmd: 'delete'; readonly key: string; readonly options?: DataWriteOptions }
  | { readonly cmd: 'placement'; readonly owners: readonly string[]; readonly ownersPerSlot: number }
  | { readonly cmd: 'block'; readonly peers: readonly string[] }
  | { readonly cmd: 'unblock'; readonly peers?: readonly string[] }
  | { readonly cmd: 'members' }
  | { readonly cmd: 'connections' }
  | { readonly cmd: 'multiaddrs' };

/** Runs test commands against one peer. */
export class PeerCommands {
  readonly peer: Peer;
  readonly #blocklist: Blocklist;

  constructor(peer: Peer) {
    this.peer = peer;
    this.#blocklist = installBlocklist(peer);
  }

  async run(command: PeerCommand): Promise<unknown> {
    const peer = this.peer;
    switch (command.cmd) {
      case 'put':
        await peer.put(command.key, command.value, command.options);
        return null;
      case 'get':
        return readView(await peer.get(command.key, command.options));
      case 'delete':
        await peer.delete(command.key, command.options);
        return null;
      case 'placement':
        // A fixed owner set, so data tests do not wait for (or depend on) slot-map formation.
        peer.placement.slots = new StaticPlacement(command.owners, command.ownersPerSlot);
        return null;
      case 'block':
        await this.#blocklist.block(command.peers);
        return this.#blocklist.blocked();
      case 'unblock':
        this.#blocklist.unblock(command.peers);
        return this.#blocklist.blocked();
      case 'members':
        return peer.members().map(
          (member): MemberView => ({
            id: member.id,
            role: member.role,
            liveness: member.liveness,
            status: member.status,
          }),
        );
      case 'connections':
        return peer.libp2p.getConnections().map(
          (connection): ConnectionView => ({
            peer: connection.remotePeer.toString(),
            transport: transportOf(connection.remoteAddr.toString(), connection.limits !== undefined),
          }),
        );
      case 'multiaddrs':
        return peer.multiaddrs;
      default:
        throw new TypeError(`unknown command ${(command as { cmd: unknown }).cmd}`);
    }
  }
}

function readView(read: Awaited<ReturnType<Peer['get']>>): ReadView {
  return {
    found: read.found,
    ...(read.found ? { value: read.value } : {}),
    siblings: read.siblings.map((sibling) => (sibling.deleted ? null : sibling.value)),
  };
}

function transportOf(address: string, limited: boolean): string {
  if (limited || (address.includes('/p2p-circuit') && !address.includes('/webrtc'))) return 'relay';
  if (address.includes('/webrtc')) return 'webrtc';
  if (address.includes('/ws')) return 'websockets';
  return 'tcp';
}
