/** The `CLIENT INFO` / `CLIENT LIST` line of a connection, in Redis' field order. */
import type { ConnectionState } from './types.ts';

export function clientInfoLine(c: ConnectionState, nowMs: number): string {
  const fields: [string, string | number][] = [
    ['id', c.id],
    ['addr', c.remoteAddress],
    ['laddr', c.localAddress],
    ['fd', -1],
    ['name', c.name ?? ''],
    ['age', Math.floor((nowMs - c.createdAtMs) / 1000)],
    ['idle', Math.floor((nowMs - c.lastCommandAtMs) / 1000)],
    ['flags', c.readonly ? 'r' : 'N'],
    ['db', c.db],
    ['sub', 0],
    ['psub', 0],
    ['ssub', 0],
    ['multi', -1],
    ['qbuf', c.queryBufferBytes],
    ['obl', 0],
    ['oll', 0],
    ['omem', c.outputBufferBytes],
    ['events', 'r'],
    ['cmd', c.lastCommand],
    ['user', 'default'],
    ['redir', -1],
    ['resp', c.protocol],
  ];
  return `${fields.map(([k, v]) => `${k}=${v}`).join(' ')}\n`;
}
