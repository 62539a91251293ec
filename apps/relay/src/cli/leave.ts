/**
 * `tessera leave`: asks a running peer (its HTTP API) to drain its slots to
 * the other owners and stop, then follows `GET /v1/cluster/leave`, printing
 * the map's progress and the other peers' slot-map and slot-copy jobs, until
 * the peer has left and its API goes away.
 */
import { type FlagSpecs, formatFlags, parseArgs } from './args.ts';
import { UsageError } from './errors.ts';
import type { LeaveState } from './leave-control.ts';
import { bar } from './progress.ts';

export const LEAVE_FLAGS: FlagSpecs = {
  http: {
    type: 'string',
    value: '<host:port|url>',
    description: "the peer's HTTP API (default 127.0.0.1:8080) [TESSERA_HTTP]",
  },
  'wait-ms': {
    type: 'integer',
    value: '<ms>',
    description: 'give up waiting for a map without the peer after this long (default 300000)',
  },
};

export const LEAVE_HELP = `Usage: tessera leave [options]

Drains a running peer and stops it without losing an acknowledged write: the
peer announces \`leaving\`, the other owners copy its slots and commit a map
without it, and the peer process then exits 0. Progress (the map, and the
slotmap/slotcopy jobs of the other peers) is printed until it has left.
Refused (exit 1, the peer keeps serving) when fewer than N other owners are
up or the map's owners have no majority in view; a leave that sees no such
map within --wait-ms is abandoned and the peer serves on.

Options:
${formatFlags(LEAVE_FLAGS)}
`;

/** Poll period of the leave state. */
const POLL_MS = 500;
/** Each HTTP call gives up after this long. */
const REQUEST_TIMEOUT_MS = 10_000;

export async function runLeave(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const { flags, positionals } = parseArgs(argv, LEAVE_FLAGS);
  if (flags.has('help')) {
    process.stdout.write(LEAVE_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const target = (flags.get('http') as string | undefined) ?? env.TESSERA_HTTP ?? '127.0.0.1:8080';
  const waitText = (flags.get('wait-ms') as string | undefined) ?? '300000';
  if (!/^\d+$/.test(waitText) || Number(waitText) < 1)
    throw new UsageError('--wait-ms must be an integer >= 1');
  const waitMs = Number(waitText);
  let base: URL;
  try {
    base = new URL(target.includes('://') ? target : `http://${target}`);
  } catch {
    throw new UsageError(`--http must be host:port or a URL, got ${target}`);
  }
  const call = async (init?: RequestInit) => {
    const response = await fetch(new URL('/v1/cluster/leave', base), {
      ...init,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  let asked: Awaited<ReturnType<typeof call>>;
  try {
    asked = await call({ method: 'POST', body: JSON.stringify({ timeout_ms: waitMs }) });
  } catch (error) {
    process.stderr.write(`tessera: cannot reach ${base.origin}: ${(error as Error).message}\n`);
    return 1;
  }
  if (asked.status === 404) {
    process.stderr.write('tessera: this peer offers no leave (it runs with auth, or is older)\n');
    return 1;
  }
  if (asked.status >= 400) {
    process.stderr.write(`tessera: leave refused (${asked.status}): ${String(asked.body.message)}\n`);
    return 1;
  }
  let last = asked.body.leave as LeaveState;
  process.stdout.write(
    `leaving: epoch ${last.epoch}, this peer owns ${last.slots_owned} slots, the map names ${last.owners} owners\n`,
  );
  const shown = new Map<string, string>();
  let lastLine = '';
  for (;;) {
    let state: LeaveState;
    try {
      state = (await call()).body.leave as LeaveState;
    } catch (error) {
      // The API closes right after the peer stops: only a leave past its commit may end like that.
      if (last.phase === 'left' || last.phase === 'stopped') {
        const result = last.result ?? { epoch: last.epoch, owners: last.owners };
        process.stdout.write(`left: epoch ${result.epoch} names ${result.owners} owners; the peer stopped\n`);
        return 0;
      }
      process.stderr.write(
        `tessera: lost ${base.origin} while ${last.phase} (${(error as Error).message}); check \`tessera status\` on another peer\n`,
      );
      return 1;
    }
    last = state;
    for (const job of state.jobs) {
      const line = `  ${job.kind} on ${job.peer.slice(-8)} ${job.id.split('/').at(-1)} ${job.status} ${bar(job.done, job.total)}`;
      const key = `${job.peer} ${job.id}`;
      if (shown.get(key) !== line) process.stdout.write(`${line}\n`);
      shown.set(key, line);
    }
    const line = `${state.phase}: epoch ${state.epoch}, this peer owns ${state.slots_owned} slots, the map names ${state.owners} owners`;
    if (line !== lastLine) process.stdout.write(`${line}\n`);
    lastLine = line;
    if (state.phase === 'failed') {
      process.stderr.write(`tessera: leave failed, the peer keeps serving: ${state.error}\n`);
      return 1;
    }
    if (state.phase === 'serving') {
      process.stderr.write('tessera: the peer is serving again (its leave ended)\n');
      return 1;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
