/**
 * `tessera start` configuration: defaults, then a JSON config file, then
 * TESSERA_* environment variables, then flags (each later source wins).
 * Everything is checked here, before anything opens a port or a file, and
 * every mistake is a one-line `UsageError`.
 */
import { constants } from 'node:fs';
import { access, mkdir, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type FlagSpecs, type ParsedArgs, parseArgs, splitList } from './args.ts';
import { UsageError } from './errors.ts';

export type Role = 'owner' | 'client';
export type ConsistencyName = 'one' | 'quorum' | 'all';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Everything `tessera start` runs with. Ports: 0 picks a free one. */
export interface StartConfig {
  readonly dataDir: string;
  readonly cluster: string;
  readonly role: Role;
  /** Interface every listener binds to. */
  readonly host: string;
  /** libp2p TCP. */
  readonly p2pPort: number;
  /** libp2p WebSockets (browsers dial this). */
  readonly wsPort: number;
  readonly respPort: number;
  readonly httpPort: number;
  readonly metricsPort: number;
  readonly bootstrap: readonly string[];
  readonly replicationFactor: number;
  readonly consistency: ConsistencyName;
  /** RESP data path: `replicated` (peer.put/get/delete, the default) or `local` (this peer's store only, single-node). */
  readonly backend: 'replicated' | 'local';
  readonly logLevel: LogLevel;
  /** Print the startup summary as one JSON line on stdout. */
  readonly json: boolean;
  /** Cluster membership: `on` (default) needs a cluster key; `off` lets any peer join (tests only). */
  readonly auth: 'on' | 'off';
  /** The cluster key file; default `<dataDir>/cluster-key.json`, created on first start. */
  readonly clusterKeyFile: string;
  /** This peer's membership certificate file (base64url text), when the key file has no private key. */
  readonly certificateFile?: string;
  /** Whether RESP/HTTP clients and non-member peers need a capability token (default off: loopback laptop). */
  readonly clientAuth: 'on' | 'off';
  /** Operations per second per database on RESP and HTTP; 0 (default) = no limit. */
  readonly rateLimit: number;
  /** Burst on top of `rateLimit`; default 2 × rateLimit. */
  readonly rateBurst: number;
  /** Where the config file was read from, if any. */
  readonly configFile?: string;
}

export const START_DEFAULTS = {
  cluster: 'tessera',
  role: 'owner',
  host: '127.0.0.1',
  p2pPort: 4001,
  wsPort: 4002,
  respPort: 6379,
  httpPort: 8080,
  metricsPort: 9464,
  bootstrap: [] as string[],
  replicationFactor: 3,
  consistency: 'quorum',
  backend: 'replicated',
  logLevel: 'info',
  json: false,
  auth: 'on',
  clientAuth: 'off',
  rateLimit: 0,
} as const;

