/**
 * `tessera token`: credentials signed with the cluster key file's private
 * key (docs/security.md). `issue` prints a client capability token,
 * `member` a peer's membership certificate; nothing else is printed, so
 * the output can go straight into a variable or a file.
 *
 *   tessera token issue --data-dir ./peer-1 --db shop --read --write --expires 1h
 *   tessera token member --cluster-key-file key.json --peer-id 12D3Koo… --role owner --expires 30d
 */
import { resolve } from 'node:path';
import { certificateToText, issueCertificate, issueToken } from '@tessera/auth';
import { loadOrCreateClusterKeyFile, readClusterKeyFile } from '../auth/cluster-key-file.ts';
import { type FlagSpecs, formatFlags, parseArgs } from './args.ts';
import { UsageError } from './errors.ts';

const COMMON: FlagSpecs = {
  'data-dir': { type: 'string', value: '<path>', description: 'read <path>/cluster-key.json' },
  'cluster-key-file': {
    type: 'string',
    value: '<path>',
    description: 'the cluster key file (with its private key)',
  },
  cluster: { type: 'string', value: '<name>', description: 'cluster name (default tessera)' },
  expires: {
    type: 'string',
    value: '<n>s|m|h|d',
    description: 'lifetime (default 1h for tokens, 365d for members)',
  },
};

const ISSUE_FLAGS: FlagSpecs = {
  ...COMMON,
  db: { type: 'list', value: '<name>', description: "database the token opens; repeat, or '*' for all" },
  read: { type: 'boolean', description: 'allow reads' },
  write: { type: 'boolean', description: 'allow writes' },
  subject: { type: 'string', value: '<name>', description: 'who the token is for (default client)' },
};

const MEMBER_FLAGS: FlagSpecs = {
  ...COMMON,
  'peer-id': { type: 'string', value: '<id>', description: "the peer's libp2p id (tessera start prints it)" },
  role: { type: 'string', value: 'owner|client', description: 'member role (default owner)' },
};

export const TOKEN_HELP = `Usage: tessera token keygen --cluster-key-file <path>
       tessera token issue  --db <name> [--read] [--write] [--expires 1h] (--data-dir <dir> | --cluster-key-file <path>)
       tessera token member --peer-id <id> [--role owner] [--expires 365d] (--data-dir <dir> | --cluster-key-file <path>)

issue: prints a capability token for RESP (AUTH <token>) and HTTP (Authorization: Bearer <token>).
${formatFlags(ISSUE_FLAGS)}

keygen: creates the key file if missing (private key inside, mode 0600) and prints
{"publicKey": …}, the public-only key file to give peers.

member: prints a membership certificate for a peer started with --certificate-file.
${formatFlags(MEMBER_FLAGS)}
`;

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Longest lifetime a credential may be issued for, ms (ten years). */
export const CREDENTIAL_TTL_MS_MAX = 3650 * 86_400_000;

/** Parses `30s`, `15m`, `1h`, `7d`. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,9})([smhd])$/.exec(text);
  if (match === null)
    throw new UsageError(`--expires must look like 30s, 15m, 1h or 7d, got ${JSON.stringify(text)}`);
  const ms = Number(match[1]) * UNIT_MS[match[2]!]!;
  if (ms <= 0 || ms > CREDENTIAL_TTL_MS_MAX) throw new UsageError('--expires must be between 1s and 3650d');
  return ms;
}

async function signerOf(flags: Map<string, string | string[] | true>, cwd: string, env: NodeJS.ProcessEnv) {
  const file = flags.get('cluster-key-file') ?? env.TESSERA_CLUSTER_KEY_FILE;
  const dataDir = flags.get('data-dir') ?? env.TESSERA_DATA_DIR;
  if (typeof file !== 'string' && typeof dataDir !== 'string') {
    throw new UsageError('name the cluster key: --data-dir <dir> or --cluster-key-file <path>');
  }
  const path =
    typeof file === 'string' ? resolve(cwd, file) : resolve(cwd, dataDir as string, 'cluster-key.json');
  let key: Awaited<ReturnType<typeof readClusterKeyFile>>;
  try {
    key = await readClusterKeyFile(path);
  } catch (error) {
    throw new UsageError(`cannot read cluster key file ${path}: ${(error as Error).message}`);
  }
  if (key.signer === undefined)
    throw new UsageError(`cluster key file ${path} has no private key; issue where it is kept`);
  return key.signer;
}

const text = (flags: Map<string, string | string[] | true>, name: string, fallback: string): string => {
  const value = flags.get(name);
  return typeof value === 'string' ? value : fallback;
};

/** Runs `tessera token …`; writes the credential to `out`. */
export async function runToken(
  argv: readonly string[],
  out: (line: string) => void = (line) => process.stdout.write(line),
  cwd = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    out(TOKEN_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'keygen') {
    const { flags } = parseArgs(rest, { 'cluster-key-file': COMMON['cluster-key-file']! });
    const path = flags.get('cluster-key-file');
    if (typeof path !== 'string') throw new UsageError('name the key file: --cluster-key-file <path>');
    const key = await loadOrCreateClusterKeyFile(resolve(cwd, path));
    out(`${JSON.stringify({ publicKey: key.verifier.publicKeyText })}\n`);
    return 0;
  }
  if (sub !== 'issue' && sub !== 'member') {
    throw new UsageError(`unknown token command ${JSON.stringify(sub)} (keygen, issue, member)`);
  }
  const { flags, positionals } = parseArgs(rest, sub === 'issue' ? ISSUE_FLAGS : MEMBER_FLAGS);
  if (flags.has('help')) {
    out(TOKEN_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  // The same environment as `tessera start`, so `tessera token issue --db shop …` works beside it.
  const cluster = text(flags, 'cluster', env.TESSERA_CLUSTER || 'tessera');
  if (sub === 'issue') {
    const dbs = (flags.get('db') as string[] | undefined) ?? [];
    if (dbs.length === 0) throw new UsageError("name a database: --db <name> (or --db '*')");
    const read = flags.has('read');
    const write = flags.has('write');
    if (!read && !write) throw new UsageError('a token needs --read, --write or both');
    const ttlMs = parseDuration(text(flags, 'expires', '1h'));
    const signer = await signerOf(flags, cwd, env);
    const token = await issueToken(signer, {
      cluster,
      subject: text(flags, 'subject', 'client'),
      databases: dbs.includes('*') ? '*' : dbs,
      read,
      write,
      ttlMs,
    });
    out(`${token}\n`);
    return 0;
  }
  const peerId = flags.get('peer-id');
  if (typeof peerId !== 'string') throw new UsageError('name the peer: --peer-id <id>');
  const role = text(flags, 'role', 'owner');
  if (role !== 'owner' && role !== 'client') throw new UsageError('--role must be owner or client');
  const ttlMs = parseDuration(text(flags, 'expires', '365d'));
  const signer = await signerOf(flags, cwd, env);
  out(`${certificateToText(await issueCertificate(signer, { cluster, peerId, role, ttlMs }))}\n`);
  return 0;
}
