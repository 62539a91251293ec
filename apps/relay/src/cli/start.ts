/** `tessera start`: run a peer until SIGTERM/SIGINT. */
import { formatFlags } from './args.ts';
import { resolveStartConfig, START_ENV, START_FLAGS } from './config.ts';
import { UsageError } from './errors.ts';
import { followJoin, JOIN_WAIT_MS_DEFAULT } from './join.ts';
import { createLogger } from './logger.ts';
import type { StartSummary } from './node.ts';

export const START_HELP = `Usage: tessera start --data-dir <path> [options]

Runs a Tessera Node peer: libp2p (TCP and WebSockets), the RESP server for
Redis clients, the HTTP API and a Prometheus /metrics endpoint. Options come
from flags, then TESSERA_* environment variables, then --config <file.json>,
then defaults. Port 0 picks a free port. Logs are JSON lines on stderr.

Options:
${formatFlags(START_FLAGS, START_ENV)}
`;

function humanSummary(s: StartSummary): string {
  const lines = [
    `tessera peer ${s.peerId} (cluster ${s.cluster}, role ${s.role}, pid ${s.pid})`,
    `  data dir  ${s.dataDir}`,
    ...s.multiaddrs.map((a) => `  libp2p    ${a}`),
    `  RESP      ${s.resp.host}:${s.resp.port}   (redis-cli -p ${s.resp.port})`,
    `  HTTP API  http://${s.http.host}:${s.http.port}/v1/`,
    `  metrics   http://${s.metrics.host}:${s.metrics.port}/metrics`,
  ];
  if (s.respBackend === 'local') {
    lines.push(
      '  WARNING: RESP runs on the LOCAL backend (--backend local): SET/GET stay on this peer and are NOT',
      '           replicated. Use it for a single-node setup only.',
    );
  } else {
    lines.push(
      '  RESP and HTTP key-value are replicated (quorum reads and writes through any peer).',
      '  RESP refuses SET NX/XX/GET, INCR/DECR, multi-key MSET, KEYS/SCAN, DBSIZE (not correct without',
      '  a compare-and-set or a cluster-wide scan yet). CLUSTER SLOTS follows the slot map.',
    );
  }
  lines.push(`  slot owners: ${s.placement}`);
  const a = s.auth;
  lines.push(
    a.membership === 'on'
      ? `  auth      membership on (cluster key ${a.clusterKeyFile}${a.clusterKeyCreated ? ', created now' : ''}), client tokens ${a.clientAuth}${a.rateLimit > 0 ? `, ${a.rateLimit} ops/s per database` : ''}`
      : '  WARNING: --auth off: any peer that can reach this one can join the cluster and own slots.',
  );
  if (a.clientAuth === 'off' && !['127.0.0.1', '::1', 'localhost'].includes(s.resp.host)) {
    lines.push(
      '  WARNING: listening beyond loopback with --client-auth off: anyone who can reach RESP/HTTP reads and writes.',
    );
  }
  return `${lines.join('\n')}\n`;
}

export const JOIN_HELP = `Usage: tessera join --bootstrap <multiaddr> --data-dir <path> [options]

\`tessera start\` that waits, printing progress, until the cluster's slot map
takes the new peer in: the designated proposer proposes a map with it, the
peer copies the slots it gains (its slotcopy job) and acks, and the map
commits. It then prints \`joined: …\` (with --json, JSON lines with an
\`event\` field after the start line) and runs on until SIGTERM/SIGINT, like
start. Should no map take it in within ${JOIN_WAIT_MS_DEFAULT / 1000} s it says so and runs on.
(\`tessera start --bootstrap …\` joins the same way without waiting.)

Options: those of tessera start (tessera start --help).
`;

/**
 * Runs `tessera start` (or `tessera join`, `join` true: bootstrap required,
 * waits for the map to take the peer in); resolves with the exit code once
 * the peer has stopped.
 */
export async function runStart(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  join = false,
): Promise<number> {
  const config = await resolveStartConfig(argv, env);
  if (config.help) {
    process.stdout.write(join ? JOIN_HELP : START_HELP);
    return 0;
  }
  if (join && config.bootstrap.length === 0) {
    throw new UsageError('tessera join needs --bootstrap <multiaddr> (a peer of the running cluster)');
  }
  const log = createLogger(config.logLevel);
  // Loaded after the config is checked: a typo should not wait for libp2p to load.
  const { startNode } = await import('./node.ts');
  const node = await startNode(config, log);
  log.info({ ...node.summary }, 'started');
  process.stdout.write(config.json ? `${JSON.stringify(node.summary)}\n` : humanSummary(node.summary));
  node.peer.on('member', ({ member, previous }) => {
    if (previous?.status !== member.status) log.info({ member: member.id, status: member.status }, 'member');
  });
  const stopped = new AbortController();
  if (join) {
    void followJoin(node.peer, (line) => process.stdout.write(line), {
      json: config.json,
      waitMs: JOIN_WAIT_MS_DEFAULT,
      signal: stopped.signal,
    }).then((joined) => log.info({ joined }, 'join wait over'));
  }
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        log.warn({ signal }, 'second signal: exiting without finishing shutdown');
        process.exit(130);
      }
      log.info({ signal }, 'shutting down');
      stopped.abort();
      node.stop().then(
        () => {
          log.info('stopped');
          resolve(0);
        },
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // `tessera leave` (POST /v1/cluster/leave): the peer drained and stopped; the rest follows it.
    void node.left.then((left) => {
      log.info({ epoch: left.epoch, owners: left.owners }, 'left the cluster');
      stopped.abort();
      node.stop().then(
        () => {
          log.info('stopped');
          resolve(0);
        },
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    });
  });
}
