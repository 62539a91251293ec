/**
 * The backend a command runs against: the server's, at the connection's
 * TESSERA.CONSISTENCY when it set one.
 */
import type { KvBackend } from '../backend/backend.ts';
import type { ConnectionState, ServerState } from './types.ts';

export function backendOf(server: ServerState, conn: ConnectionState): KvBackend {
  const { backend } = server;
  if (conn.consistency === undefined || backend.withConsistency === undefined) return backend;
  return backend.withConsistency(conn.consistency);
}
