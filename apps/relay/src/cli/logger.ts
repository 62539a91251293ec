/** Structured logs: pino, JSON lines on stderr (stdout stays for the startup summary). */

import type { CoordinatorLogger } from '@tessera/coordinator';
import { type Logger, pino } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger };

export function createLogger(level: LogLevel): Logger {
  // Synchronous writes: a CLI that exits right after logging must not lose the line.
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
}

/** The coordinator's logger interface over pino. */
export function coordinatorLogger(logger: Logger): CoordinatorLogger {
  const child = logger.child({ component: 'coordinator' });
  return {
    debug: (message, fields) => child.debug(fields ?? {}, message),
    warn: (message, fields) => child.warn(fields ?? {}, message),
  };
}