export const START_FLAGS: FlagSpecs = {
  'data-dir': { type: 'string', value: '<path>', description: 'where the peer keeps its data (required)' },
  config: {
    type: 'string',
    value: '<file.json>',
    description: 'JSON config file (keys as in StartConfig: dataDir, respPort, …)',
  },
  cluster: {
    type: 'string',
    value: '<name>',
    description: `cluster name (default ${START_DEFAULTS.cluster})`,
  },
  role: {
    type: 'string',
    value: 'owner|client',
    description: 'owner holds slots, client routes (default owner)',
  },
  host: {
    type: 'string',
    value: '<ip>',
    description: `interface to listen on (default ${START_DEFAULTS.host})`,
  },
  'p2p-port': {
    type: 'integer',
    value: '<port>',
    description: `libp2p TCP port, 0 = any free (default ${START_DEFAULTS.p2pPort})`,
  },
  'ws-port': {
    type: 'integer',
    value: '<port>',
    description: `libp2p WebSockets port (default ${START_DEFAULTS.wsPort})`,
  },
  'resp-port': {
    type: 'integer',
    value: '<port>',
    description: `RESP (Redis protocol) port (default ${START_DEFAULTS.respPort})`,
  },
  'http-port': {
    type: 'integer',
    value: '<port>',
    description: `HTTP API port (default ${START_DEFAULTS.httpPort})`,
  },
  'metrics-port': {
    type: 'integer',
    value: '<port>',
    description: `Prometheus /metrics port (default ${START_DEFAULTS.metricsPort})`,
  },
  bootstrap: {
    type: 'list',
    value: '<multiaddr>',
    description: 'peer to join through; repeat or comma-separate',
  },
  'replication-factor': {
    type: 'integer',
    value: '<1-10>',
    description: 'default N for new databases (default 3)',
  },
  consistency: {
    type: 'string',
    value: 'one|quorum|all',
    description: 'default consistency (default quorum)',
  },
  backend: {
    type: 'string',
    value: 'replicated|local',
    description:
      'RESP data path: replicated across the cluster (default), or local = this peer only (single-node)',
  },
  'log-level': {
    type: 'string',
    value: '<level>',
    description: 'fatal|error|warn|info|debug|trace|silent (default info)',
  },
  json: { type: 'boolean', description: 'print the startup summary as one JSON line' },
  auth: {
    type: 'string',
    value: 'on|off',
    description: 'cluster membership with a cluster key (default on; off lets any peer join)',
  },
  'cluster-key-file': {
    type: 'string',
    value: '<path>',
    description: 'cluster key JSON, created if missing (default <data-dir>/cluster-key.json)',
  },
  'certificate-file': {
    type: 'string',
    value: '<path>',
    description: "this peer's membership certificate, when the key file holds only the public key",
  },
  'client-auth': {
    type: 'string',
    value: 'on|off',
    description: 'RESP/HTTP clients and non-member peers need a capability token (default off)',
  },
  'rate-limit': {
    type: 'integer',
    value: '<ops/s>',
    description: 'per-database operations per second on RESP and HTTP, 0 = none (default 0)',
  },
  'rate-burst': { type: 'integer', value: '<ops>', description: 'burst above --rate-limit (default 2x)' },
};

/** The environment variable of each flag: `--resp-port` is TESSERA_RESP_PORT. */
export const START_ENV: Readonly<Record<string, string>> = Object.fromEntries(
  Object.keys(START_FLAGS)
    .filter((name) => name !== 'config')
    .map((name) => [name, `TESSERA_${name.toUpperCase().replaceAll('-', '_')}`])
    .concat([['config', 'TESSERA_CONFIG']]),
);

/** Largest config file read, bytes. */
export const CONFIG_FILE_BYTES_MAX = 1024 * 1024;
const CLUSTER_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const MULTIADDR_CHARS_MAX = 512;
const BOOTSTRAP_MAX = 64;

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** One source's raw values, keyed by flag name. */
type Raw = Map<string, unknown>;

