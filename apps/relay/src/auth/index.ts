export {
  type ClusterKeyFile,
  ClusterKeyFileError,
  loadOrCreateClusterKeyFile,
  readClusterKeyFile,
} from './cluster-key-file.ts';
export { httpAuthError, respAuthError, wrongPass } from './errors.ts';
export { RelayGuard, type RelayGuardOptions } from './relay-guard.ts';
