/**
 * The page a browser test peer runs in: starts a real `@tessera/peer`
 * (browser entry: WebSockets, WebRTC, IndexedDB) and exposes it to the
 * Playwright fixture as `window.tesseraHarness`.
 */
import { createPeer, type Peer } from '@tessera/peer';
import { openIndexedDbStore, openMemoryStore, type Store } from '@tessera/storage';
import { PeerCommands } from '../peer-commands.ts';
import { WriteQueue } from '../write-queue.ts';
import type { ArrivedWrite, HarnessApi } from './api.ts';

let peer: Peer | undefined;
let store: Store | undefined;
let commands: PeerCommands | undefined;
let queue: WriteQueue | undefined;
let arrivalPrefix: string | undefined;
let arrivals: ArrivedWrite[] = [];

function started(): { peer: Peer; commands: PeerCommands; queue: WriteQueue } {
  if (peer === undefined || commands === undefined || queue === undefined)
    throw new Error('harness peer not started');
  return { peer, commands, queue };
}

const api: HarnessApi = {
  async start(config) {
    if (peer !== undefined) throw new Error('harness peer already started');
    store =
      config.storage === 'indexeddb' ? await openIndexedDbStore(config.idbName) : await openMemoryStore();
    peer = await createPeer({
      storage: store,
      cluster: config.cluster,
      bootstrap: config.bootstrap,
      role: config.role,
      memberDialing: { intervalMs: 500 },
      bootstrapRetry: { delayMsMin: 100, delayMsMax: 1000 },
      ...(config.timing === undefined ? {} : { timing: config.timing }),
      ...(config.replication === undefined ? {} : { replication: config.replication }),
      ...(config.replicationFactor === undefined ? {} : { replicationFactor: config.replicationFactor }),
    });
    // The peer's change events: each fires once this replica durably holds a new version of a key.
    peer.watch((change) => {
      if (arrivalPrefix === undefined || !change.keyText?.startsWith(arrivalPrefix)) return;
      arrivals.push({ key: change.keyText, atMs: performance.timeOrigin + performance.now() });
    });
    commands = new PeerCommands(peer);
    queue = new WriteQueue(peer);
    document.getElementById('status')?.replaceChildren(`peer ${peer.id}`);
    return { id: peer.id, multiaddrs: peer.multiaddrs };
  },
  run: (command) => started().commands.run(command),
  async queuedPut(key, value, options) {
    const { queued } = await started().queue.put(key, value, options);
    return { queued };
  },
  queuedWrites: () => started().queue.pending,
  watchArrivals(prefix) {
    arrivalPrefix = prefix;
    arrivals = [];
  },
  takeArrivals() {
    const taken = arrivals;
    arrivals = [];
    return taken;
  },
  async timedPuts(prefix, count, options, gapMs = 0) {
    const { peer } = started();
    const puts = [];
    for (let i = 0; i < count; i++) {
      const key = `${prefix}${i}`;
      const startMs = performance.timeOrigin + performance.now();
      await peer.put(key, i, options);
      puts.push({ key, startMs, ackMs: performance.timeOrigin + performance.now() });
      if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
    return puts;
  },
  async stop() {
    queue?.close();
    await peer?.stop();
    await store?.close();
    peer = undefined;
    store = undefined;
  },
};

window.tesseraHarness = api;
document.getElementById('status')?.replaceChildren('ready');
