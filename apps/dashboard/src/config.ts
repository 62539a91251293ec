/**
 * Where the dashboard finds its cluster: the page URL
 * (`?cluster=prod&peer=/ip4/…/ws/p2p/…&peer=…`) or, when the URL names no
 * peer, a `/peers.json` served next to the app. Both are checked here and
 * nothing starts on a bad one.
 */
import type { CoordinatorTiming } from '@tessera/coordinator';
import type { PeerRole } from '@tessera/peer';
import { DashboardConfigError } from './errors.ts';

/** Cluster name used when neither the URL nor peers.json names one. */
export const CLUSTER_DEFAULT = 'tessera';
/** Most peer addresses the dashboard takes (the peer's own bootstrap bound is 64). */
export const PEER_ADDRESSES_MAX = 16;
/** Longest multiaddr accepted, in characters. */
export const ADDRESS_CHARS_MAX = 512;
/** Coordinator timing fields a URL or peers.json may set (the tab's failure detector must match the cluster's). */
export const TIMING_FIELDS = ['statePeriodMs', 'suspectAfterMs', 'downAfterMs', 'syncPeriodMs'] as const;
const TIMING_MS_MAX = 3_600_000;

/** What the dashboard runs with. */
export interface DashboardConfig {
  readonly cluster: string;
  /** Peers to attach to, tried in order; each ends in `/p2p/<peer id>`. */
  readonly peers: readonly string[];
  /** `owner` makes the tab an owner peer with IndexedDB storage. */
  readonly role: PeerRole;
  readonly timing: Partial<CoordinatorTiming>;
}

/** The `/peers.json` shape: `{ "cluster": "prod", "peers": ["/ip4/…/ws/p2p/…"], "timing": { … } }`. */
export interface PeersFile {
  readonly cluster?: string;
  readonly peers?: readonly string[];
  readonly timing?: Partial<Record<(typeof TIMING_FIELDS)[number], number>>;
}

/** The peer id at the end of a multiaddr (`…/p2p/<id>`), or undefined. */
export function peerIdOf(address: string): string | undefined {
  const parts = address.split('/');
  const at = parts.lastIndexOf('p2p');
  return at >= 0 && at === parts.length - 2 && parts[at + 1] !== '' ? parts[at + 1] : undefined;
}

function checkAddress(address: unknown): string {
  if (typeof address !== 'string' || !address.startsWith('/') || address.length > ADDRESS_CHARS_MAX) {
    throw new DashboardConfigError(`peer address must be a multiaddr starting with '/': ${String(address)}`);
  }
  if (peerIdOf(address) === undefined) {
    throw new DashboardConfigError(`peer address must end with /p2p/<peer id>: ${address}`);
  }
  return address;
}

function checkCluster(cluster: unknown): string {
  if (typeof cluster !== 'string' || cluster.length === 0 || cluster.length > 256) {
    throw new DashboardConfigError('cluster must be a name of 1..256 characters');
  }
  return cluster;
}

function checkTiming(source: (field: string) => unknown): Partial<CoordinatorTiming> {
  const timing: Record<string, number> = {};
  for (const field of TIMING_FIELDS) {
    const raw = source(field);
    if (raw === undefined || raw === null) continue;
    const value = typeof raw === 'string' ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0 || value > TIMING_MS_MAX) {
      throw new DashboardConfigError(`${field} must be a whole number of ms in 1..${TIMING_MS_MAX}`);
    }
    timing[field] = value;
  }
  return timing;
}

function checkPeers(peers: readonly unknown[]): string[] {
  if (peers.length > PEER_ADDRESSES_MAX)
    throw new DashboardConfigError(`at most ${PEER_ADDRESSES_MAX} peer addresses`);
  return [...new Set(peers.map(checkAddress))];
}

/**
 * Reads the config from a URL query; `peers` is empty when the URL names
 * none (then `fromPeersFile` supplies them). Throws `DashboardConfigError`.
 */
export function configFromQuery(search: string): DashboardConfig {
  const query = new URLSearchParams(search);
  const role = query.get('role') ?? 'client';
  if (role !== 'client' && role !== 'owner') throw new DashboardConfigError(`unknown role ${role}`);
  return {
    cluster: checkCluster(query.get('cluster') ?? CLUSTER_DEFAULT),
    peers: checkPeers(query.getAll('peer')),
    role,
    timing: checkTiming((field) => query.get(field) ?? undefined),
  };
}

/** Fills peers (and cluster/timing the URL left out) from a parsed `/peers.json`. */
export function withPeersFile(config: DashboardConfig, file: unknown, search: string): DashboardConfig {
  if (typeof file !== 'object' || file === null || Array.isArray(file)) {
    throw new DashboardConfigError('peers.json must be an object { cluster, peers, timing }');
  }
  const { cluster, peers, timing } = file as PeersFile;
  if (!Array.isArray(peers)) throw new DashboardConfigError('peers.json must list peers');
  const query = new URLSearchParams(search);
  const fileTiming =
    typeof timing === 'object' && timing !== null
      ? checkTiming((field) => (timing as Record<string, unknown>)[field])
      : {};
  return {
    ...config,
    cluster: query.has('cluster') || cluster === undefined ? config.cluster : checkCluster(cluster),
    peers: checkPeers(peers),
    timing: { ...fileTiming, ...config.timing },
  };
}

/** The URL query for a config (used when the owner switch restarts the tab's peer). */
export function queryOf(config: DashboardConfig, fromPeersFile: boolean): string {
  const query = new URLSearchParams();
  query.set('cluster', config.cluster);
  if (!fromPeersFile) for (const peer of config.peers) query.append('peer', peer);
  if (config.role === 'owner') query.set('role', 'owner');
  for (const field of TIMING_FIELDS) {
    const value = config.timing[field];
    if (value !== undefined && !fromPeersFile) query.set(field, String(value));
  }
  return `?${query.toString()}`;
}
