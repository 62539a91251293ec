/**
 * Spawns and controls `peer-process.ts` children from Node: used by the Node
 * tests directly and by the browser tests through Vitest browser commands.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { PeerProcessConfig } from './peer-process.ts';

const SCRIPT = fileURLToPath(new URL('./peer-process.ts', import.meta.url));

/** A line the child printed. */
export type PeerProcessEvent = { readonly event: string; readonly [field: string]: unknown };

/** A running peer process. */
export interface PeerProcess {
  readonly id: string;
  readonly multiaddrs: string[];
  readonly child: ChildProcess;
  /** Every event line printed so far (after `ready`). */
  readonly events: PeerProcessEvent[];
  send(command: object): void;
  /**
   * Sends a data-plane command (`put`, `get`, `delete`, `placement`,
   * `underReplicated`, `hintCount`) and resolves with its result; rejects
   * with an Error carrying the remote `name`, `code` and `acknowledged`.
   */
  call<T = unknown>(command: object, timeoutMs?: number): Promise<T>;
  /** Sends SIGKILL and waits for the exit. */
  kill(): Promise<void>;
  /** Asks for a clean stop and waits for the exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Spawns a peer process and resolves once it is listening. `script` is the
 * child to run (default `peer-process.ts`); another script must speak the
 * same line protocol (@tessera/testing's node peer does).
 */
export function spawnPeerProcess(
  config: PeerProcessConfig,
  // A bound, not an expectation: starting Node 24 with TypeScript sources takes seconds, far more under full-suite load.
  readyTimeoutMs = 90_000,
  script = SCRIPT,
): Promise<PeerProcess> {
  // TESSERA_PEER_NODE_ARGS adds Node flags to every peer process (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`
  // to profile a benchmark's peers; NODE_OPTIONS refuses --cpu-prof).
  const nodeArgs = (process.env.TESSERA_PEER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  const child = spawn(
    process.execPath,
    [...nodeArgs, '--conditions=source', script, JSON.stringify(config)],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  live.add(child);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child);
      resolve();
    });
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
    // TESSERA_TRACE=1: the peer process logs its coordinator and slot map (see peer-process.ts).
    if (process.env.TESSERA_TRACE) process.stderr.write(chunk);
  });
  const events: PeerProcessEvent[] = [];
  let nextCallId = 1;
  const pending = new Map<number, (event: PeerProcessEvent) => void>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`peer process not ready after ${readyTimeoutMs} ms: ${stderr}`));
    }, readyTimeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`peer process exited (${String(code)}) before ready: ${stderr}`));
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let parsed: PeerProcessEvent;
      try {
        parsed = JSON.parse(line) as PeerProcessEvent;
      } catch {
        return;
      }
      if (parsed.event === 'result') {
        pending.get(parsed.id as number)?.(parsed);
        return;
      }
      if (parsed.event !== 'ready') {
        events.push(parsed);
        return;
      }
      clearTimeout(timer);
      resolve({
        id: parsed.id as string,
        multiaddrs: parsed.multiaddrs as string[],
        child,
        events,
        send(command) {
          child.stdin?.write(`${JSON.stringify(command)}\n`);
        },
        call<T>(command: object, timeoutMs = 30_000) {
          const id = nextCallId++;
          return new Promise<T>((resolveCall, rejectCall) => {
            const callTimer = setTimeout(() => {
              pending.delete(id);
              rejectCall(
                new Error(`peer process gave no result for ${JSON.stringify(command)} in ${timeoutMs} ms`),
              );
            }, timeoutMs);
            const onExit = () => {
              clearTimeout(callTimer);
              pending.delete(id);
              rejectCall(new Error('peer process exited'));
            };
            child.once('exit', onExit);
            pending.set(id, (event) => {
              clearTimeout(callTimer);
              child.off('exit', onExit);
              pending.delete(id);
              if (event.ok) {
                resolveCall(event.result as T);
                return;
              }
              const remote = event.error as {
                name: string;
                code: string;
                message: string;
                acknowledged?: number;
              };
              rejectCall(Object.assign(new Error(remote.message), remote));
            });
            child.stdin?.write(`${JSON.stringify({ ...command, id })}\n`);
          });
        },
        async kill() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
        async stop(timeoutMs = 10_000) {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.stdin?.end();
          const force = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
          await exited;
          clearTimeout(force);
        },
      });
    });
  });
}
