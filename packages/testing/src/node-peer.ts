/** A Node peer as a real child process with its own temp data dir and ephemeral ports. */
import { fileURLToPath } from 'node:url';
import { type PeerProcess, spawnPeerProcess } from '@tessera/peer/testing';
import type { NodePeerConfig } from './node-peer-process.ts';
import type { PeerCommand } from './peer-commands.ts';
import { TestPeer } from './test-peer.ts';

const SCRIPT = fileURLToPath(new URL('./node-peer-process.ts', import.meta.url));

/** How long a peer process may take to print `ready` on a loaded machine. */
export const NODE_PEER_READY_TIMEOUT_MS = 120_000;
/** How long one command may run in a peer process. */
export const NODE_PEER_CALL_TIMEOUT_MS = 30_000;

export class NodePeer extends TestPeer {
  readonly kind = 'node';
  readonly config: NodePeerConfig;
  #process: PeerProcess;
  #id: string;
  #listen: string[];

  private constructor(config: NodePeerConfig, process: PeerProcess) {
    super();
    this.config = config;
    this.#process = process;
    this.#id = process.id;
    // Restarts listen on the same addresses, so bootstrap lists and browsers' redials still reach it.
    this.#listen = process.multiaddrs.map((address) => address.slice(0, address.lastIndexOf('/p2p/')));
  }

  /** Spawns a peer process and waits until it listens. */
  static async start(config: NodePeerConfig): Promise<NodePeer> {
    return new NodePeer(config, await spawnPeerProcess(config, NODE_PEER_READY_TIMEOUT_MS, SCRIPT));
  }

  get id(): string {
    return this.#id;
  }

  get running(): boolean {
    const child = this.#process.child;
    return child.exitCode === null && child.signalCode === null;
  }

  /** The live process (its `events`, `child`). */
  get process(): PeerProcess {
    return this.#process;
  }

  get multiaddrs(): string[] {
    return this.#process.multiaddrs;
  }

  /** The WebSockets address browsers dial. */
  get wsAddress(): string {
    return addressOf(this.multiaddrs, (address) => address.includes('/ws/'), 'WebSockets');
  }

  /** The TCP address other Node peers dial. */
  get tcpAddress(): string {
    return addressOf(this.multiaddrs, (address) => !address.includes('/ws'), 'TCP');
  }

  run<T>(command: PeerCommand): Promise<T> {
    return this.#process.call<T>(command, NODE_PEER_CALL_TIMEOUT_MS);
  }

  kill(): Promise<void> {
    return this.#process.kill();
  }

  /** Clean stop: the peer publishes `exiting` first. */
  stop(): Promise<void> {
    return this.#process.stop();
  }

  async restart(): Promise<void> {
    if (this.running) await this.kill();
    const config = { ...this.config, listen: this.#listen };
    this.#process = await spawnPeerProcess(config, NODE_PEER_READY_TIMEOUT_MS, SCRIPT);
    if (this.#process.id !== this.#id && this.config.dataDir !== undefined)
      throw new Error(`peer restarted with id ${this.#process.id}, expected ${this.#id}`);
    this.#id = this.#process.id;
  }
}

function addressOf(addresses: readonly string[], wanted: (address: string) => boolean, what: string): string {
  const address = addresses.find(wanted);
  if (address === undefined) throw new Error(`no ${what} address in ${addresses.join(' ')}`);
  return address;
}
