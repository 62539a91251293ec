/**
 * A Node peer in its own process, driven by the fixture. Run as
 *   node --conditions=source node-peer-process.ts '<json config>'
 * Speaks @tessera/peer/testing's line protocol (`{"event":"ready",…}` first,
 * then `{"event":"result",id,ok,…}` per command), so `spawnPeerProcess`
 * controls it; the commands are `PeerCommands`' (blocking peers included).
 * It exits when stdin closes, so it never outlives the test that spawned it.
 */
import { createInterface } from 'node:readline';
import type { CoordinatorTiming } from '@tessera/coordinator';
import { createPeer, type PeerReplicationOptions, type PeerSlotMapOptions } from '@tessera/peer';
import { openMemoryStore, type Store } from '@tessera/storage';
import { openFsStore } from '@tessera/storage-fs';
import { type PeerCommand, PeerCommands } from './peer-commands.ts';

/** What the fixture passes as the first argument. */
export interface NodePeerConfig {
  readonly cluster: string;
  readonly bootstrap?: readonly string[];
  readonly listen?: readonly string[];
  /** Filesystem store directory, kept across restarts (same id); memory store when omitted. */
  readonly dataDir?: string;
  readonly timing?: Partial<CoordinatorTiming>;
  readonly replication?: Omit<PeerReplicationOptions, 'slots'>;
  readonly replicationFactor?: number;
  readonly slotMap?: PeerSlotMapOptions;
}

const config = JSON.parse(process.argv[2] ?? '{}') as NodePeerConfig;
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
  ...(config.replication === undefined ? {} : { replication: config.replication }),
  ...(config.replicationFactor === undefined ? {} : { replicationFactor: config.replicationFactor }),
  ...(config.slotMap === undefined ? {} : { slotMap: config.slotMap }),
});
const commands = new PeerCommands(peer);

function answer(id: number, command: PeerCommand): void {
  commands.run(command).then(
    (result) => out({ event: 'result', id, ok: true, result }),
    (err: unknown) => {
      const error = err as { name?: string; code?: string; message?: string };
      out({
        event: 'result',
        id,
        ok: false,
        error: { name: error.name, code: error.code, message: error.message },
      });
    },
  );
}

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
    let command: PeerCommand & { id?: number };
    try {
      command = JSON.parse(line) as PeerCommand & { id?: number };
    } catch {
      return;
    }
    if (typeof command.id === 'number') answer(command.id, command);
    else if ((command as { cmd: string }).cmd === 'stop') void shutdown();
  })
  .on('close', () => void shutdown());

out({ event: 'ready', id: peer.id, multiaddrs: peer.multiaddrs });
