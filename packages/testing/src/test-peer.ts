/** The calls a test makes on any peer, Node process or browser page. */
import type { DataReadOptions, DataWriteOptions } from '@tessera/peer';
import type { ConnectionView, MemberView, PeerCommand, ReadView } from './peer-commands.ts';

/** A peer under test. Every call runs inside the peer's own process or page. */
export abstract class TestPeer {
  abstract readonly kind: 'node' | 'browser';
  /** libp2p peer id; the same after `restart()` (the identity is in the peer's store). */
  abstract get id(): string;
  /** True between start and kill/stop. */
  abstract get running(): boolean;
  /** Runs one command inside the peer. */
  abstract run<T>(command: PeerCommand): Promise<T>;
  /** Ends the peer abruptly (SIGKILL for a process, closing the browser context for a page). */
  abstract kill(): Promise<void>;
  /** Starts the peer again on the same store and (for Node) the same addresses. */
  abstract restart(): Promise<void>;

  put(key: string, value: unknown, options?: DataWriteOptions): Promise<void> {
    return this.run({ cmd: 'put', key, value, ...(options === undefined ? {} : { options }) });
  }

  get(key: string, options?: DataReadOptions): Promise<ReadView> {
    return this.run({ cmd: 'get', key, ...(options === undefined ? {} : { options }) });
  }

  delete(key: string, options?: DataWriteOptions): Promise<void> {
    return this.run({ cmd: 'delete', key, ...(options === undefined ? {} : { options }) });
  }

  members(): Promise<MemberView[]> {
    return this.run({ cmd: 'members' });
  }

  connections(): Promise<ConnectionView[]> {
    return this.run({ cmd: 'connections' });
  }

  /** Refuses connections to and from `ids` and closes open ones; resolves with the blocked set. */
  block(ids: readonly string[]): Promise<string[]> {
    return this.run({ cmd: 'block', peers: ids });
  }

  /** Allows `ids` again (all when omitted). */
  unblock(ids?: readonly string[]): Promise<string[]> {
    return this.run({ cmd: 'unblock', ...(ids === undefined ? {} : { peers: ids }) });
  }
}
