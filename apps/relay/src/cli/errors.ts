/** Errors of the `tessera` command line. Each maps to an exit code. */
import { TesseraError } from '@tessera/core';

/** Exit code for a usage or configuration mistake (like most Unix tools). */
export const EXIT_USAGE = 2;
/** Exit code for a failure while running (I/O, a peer that would not start). */
export const EXIT_FAILURE = 1;

/**
 * Thrown when the command line, the environment or the config file is
 * wrong: an unknown flag, a bad port, a data dir that cannot be written.
 * The CLI prints the one-line message and exits with `EXIT_USAGE`.
 */
export class UsageError extends TesseraError {
  constructor(message: string) {
    super(message, 'ERR_CLI_USAGE');
  }
}

/** Thrown when `tessera inspect` is pointed at a data dir a running peer holds. */
export class DataDirBusyError extends TesseraError {
  constructor(dir: string) {
    super(
      `${dir} is locked by a running peer; stop it first (or use \`tessera status\` against the running peer)`,
      'ERR_CLI_DATA_DIR_BUSY',
    );
  }
}
