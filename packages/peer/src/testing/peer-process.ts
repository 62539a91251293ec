/**
 * A Node peer in its own process, for tests that kill real processes and
 * for the browser tests' relay. Run as
 *   node --conditions=source peer-process.ts '<json config>'
 * It prints one JSON object per line on stdout (`{"event":"ready",…}` first)
 * and takes one JSON command per line on stdin. It exits when stdin closes,
 * so it never outlives the test process that spawned it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { openMemoryStore } from '@tessera/storage';
import { IDENTITY_KEY } from '../identity.ts';
import { createPeer } from '../index.ts';

/** What the spawning test passes as the first argument. */
export interface PeerProcessConfig {
  readonly cluster: string;
  readonly bootstrap?: readonly string[];
  readonly listen?: readonly string[];
  /** File that keeps the identity record across restarts. */
  readonly identityFile?: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as PeerProcessConfig;
const out = (value: object): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};

const storage = await openMemoryStore();
if (config.identityFile !== undefined) {
  const saved = await readFile(config.identityFile).catch(() => undefined);
  if (saved !== undefined) await storage.put(IDENTITY_KEY, new Uint8Array(saved));
}
const peer = await createPeer({
  storage,
  cluster: config.cluster,
  ...(config.bootstrap === undefined ? {} : { bootstrap: config.bootstrap }),
  ...(config.listen === undefined ? {} : { listen: config.listen }),
  bootstrapRetry: { delayMsMin: 100, delayMsMax: 1000 },
});
if (config.identityFile !== undefined) {
  const record = await storage.get(IDENTITY_KEY);
  if (record !== undefined) await writeFile(config.identityFile, record);
}

peer.network.onRequest(async (data, from) => {
  out({ event: 'request', from, text: new TextDecoder().decode(data) });
  return data;
});
peer.network.onBroadcast((data, from) =>
  out({ event: 'broadcast', from, text: new TextDecoder().decode(data) }),
);

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
    const command = JSON.parse(line) as { cmd: string; text?: string };
    if (command.cmd === 'broadcast') peer.network.broadcast(new TextEncoder().encode(command.text ?? ''));
    if (command.cmd === 'connected') out({ event: 'connected', peers: peer.network.connectedPeers() });
    if (command.cmd === 'stop') void shutdown();
  })
  .on('close', () => void shutdown());

out({ event: 'ready', id: peer.id, multiaddrs: peer.multiaddrs });
