/**
 * What `tessera start` turns on (docs/security.md): the cluster key file
 * (created on first start), this peer's membership certificate (issued by
 * the key when this peer holds the private half, else read from
 * `--certificate-file`), the peer's auth options and the front ends' guard.
 */
import { readFile } from 'node:fs/promises';
import { ClusterAuthority, issueCertificate } from '@tessera/auth';
import type { PeerAuthOptions } from '@tessera/peer';
import { UsageError } from '../cli/errors.ts';
import { type ClusterKeyFile, loadOrCreateClusterKeyFile } from './cluster-key-file.ts';
import { RelayGuard } from './relay-guard.ts';

/** Lifetime of the certificate a peer holding the private key issues itself at each start, ms. */
export const SELF_CERTIFICATE_TTL_MS = 365 * 24 * 3_600_000;

/** The auth part of the start config. */
export interface NodeAuthConfig {
  readonly cluster: string;
  readonly role: 'owner' | 'client';
  readonly auth: 'on' | 'off';
  readonly clusterKeyFile: string;
  readonly certificateFile?: string;
  readonly clientAuth: 'on' | 'off';
  readonly rateLimit: number;
  readonly rateBurst: number;
}

/** What `startNode` wires in. */
export interface NodeAuth {
  readonly peer: PeerAuthOptions | undefined;
  readonly guard: RelayGuard | undefined;
  readonly key: ClusterKeyFile | undefined;
  /** For the startup summary: never the private key. */
  readonly summary: {
    readonly membership: 'on' | 'off';
    readonly clientAuth: 'on' | 'off';
    readonly clusterPublicKey?: string;
    readonly clusterKeyFile?: string;
    readonly clusterKeyCreated?: boolean;
    readonly rateLimit: number;
  };
}

export async function nodeAuth(config: NodeAuthConfig): Promise<NodeAuth> {
  const rateLimit =
    config.rateLimit > 0
      ? { ratePerSecond: config.rateLimit, burst: Math.max(1, config.rateBurst) }
      : undefined;
  const summaryBase = { clientAuth: config.clientAuth, rateLimit: config.rateLimit };
  if (config.auth === 'off') {
    return {
      peer: undefined,
      guard: rateLimit === undefined ? undefined : new RelayGuard({ rateLimit }),
      key: undefined,
      summary: { membership: 'off', ...summaryBase },
    };
  }
  let key: ClusterKeyFile;
  try {
    key = await loadOrCreateClusterKeyFile(config.clusterKeyFile);
  } catch (error) {
    throw new UsageError(`cannot use cluster key file ${config.clusterKeyFile}: ${(error as Error).message}`);
  }
  const signer = key.signer;
  let certificate: PeerAuthOptions['certificate'];
  if (config.certificateFile !== undefined) {
    const path = config.certificateFile;
    try {
      certificate = (await readFile(path, 'utf8')).trim();
    } catch (error) {
      throw new UsageError(
        `cannot read certificate file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
  } else if (signer !== undefined) {
    certificate = (peerId) =>
      issueCertificate(signer, {
        cluster: config.cluster,
        peerId,
        role: config.role,
        ttlMs: SELF_CERTIFICATE_TTL_MS,
      });
  } else if (config.role === 'owner') {
    throw new UsageError(
      `cluster key file ${config.clusterKeyFile} has no private key: pass --certificate-file (tessera token member --peer-id <id>)`,
    );
  }
  const authority =
    config.clientAuth === 'on'
      ? await ClusterAuthority.create({ clusterPublicKey: key.verifier.publicKey, cluster: config.cluster })
      : undefined;
  return {
    peer: {
      clusterPublicKey: key.verifier.publicKey,
      ...(certificate === undefined ? {} : { certificate }),
      requireClientTokens: config.clientAuth === 'on',
    },
    guard:
      authority === undefined && rateLimit === undefined
        ? undefined
        : new RelayGuard({
            ...(authority === undefined ? {} : { authority }),
            ...(rateLimit === undefined ? {} : { rateLimit }),
          }),
    key,
    summary: {
      membership: 'on',
      ...summaryBase,
      clusterPublicKey: key.verifier.publicKeyText,
      clusterKeyFile: key.path,
      clusterKeyCreated: key.created,
    },
  };
}
