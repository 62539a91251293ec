/** `tessera status`: asks a running peer's HTTP API for members, slot coverage and jobs. */
import { type FlagSpecs, formatFlags, parseArgs } from './args.ts';
import { UsageError } from './errors.ts';

export const STATUS_FLAGS: FlagSpecs = {
  http: {
    type: 'string',
    value: '<host:port|url>',
    description: "the peer's HTTP API (default 127.0.0.1:8080) [TESSERA_HTTP]",
  },
  json: { type: 'boolean', description: 'print the raw JSON' },
  'timeout-ms': { type: 'integer', value: '<ms>', description: 'give up after this long (default 5000)' },
};

export const STATUS_HELP = `Usage: tessera status [options]

Shows a running peer's view of the cluster: members with status, role and
address; slot coverage; under-replicated slots; jobs.

Options:
${formatFlags(STATUS_FLAGS)}
`;

interface StatusBody {
  peer_id: string;
  cluster: string;
  members: { id: string; status: string; liveness: string; role: string; addresses: string[] }[];
  slots: {
    source: string;
    covered?: number;
    total?: number;
    ranges?: { start: number; end: number; owners: string[] }[];
  };
  under_replicated: { count: number; slots: number[] } | string;
  jobs: { id: string; kind: string; status: string; progress: { done: number; total: number } }[];
}

function bar(done: number, total: number, width = 20): string {
  if (total === 0) return `[${'?'.repeat(width)}]`;
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

export function formatStatus(s: StatusBody): string {
  const out: string[] = [`cluster ${s.cluster}, asked peer ${s.peer_id}`, '', 'members:'];
  for (const m of s.members) {
    const address =
      m.addresses.find((a) => a.includes('/tcp/') && !a.includes('/ws')) ?? m.addresses[0] ?? '-';
    out.push(
      `  ${m.id}  ${m.status.padEnd(11)} ${m.liveness.padEnd(7)} ${m.role.padEnd(6)} ${address}${m.id === s.peer_id ? '  (this peer)' : ''}`,
    );
  }
  out.push('');
  if (s.slots.covered === undefined) out.push(`slots: ${s.slots.source}`);
  else {
    out.push(`slots: ${s.slots.covered}/${s.slots.total} covered (${s.slots.source})`);
    for (const r of s.slots.ranges ?? []) out.push(`  ${r.start}-${r.end}  ${r.owners.join(', ')}`);
  }
  out.push(
    typeof s.under_replicated === 'string'
      ? `under-replicated slots: ${s.under_replicated}`
      : `under-replicated slots: ${s.under_replicated.count}`,
  );
  out.push(s.jobs.length === 0 ? 'jobs: none' : 'jobs:');
  for (const j of s.jobs)
    out.push(`  ${j.id} ${j.kind} ${j.status} ${bar(j.progress.done, j.progress.total)}`);
  return `${out.join('\n')}\n`;
}

export async function runStatus(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const { flags, positionals } = parseArgs(argv, STATUS_FLAGS);
  if (flags.has('help')) {
    process.stdout.write(STATUS_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const target = (flags.get('http') as string | undefined) ?? env.TESSERA_HTTP ?? '127.0.0.1:8080';
  const timeoutText = (flags.get('timeout-ms') as string | undefined) ?? '5000';
  if (!/^\d+$/.test(timeoutText) || Number(timeoutText) < 1)
    throw new UsageError('--timeout-ms must be a positive integer');
  let url: URL;
  try {
    url = new URL('/v1/status', target.includes('://') ? target : `http://${target}`);
  } catch {
    throw new UsageError(`--http must be host:port or a URL, got ${target}`);
  }
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(Number(timeoutText)) });
  } catch (error) {
    process.stderr.write(`tessera: cannot reach ${url.origin}: ${(error as Error).message}\n`);
    return 1;
  }
  if (!response.ok) {
    process.stderr.write(`tessera: ${url} answered ${response.status}\n`);
    return 1;
  }
  const body = (await response.json()) as StatusBody;
  process.stdout.write(flags.has('json') ? `${JSON.stringify(body)}\n` : formatStatus(body));
  return 0;
}