async function readConfigFile(path: string): Promise<Raw> {
  let text: string;
  try {
    const info = await stat(path);
    if (info.size > CONFIG_FILE_BYTES_MAX)
      throw new UsageError(`config file ${path} is over ${CONFIG_FILE_BYTES_MAX} bytes`);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(
      `cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`config file ${path} must hold a JSON object`);
  }
  const byCamel = new Map(Object.keys(START_FLAGS).map((flag) => [camel(flag), flag]));
  const raw: Raw = new Map();
  for (const [key, value] of Object.entries(parsed)) {
    const flag = byCamel.get(key);
    if (flag === undefined || flag === 'config')
      throw new UsageError(`config file ${path}: unknown key "${key}"`);
    raw.set(flag, value);
  }
  return raw;
}

function fromEnv(env: Readonly<Record<string, string | undefined>>): Raw {
  const raw: Raw = new Map();
  for (const [flag, name] of Object.entries(START_ENV)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (START_FLAGS[flag]!.type === 'boolean') {
      if (!['1', 'true', '0', 'false'].includes(value))
        throw new UsageError(`${name} must be true or false, got "${value}"`);
      raw.set(flag, value === '1' || value === 'true');
    } else if (START_FLAGS[flag]!.type === 'list') raw.set(flag, splitList(value));
    else raw.set(flag, value);
  }
  return raw;
}

function fromFlags(parsed: ParsedArgs): Raw {
  return new Map(parsed.flags);
}

function where(flag: string, source: string): string {
  if (source === 'flag') return `--${flag}`;
  if (source === 'env') return START_ENV[flag]!;
  return `config key "${camel(flag)}"`;
}

function asPort(value: unknown, label: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65_535) {
    throw new UsageError(`${label} must be a port number 0..65535, got ${JSON.stringify(value)}`);
  }
  return n;
}

function asInt(value: unknown, label: string, min: number, max: number): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${label} must be an integer ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function asString(value: unknown, label: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new UsageError(`${label} must be a non-empty string`);
  return value;
}

function asOneOf<T extends string>(value: unknown, label: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${label} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

function asBootstrap(value: unknown, label: string): string[] {
  const list = typeof value === 'string' ? splitList(value) : value;
  if (!Array.isArray(list)) throw new UsageError(`${label} must be a list of multiaddrs`);
  if (list.length > BOOTSTRAP_MAX)
    throw new UsageError(`${label}: at most ${BOOTSTRAP_MAX} bootstrap addresses`);
  for (const address of list) {
    if (typeof address !== 'string' || !address.startsWith('/') || address.length > MULTIADDR_CHARS_MAX) {
      throw new UsageError(
        `${label}: ${JSON.stringify(address)} is not a multiaddr (like /ip4/10.0.0.2/tcp/4001/p2p/12D3Koo…)`,
      );
    }
    if (!/\/p2p\/[^/]+$/.test(address)) {
      throw new UsageError(`${label}: ${address} must end in /p2p/<peer id>`);
    }
  }
  return list as string[];
}

/** Reads, merges and checks the configuration of `tessera start`. Does not touch the data dir. */
export async function resolveStartConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd = process.cwd(),
): Promise<StartConfig & { readonly help: boolean }> {
  const parsed = parseArgs(argv, START_FLAGS);
  if (parsed.positionals.length > 0) {
    throw new UsageError(
      `unexpected argument ${JSON.stringify(parsed.positionals[0])} (see tessera start --help)`,
    );
  }
  const help = parsed.flags.has('help');
  const flags = fromFlags(parsed);
  const envRaw = fromEnv(env);
  const configPath =
    (flags.get('config') as string | undefined) ?? (envRaw.get('config') as string | undefined);
  const fileRaw = configPath === undefined ? new Map() : await readConfigFile(resolve(cwd, configPath));
  const sources: [string, Raw][] = [
    ['flag', flags],
    ['env', envRaw],
    ['file', fileRaw],
  ];
  const pick = (flag: string): [unknown, string] | undefined => {
    for (const [source, raw] of sources) if (raw.has(flag)) return [raw.get(flag), where(flag, source)];
    return undefined;
  };
  const get = <T>(flag: string, fallback: T, check: (value: unknown, label: string) => T): T => {
    const found = pick(flag);
    return found === undefined ? fallback : check(found[0], found[1]);
  };
  const dataDirRaw = pick('data-dir');
  if (dataDirRaw === undefined && !help) {
    throw new UsageError(`no data dir: pass --data-dir <path> or set ${START_ENV['data-dir']}`);
  }
  const config = {
    help,
    dataDir: dataDirRaw === undefined ? '' : resolve(cwd, asString(dataDirRaw[0], dataDirRaw[1])),
    cluster: get('cluster', START_DEFAULTS.cluster as string, (v, label) => {
      const name = asString(v, label);
      if (!CLUSTER_NAME.test(name))
        throw new UsageError(`${label} must be 1..64 of A-Z a-z 0-9 . _ -, got ${JSON.stringify(name)}`);
      return name;
    }),
    role: get('role', START_DEFAULTS.role as Role, (v, label) =>
      asOneOf(v, label, ['owner', 'client'] as const),
    ),
    host: get('host', START_DEFAULTS.host as string, asString),
    p2pPort: get('p2p-port', START_DEFAULTS.p2pPort as number, asPort),
    wsPort: get('ws-port', START_DEFAULTS.wsPort as number, asPort),
    respPort: get('resp-port', START_DEFAULTS.respPort as number, asPort),
    httpPort: get('http-port', START_DEFAULTS.httpPort as number, asPort),
    metricsPort: get('metrics-port', START_DEFAULTS.metricsPort as number, asPort),
    bootstrap: get('bootstrap', START_DEFAULTS.bootstrap, asBootstrap),
    replicationFactor: get('replication-factor', START_DEFAULTS.replicationFactor as number, (v, label) =>
      asInt(v, label, 1, 10),
    ),
    consistency: get('consistency', START_DEFAULTS.consistency as ConsistencyName, (v, label) =>
      asOneOf(v, label, ['one', 'quorum', 'all'] as const),
    ),
    backend: get('backend', START_DEFAULTS.backend as 'replicated' | 'local', (v, label) =>
      asOneOf(v, label, ['replicated', 'local'] as const),
    ),
    logLevel: get('log-level', START_DEFAULTS.logLevel as LogLevel, (v, label) =>
      asOneOf(v, label, [...LOG_LEVELS] as LogLevel[]),
    ),
    json: get('json', false, (v, label) => {
      if (typeof v !== 'boolean') throw new UsageError(`${label} must be true or false`);
      return v;
    }),
    auth: get('auth', START_DEFAULTS.auth as 'on' | 'off', (v, label) =>
      asOneOf(v, label, ['on', 'off'] as const),
    ),
    clusterKeyFile: '',
    ...(pick('certificate-file') === undefined
      ? {}
      : { certificateFile: resolve(cwd, get('certificate-file', '', asString)) }),
    clientAuth: get('client-auth', START_DEFAULTS.clientAuth as 'on' | 'off', (v, label) =>
      asOneOf(v, label, ['on', 'off'] as const),
    ),
    rateLimit: get('rate-limit', START_DEFAULTS.rateLimit as number, (v, label) =>
      asInt(v, label, 0, 1_000_000_000),
    ),
    rateBurst: 0,
    ...(configPath === undefined ? {} : { configFile: resolve(cwd, configPath) }),
  };
  config.clusterKeyFile = resolve(
    cwd,
    get('cluster-key-file', resolve(config.dataDir || cwd, 'cluster-key.json'), asString),
  );
  config.rateBurst = get('rate-burst', Math.max(1, 2 * config.rateLimit), (v, label) =>
    asInt(v, label, 1, 2_000_000_000),
  );
  if (config.clientAuth === 'on' && config.auth === 'off') {
    throw new UsageError('--client-auth on needs --auth on (tokens are signed by the cluster key)');
  }
  const ports: [string, number][] = [
    ['p2p-port', config.p2pPort],
    ['ws-port', config.wsPort],
    ['resp-port', config.respPort],
    ['http-port', config.httpPort],
    ['metrics-port', config.metricsPort],
  ];
  const seen = new Map<number, string>();
  for (const [name, port] of ports) {
    if (port === 0) continue;
    const other = seen.get(port);
    if (other !== undefined)
      throw new UsageError(`--${name} and --${other} are both ${port}; each listener needs its own port`);
    seen.set(port, name);
  }
  return config;
}

/** Creates the data dir if needed and checks this process can write it. */
export async function prepareDataDir(dir: string): Promise<void> {
  const existing = await stat(dir).catch(() => undefined);
  if (existing !== undefined && !existing.isDirectory())
    throw new UsageError(`data dir ${dir} is not a directory`);
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new UsageError(
      `cannot create data dir ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  const info = await stat(dir);
  if (!info.isDirectory()) throw new UsageError(`data dir ${dir} is not a directory`);
  try {
    await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new UsageError(
      `data dir ${dir} is not writable by this user (${(error as NodeJS.ErrnoException).code ?? 'EACCES'})`,
    );
  }
}
