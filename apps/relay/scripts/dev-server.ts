/**
 * Runs the RESP server over an in-memory local backend until interrupted:
 *   node --conditions=source apps/relay/scripts/dev-server.ts [port]
 * A stand-in for `tessera start` until the CLI exists. Prints the port.
 */
import { openLocalBackend, startRespServer } from '@tessera/relay';
import { openMemoryStore } from '@tessera/storage';

const port = Number(process.argv[2] ?? 0);
const store = await openMemoryStore();
const backend = await openLocalBackend({ store });
const server = await startRespServer({ backend, port, onError: (e) => console.error('relay error:', e) });
console.log(server.port);

async function stop() {
  await server.close();
  await backend.close();
  await store.close();
  process.exit(0);
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
