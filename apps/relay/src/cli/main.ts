/**
 * The `tessera` command line. Run with Node 24 and `--conditions=source`
 * (bin/tessera.js does both). Exit codes: 0 ok, 1 failure, 2 usage or
 * configuration error (one line on stderr).
 */
import { TesseraError } from '@tessera/core';
import { EXIT_FAILURE, EXIT_USAGE, UsageError } from './errors.ts';

export const MAIN_HELP = `Usage: tessera <command> [options]

Commands:
  start     run a peer (RESP, HTTP API, metrics)        tessera start --help
  join      start a peer into a running cluster, wait   tessera join --help
            until the slot map takes it in
  leave     drain a running peer's slots, then stop it  tessera leave --help
  status    members, slot coverage and jobs of a peer  tessera status --help
  inspect   decode the records in a stopped peer's data dir
  rebalance propose a balanced slot map, wait for it      tessera rebalance --help
  token     issue a capability token or a membership cert  tessera token --help
  help      this text

\`tessera start --bootstrap …\` joins too, without waiting; stopping a peer
(SIGTERM) without \`tessera leave\` is a failure to the cluster: its slots
are re-placed and copied from the owners left.
`;

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      // Commands load lazily: `start` pulls in libp2p, which `status` and bad flags do not need.
      return (await import('./start.ts')).runStart(rest, env);
    case 'join':
      return (await import('./start.ts')).runStart(rest, env, true);
    case 'leave':
      return (await import('./leave.ts')).runLeave(rest, env);
    case 'status':
      return (await import('./status.ts')).runStatus(rest, env);
    case 'inspect':
      return (await import('./inspect.ts')).runInspect(rest);
    case 'rebalance':
      return (await import('./rebalance.ts')).runRebalance(rest, env);
    case 'token':
      return (await import('./token.ts')).runToken(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(MAIN_HELP);
      return command === undefined ? EXIT_USAGE : 0;
    default:
      throw new UsageError(
        `unknown command ${JSON.stringify(command)} (commands: start, join, leave, status, inspect, rebalance, token, help)`,
      );
  }
}

function describe(error: unknown): string {
  if (error instanceof TesseraError) return error.message;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Exits once stdout and stderr have handed everything to the OS: a bare
 * process.exit() drops what a pipe has not taken yet (inspect's listing
 * was cut at 64 KiB when piped). A write callback runs after every earlier write.
 */
function exitAfterFlush(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = () => {
    pending -= 1;
    if (pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(exitAfterFlush, (error: unknown) => {
    process.stderr.write(`tessera: ${describe(error)}\n`);
    exitAfterFlush(error instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE);
  });
}
