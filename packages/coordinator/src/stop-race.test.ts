/**
 * A state publish that is mid-way (reading the store's size estimate) when
 * the coordinator stops must not broadcast afterwards: the libp2p network
 * throws once stopped, and the publish's promise is ignored by the timer
 * that started it, so a throw there was an unhandled rejection that ended
 * the process (seen when the OrbitDB benchmark stopped its Tessera peers).
 */
import { openMemoryStore, type Store } from '@tessera/storage';
import { afterEach, expect, it } from 'vitest';
import { createCoordinator } from './coordinator.ts';
import type { Network } from './env.ts';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
process.on('unhandledRejection', onUnhandled);
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

it('a publish in flight when the coordinator stops sends nothing after the exiting state', async () => {
  let stopped = false;
  const sent: string[] = [];
  const network: Network = {
    selfId: 'self',
    broadcast(data) {
      if (stopped) throw new Error('the peer is stopped');
      sent.push(new TextDecoder().decode(data).includes('exiting') ? 'exiting' : 'state');
    },
    onBroadcast() {},
    request: () => Promise.reject(new Error('no peers')),
    onRequest() {},
    connectedPeers: () => [],
  };
  const memory = await openMemoryStore();
  let gate: Promise<void> | null = null;
  let release = () => {};
  let estimating = () => {};
  const estimateStarted = new Promise<void>((resolve) => {
    estimating = resolve;
  });
  const estimateSize = async () => {
    if (gate !== null) {
      estimating();
      await gate;
    }
    return memory.estimateSize();
  };
  // The memory store with a gated estimateSize (methods bound: the store keeps private fields).
  const store = new Proxy(memory, {
    get(target, name) {
      if (name === 'estimateSize') return estimateSize;
      const value = Reflect.get(target, name);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Store;
  const coordinator = createCoordinator({
    network,
    store,
    cluster: 'c',
    role: 'owner',
    random: { next: () => 0.5 },
    timers: {
      now: () => Date.now(),
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    },
    timing: { statePeriodMs: 20 },
  });
  await coordinator.start();
  gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  await estimateStarted; // the next periodic publish is now waiting on the estimate
  const before = sent.length;
  await coordinator.stop();
  expect(sent.slice(before)).toEqual(['exiting']);
  stopped = true;
  release();
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(sent.slice(before)).toEqual(['exiting']);
  expect(unhandled).toEqual([]);
});
