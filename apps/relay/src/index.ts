export type * from './backend/backend.ts';
export { globMatch } from './backend/glob.ts';
export { type LocalBackendOptions, LocalKvBackend, openLocalBackend } from './backend/local-backend.ts';
export {
  openReplicatedBackend,
  REPLICATED_DATABASES_DEFAULT,
  type ReplicatedBackendOptions,
  ReplicatedKvBackend,
  type ReplicatedPeer,
  type RespConsistency,
} from './backend/replicated.ts';
export {
  RESP_ENDPOINT_EVENT_TYPE,
  RESP_ENDPOINT_MESSAGE_TYPE,
  type RespEndpoint,
  RespEndpoints,
} from './backend/resp-endpoints.ts';
export * from './errors.ts';
export * from './resp/index.ts';
export type { RespServerOptions } from './server/options.ts';
export { type RespServer, startRespServer } from './server/server.ts';
