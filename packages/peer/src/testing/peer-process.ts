/**
 * A Node peer in its own process, for tests that kill real processes and
 * for the browser tests' relay. Run as
 *   node --conditions=source peer-process.ts '<json config>'
 * It prints one JSON object per line on stdout (`{"event":"ready",…}` first)
 * and takes one JSON command per line on stdin. It exits when stdin closes,
 * so it never outlives the test process that spawned it.
 */
import { createInterface } from 'node:readline';
import type { CoordinatorTiming } from '@tessera/coordinator';
import { openMemoryStore, type Store } from '@tessera/storage';
import { openFsStore } from '@tessera/storage-fs';
import { createPeer } from '../index.ts';

/** What the spawning test passes as the first argument. */
export interface PeerProcessConfig {
  readonly cluster: string;
  readonly bootstrap?: readonly string[];
  readonly listen?: readonly string[];
  /** Directory of a filesystem store, kept across restarts (identity, log, incarnation); memory store when omitted. */
  readonly dataDir?: string;
  readonly timing?: Partial<CoordinatorTiming>;
}

const config = JSON.parse(process.argv[2] ?? '{}') as PeerProcessConfig;
const out = (value: object): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};

const storage: Store =
  config.dataDir === undefined ? await openMemoryStore() : await openFsStore(config.dataDir);
const peer = await createPeer({
  storage,
  cluster: config.cluster,
  ...(config.bootstrap === undefined ? {} : { bootstrap: config.bootstrap }),
  ...(config.listen === undefined ? {} : { listen: config.listen }),
  ...(config.timing === undefined ? {} : { timing: config.timing }),
  bootstrapRetry: { delayMsMin: 100, delayMsMax: 1000 },
  memberDialing: { intervalMs: 500 },
});

peer.network.onRequest(async (data, from) => {
  out({ event: 'request', from, text: new TextDecoder().decode(data) });
  return data;
});
peer.network.onBroadcast((data, from) =>
  out({ event: 'broadcast', from, text: new TextDecoder().decode(data) }),
);

/** Prints this peer's membership view and ordered log, so tests compare it with in-process peers. */
async function reportState(): Promise<void> {
  const log: { clock: number; from: string; payload: unknown }[] = [];
  for await (const message of peer.messages())
    log.push({ clock: message.clock, from: message.from, payload: message.payload });
  const members = peer.members().map((member) => ({
    id: member.id,
    status: member.status,
    liveness: member.liveness,
    incarnation: member.incarnation,
  }));
  out({ event: 'state', members, log });
}

peer.on('message', ({ message, source }) => {
  if (source !== 'local') out({ event: 'message', payload: message.payload, source });
});

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await peer.stop();
  await storage.close();
  process.exit(0);
}

createInterface({ input: process.stdin })
  .on('line', (line) => {
    const command = JSON.parse(line) as { cmd: string; text?: string; payload?: unknown };
    if (command.cmd === 'broadcast') peer.network.broadcast(new TextEncoder().encode(command.text ?? ''));
    if (command.cmd === 'connected') out({ event: 'connected', peers: peer.network.connectedPeers() });
    if (command.cmd === 'publish') {
      void peer
        .publish({ messageType: 'test', eventType: 'created', payload: command.payload ?? null })
        .then((message) => out({ event: 'published', clock: message.clock }));
    }
    if (command.cmd === 'state') void reportState();
    if (command.cmd === 'stats')
      out({ event: 'stats', network: peer.network.stats, coordinator: peer.coordinator.stats() });
    if (command.cmd === 'stop') void shutdown();
  })
  .on('close', () => void shutdown());

out({ event: 'ready', id: peer.id, multiaddrs: peer.multiaddrs });
