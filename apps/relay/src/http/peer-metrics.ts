/**
 * The metrics a Tessera Node peer exposes, and a `KvBackend` wrapper that
 * counts and times every RESP data operation through them.
 *
 *   tessera_ops_total{frontend,command,result}      operations by outcome
 *   tessera_op_duration_seconds{frontend,command}   latency histogram
 *   tessera_quorum_failures_total{frontend}         QuorumNotReached answers
 *   tessera_peers_connected                         libp2p peers with an open connection
 *   tessera_members{status}                         membership view by status
 *   tessera_resp_connections                        open RESP connections
 *   tessera_http_requests_total{route,status}       HTTP API requests
 */
import type { ConditionalOp, Consistency, KvBackend } from '../backend/backend.ts';
import { Counter, Gauge, Histogram, Registry } from './metrics.ts';
import type { RecordApi } from './records.ts';

/** `result` label of an operation. */
export type OpResult = 'ok' | 'error' | 'quorum_not_reached';

/** What the gauges read from the running node. */
export interface PeerMetricsSources {
  peersConnected(): number;
  /** Member statuses, one entry per member. */
  memberStatuses(): Iterable<string>;
  respConnections(): number;
}

export class PeerMetrics {
  readonly registry = new Registry();
  readonly ops: Counter;
  readonly latency: Histogram;
  readonly quorumFailures: Counter;
  readonly httpRequests: Counter;

  constructor(sources: PeerMetricsSources) {
    const r = this.registry;
    this.ops = r.register(
      new Counter('tessera_ops_total', 'Data operations by front end, command and result.'),
    );
    this.latency = r.register(
      new Histogram(
        'tessera_op_duration_seconds',
        'Data operation latency by front end and command, seconds.',
      ),
    );
    this.quorumFailures = r.register(
      new Counter('tessera_quorum_failures_total', 'Operations that failed because too few owners answered.'),
    );
    this.httpRequests = r.register(
      new Counter('tessera_http_requests_total', 'HTTP API requests by route and status.'),
    );
    r.register(
      new Gauge('tessera_peers_connected', 'libp2p peers with an open connection.', () => [
        [{}, sources.peersConnected()],
      ]),
    );
    r.register(
      new Gauge('tessera_members', 'Members of the membership view by status (this peer included).', () => {
        const counts = new Map<string, number>();
        for (const status of sources.memberStatuses()) counts.set(status, (counts.get(status) ?? 0) + 1);
        return [...counts].map(([status, n]) => [{ status }, n] as const);
      }),
    );
    r.register(
      new Gauge('tessera_resp_connections', 'Open RESP client connections.', () => [
        [{}, sources.respConnections()],
      ]),
    );
  }

  /** Records one finished operation. */
  record(frontend: string, command: string, result: OpResult, seconds: number): void {
    this.ops.inc({ frontend, command, result });
    this.latency.observe({ frontend, command }, seconds);
    if (result === 'quorum_not_reached') this.quorumFailures.inc({ frontend });
  }

  /** Times `run` and records it under `command`, classifying its failure with `classify`. */
  async time<T>(frontend: string, command: string, run: () => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    try {
      const value = await run();
      this.record(frontend, command, 'ok', elapsed(started));
      return value;
    } catch (error) {
      this.record(frontend, command, resultOf(error), elapsed(started));
      throw error;
    }
  }
}

function elapsed(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Replication's error, and the RESP backend's TRYAGAIN reply made from it. */
const QUORUM_ERRORS = new Set(['QuorumNotReachedError', 'QuorumNotReachedReplyError']);

/** `quorum_not_reached` for a missed quorum (matched by name: no import of replication needed). */
export function resultOf(error: unknown): OpResult {
  return error instanceof Error && QUORUM_ERRORS.has(error.name) ? 'quorum_not_reached' : 'error';
}

/** A `KvBackend` that records every data call in `metrics` under front end `resp`. */
export function instrumentBackend(backend: KvBackend, metrics: PeerMetrics): KvBackend {
  const t = <T>(command: string, run: () => Promise<T>) => metrics.time('resp', command, run);
  return {
    databases: backend.databases,
    get: (db, key) => t('get', () => backend.get(db, key)),
    getMany: (db, keys) => t('mget', () => backend.getMany(db, keys)),
    set: (db, key, value, options) => t('set', () => backend.set(db, key, value, options)),
    setMany: (db, entries) => t('mset', () => backend.setMany(db, entries)),
    delete: (db, keys) => t('del', () => backend.delete(db, keys)),
    exists: (db, keys) => t('exists', () => backend.exists(db, keys)),
    incrementBy: (db, key, delta) => t('incrby', () => backend.incrementBy(db, key, delta)),
    ttlMs: (db, key) => t('pttl', () => backend.ttlMs(db, key)),
    scan: (db, options) => t('scan', () => backend.scan(db, options)),
    stats: (db) => backend.stats(db),
    topology: (self) => backend.topology(self),
    close: () => backend.close(),
    ...(backend.statsScansCluster === undefined ? {} : { statsScansCluster: backend.statsScansCluster }),
    ...(backend.conditionalHere === undefined
      ? {}
      : { conditionalHere: (db: number, op: ConditionalOp) => backend.conditionalHere!(db, op) }),
    ...(backend.withConsistency === undefined
      ? {}
      : {
          withConsistency: (consistency: Consistency) =>
            instrumentBackend(backend.withConsistency!(consistency), metrics),
        }),
  };
}

/** A record API that records every call in `metrics` under front end `http`. */
export function instrumentRecords(records: RecordApi, metrics: PeerMetrics): RecordApi {
  return {
    put: (key, value, options) => metrics.time('http', 'put', () => records.put(key, value, options)),
    get: (key, options) => metrics.time('http', 'get', () => records.get(key, options)),
    delete: (key, options) => metrics.time('http', 'delete', () => records.delete(key, options)),
  };
}
