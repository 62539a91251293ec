/**
 * Vitest browser commands (they run in Node) that start and stop real Node
 * peer processes for the Chromium tests: the relay a browser dials over
 * WebSockets, and stops again to show WebRTC connections outlive it.
 */
import type { BrowserCommand } from 'vitest/node';
import type { PeerProcessConfig } from './peer-process.ts';
import { type PeerProcess, spawnPeerProcess } from './peer-process-control.ts';

const processes = new Map<string, PeerProcess>();

/** Starts a Node peer process; resolves with its id and multiaddrs. */
export const startPeerProcess: BrowserCommand<
  [config: PeerProcessConfig],
  { id: string; multiaddrs: string[] }
> = async (_context, config) => {
  const peer = await spawnPeerProcess(config);
  processes.set(peer.id, peer);
  return { id: peer.id, multiaddrs: peer.multiaddrs };
};

/** Sends one JSON command line to a peer process. */
export const sendPeerProcess: BrowserCommand<[id: string, command: object], void> = (
  _context,
  id,
  command,
) => {
  processes.get(id)?.send(command);
};

/** Events a peer process printed since it started. */
export const peerProcessEvents: BrowserCommand<[id: string], object[]> = (_context, id) => [
  ...(processes.get(id)?.events ?? []),
];

/** Kills a peer process with SIGKILL (or stops it cleanly) and waits for it to exit. */
export const stopPeerProcess: BrowserCommand<[id: string, how?: 'kill' | 'stop'], void> = async (
  _context,
  id,
  how = 'kill',
) => {
  const peer = processes.get(id);
  if (peer === undefined) return;
  processes.delete(id);
  await (how === 'kill' ? peer.kill() : peer.stop());
};

/** The commands, keyed as the browser tests call them. */
export const peerProcessCommands = { startPeerProcess, sendPeerProcess, peerProcessEvents, stopPeerProcess };
