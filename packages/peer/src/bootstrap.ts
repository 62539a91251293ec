/**
 * Keeps this peer connected to its bootstrap addresses. libp2p 3 has no
 * autodialer, so each address gets its own retry loop with exponential,
 * jittered backoff, and is redialed when its connection drops.
 */
import type { Logger, PeerId } from '@libp2p/interface';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import { InvalidArgumentError } from '@tessera/core';
import type { TesseraLibp2p } from './libp2p-services.ts';

/** Backoff of bootstrap dials, in milliseconds. */
export interface BootstrapRetry {
  /** First retry delay after a failed dial. */
  readonly delayMsMin: number;
  /** Largest retry delay; also how often a connected address is re-checked. */
  readonly delayMsMax: number;
  /** Timeout of one dial. */
  readonly dialTimeoutMs: number;
}

export const BOOTSTRAP_RETRY_DEFAULT: BootstrapRetry = {
  delayMsMin: 250,
  delayMsMax: 10_000,
  dialTimeoutMs: 10_000,
};

/** Most bootstrap addresses one peer keeps dialing. */
export const BOOTSTRAP_ADDRESSES_MAX = 64;

interface Target {
  readonly address: Multiaddr;
  peer: PeerId | undefined;
  delayMs: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  dialing: AbortController | undefined;
}

/** Parses bootstrap addresses, throwing `InvalidArgumentError` on a bad one. */
export function parseBootstrap(addresses: readonly string[]): Multiaddr[] {
  if (addresses.length > BOOTSTRAP_ADDRESSES_MAX) {
    throw new InvalidArgumentError(`at most ${BOOTSTRAP_ADDRESSES_MAX} bootstrap addresses`);
  }
  return addresses.map((text) => {
    try {
      return multiaddr(text);
    } catch (err) {
      throw new InvalidArgumentError(`bad bootstrap multiaddr ${text}: ${String(err)}`);
    }
  });
}

export class Bootstrapper {
  readonly #node: TesseraLibp2p;
  readonly #retry: BootstrapRetry;
  readonly #log: Logger;
  readonly #targets: Target[];
  #stopped = false;
  readonly #onDisconnect = (event: CustomEvent<PeerId>): void => {
    for (const target of this.#targets) {
      if (target.peer?.equals(event.detail) === true) this.#schedule(target, target.delayMs);
    }
  };

  constructor(node: TesseraLibp2p, addresses: readonly Multiaddr[], retry: BootstrapRetry) {
    this.#node = node;
    this.#retry = retry;
    this.#log = node.logger.forComponent('tessera:bootstrap');
    this.#targets = addresses.map((address) => ({
      address,
      peer: undefined,
      delayMs: retry.delayMsMin,
      timer: undefined,
      dialing: undefined,
    }));
  }

  start(): void {
    this.#node.addEventListener('peer:disconnect', this.#onDisconnect);
    for (const target of this.#targets) this.#schedule(target, 0);
  }

  stop(): void {
    this.#stopped = true;
    this.#node.removeEventListener('peer:disconnect', this.#onDisconnect);
    for (const target of this.#targets) {
      clearTimeout(target.timer);
      target.timer = undefined;
      target.dialing?.abort();
    }
  }

  #schedule(target: Target, delayMs: number): void {
    if (this.#stopped) return;
    clearTimeout(target.timer);
    target.timer = setTimeout(() => {
      target.timer = undefined;
      void this.#attempt(target);
    }, delayMs);
  }

  async #attempt(target: Target): Promise<void> {
    if (this.#stopped || target.dialing !== undefined) return;
    if (target.peer !== undefined && this.#node.getConnections(target.peer).length > 0) {
      this.#schedule(target, this.#retry.delayMsMax);
      return;
    }
    const controller = new AbortController();
    target.dialing = controller;
    const timeout = setTimeout(() => controller.abort(), this.#retry.dialTimeoutMs);
    try {
      const connection = await this.#node.dial(target.address, { signal: controller.signal });
      target.peer = connection.remotePeer;
      target.delayMs = this.#retry.delayMsMin;
      this.#schedule(target, this.#retry.delayMsMax);
    } catch (err) {
      this.#log('dial %a failed, retrying in %d ms: %e', target.address, target.delayMs, err);
      // Jitter keeps a restarted cluster from redialing in lockstep.
      const delayMs = target.delayMs * (0.75 + Math.random() * 0.5);
      target.delayMs = Math.min(target.delayMs * 2, this.#retry.delayMsMax);
      this.#schedule(target, delayMs);
    } finally {
      clearTimeout(timeout);
      target.dialing = undefined;
    }
  }
}
