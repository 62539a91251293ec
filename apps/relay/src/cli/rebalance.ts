/**
 * `tessera rebalance`: asks a running peer (its HTTP API) to propose a
 * rebalanced slot map, then follows `GET /v1/status` until a newer map is
 * committed, printing the slot-copy jobs as progress bars.
 */
import { type FlagSpecs, formatFlags, parseArgs } from './args.ts';
import { UsageError } from './errors.ts';
import { bar } from './progress.ts';

export const REBALANCE_FLAGS: FlagSpecs = {
  http: {
    type: 'string',
    value: '<host:port|url>',
    description: "the peer's HTTP API (default 127.0.0.1:8080) [TESSERA_HTTP]",
  },
  replicas: { type: 'integer', value: '<n>', description: 'owners per slot (default: the cluster N)' },
  force: { type: 'boolean', description: 'propose even without a majority of the current owners in view' },
  'wait-ms': {
    type: 'integer',
    value: '<ms>',
    description: 'wait this long for the new map to commit (default 120000; 0 = do not wait)',
  },
};

export const REBALANCE_HELP = `Usage: tessera rebalance [options]

Asks a running peer to propose a balanced slot map (each up owner within one
slot of an even share, minimal movement), then waits for it to commit while
new owners copy the slots they gain. Joining is \`tessera join --bootstrap …\`
and leaving is \`tessera leave\`: the slot map follows both on its own;
rebalance is for an explicit re-proposal.

Options:
${formatFlags(REBALANCE_FLAGS)}
`;

interface StatusBody {
  slots: { epoch?: number };
  jobs: { id: string; kind: string; status: string; progress: { done: number; total: number } }[];
}

/** Poll period of the status while waiting for the commit. */
const POLL_MS = 500;
/** Each HTTP call gives up after this long. */
const REQUEST_TIMEOUT_MS = 10_000;

export async function runRebalance(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const { flags, positionals } = parseArgs(argv, REBALANCE_FLAGS);
  if (flags.has('help')) {
    process.stdout.write(REBALANCE_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const target = (flags.get('http') as string | undefined) ?? env.TESSERA_HTTP ?? '127.0.0.1:8080';
  const number = (name: string, fallback: string, min: number) => {
    const text = (flags.get(name) as string | undefined) ?? fallback;
    if (!/^\d+$/.test(text) || Number(text) < min)
      throw new UsageError(`--${name} must be an integer >= ${min}`);
    return Number(text);
  };
  const waitMs = number('wait-ms', '120000', 0);
  const replicas = flags.has('replicas') ? number('replicas', '', 1) : undefined;
  let base: URL;
  try {
    base = new URL(target.includes('://') ? target : `http://${target}`);
  } catch {
    throw new UsageError(`--http must be host:port or a URL, got ${target}`);
  }
  const call = async (path: string, init?: RequestInit) => {
    const response = await fetch(new URL(path, base), {
      ...init,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  try {
    const before = (await call('/v1/status')).body as unknown as StatusBody;
    const epoch = before.slots.epoch ?? 0;
    const asked = await call('/v1/cluster/rebalance', {
      method: 'POST',
      body: JSON.stringify({
        ...(replicas === undefined ? {} : { replicas }),
        ...(flags.has('force') ? { force: true } : {}),
      }),
    });
    if (asked.status >= 400) {
      process.stderr.write(`tessera: rebalance refused (${asked.status}): ${String(asked.body.message)}\n`);
      return 1;
    }
    if (asked.body.proposal === null) {
      process.stdout.write(`slot map already balanced (epoch ${epoch})\n`);
      return 0;
    }
    process.stdout.write(`proposed ${String(asked.body.proposal)} on epoch ${epoch}\n`);
    if (waitMs === 0) return 0;
    const deadline = Date.now() + waitMs;
    const shown = new Map<string, string>();
    for (;;) {
      const status = (await call('/v1/status')).body as unknown as StatusBody;
      for (const job of status.jobs) {
        if (job.kind !== 'slotcopy' && job.kind !== 'slotmap') continue;
        const line = `  ${job.kind} ${job.id} ${job.status} ${bar(job.progress.done, job.progress.total)}`;
        if (shown.get(job.id) !== line) process.stdout.write(`${line}\n`);
        shown.set(job.id, line);
      }
      if ((status.slots.epoch ?? 0) > epoch) {
        process.stdout.write(`committed epoch ${status.slots.epoch}\n`);
        return 0;
      }
      if (Date.now() > deadline) {
        process.stderr.write(
          `tessera: no new slot map committed within ${waitMs} ms (still epoch ${epoch})\n`,
        );
        return 1;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } catch (error) {
    process.stderr.write(`tessera: cannot reach ${base.origin}: ${(error as Error).message}\n`);
    return 1;
  }
}
