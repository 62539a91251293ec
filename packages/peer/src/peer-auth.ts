/**
 * Membership and capabilities on a peer (docs/security.md). With auth on:
 *
 * - Node state frames carry the sender's membership certificate (`cert`).
 *   The gossipsub validator admits a state only if its certificate verifies
 *   for the message signer (or it claims role `client` and has none), and a
 *   coordinator message only if its signer holds an admitted certificate.
 * - Coordinator catch-up pulls only from members (`Libp2pNetwork`).
 * - Replication requests from a peer that is not a member are served only
 *   within the capability token it presents over `/tessera/auth/1.0.0`
 *   (fetched by the serving owner on the first request, cached).
 */
import type { Connection, Logger, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { lpStream } from '@libp2p/utils';
import {
  type Access,
  allows,
  type Capability,
  type ClusterAuthority,
  CREDENTIAL_BYTES_MAX,
  fromBase64url,
  type MembershipCertificate,
  NotAMemberError,
} from '@tessera/auth';
import { decodeKey, decodeValue, encodeValue } from '@tessera/core';
import { decodeRequest, encodeErrorReply, type ReplicaTransport } from '@tessera/replication';
import type { TesseraLibp2p } from './libp2p-services.ts';

/** The protocol a peer answers with its own credentials (certificate and/or token). */
export const CREDENTIALS_PROTOCOL = '/tessera/auth/1.0.0';
/** How long an owner waits for a client's credentials, ms. */
export const CREDENTIALS_TIMEOUT_MS = 3_000;
/** How long a failed credentials fetch is remembered before asking again, ms (bounds work a flood can cause). */
export const CREDENTIALS_RETRY_MS = 2_000;
/** Most remote peers whose fetched credentials are remembered. */
export const CREDENTIALS_PEERS_MAX = 4096;

/** Auth options of a peer. Auth is off unless `auth` is given. */
export interface PeerAuthOptions {
  /** The cluster public key: raw 32 bytes or base64url text. */
  readonly clusterPublicKey: Uint8Array | string;
  /**
   * This peer's membership certificate (bytes or base64url text), or a
   * function that gets it for this peer's id (the id exists only once the
   * identity is loaded). Required for role `owner`; without it the peer is a
   * non-member client.
   */
  readonly certificate?: Uint8Array | string | ((peerId: string) => Promise<Uint8Array | string>);
  /** The capability token this peer presents when it is not a member (a client writing through owners). */
  readonly token?: string;
  /** Clock skew allowed on expiries, ms. Default 60 000. */
  readonly clockSkewMs?: number;
  /**
   * Whether non-members need a capability token to read and write data
   * (default true). False keeps membership enforced but lets any client
   * read and write, as a loopback-only laptop cluster does.
   */
  readonly requireClientTokens?: boolean;
}

/** Verdicts of the gossip validator (gossipsub's TopicValidatorResult values). */
export type GossipVerdict = 'accept' | 'reject' | 'ignore';

/** Counters of what auth refused, for tests and metrics. */
export interface PeerAuthStats {
  gossipRejected: number;
  gossipIgnored: number;
  replicaRequestsDenied: number;
  /** Credential fetches from remote peers (deduplicated and cached, so a flood causes few). */
  credentialFetches: number;
  credentialFetchFailures: number;
}

type Rec = Record<string, unknown>;
const isRecord = (x: unknown): x is Rec => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A peer's auth state: the authority, its own credentials, and the caches of remote ones. */
export class PeerAuth {
  readonly authority: ClusterAuthority;
  readonly selfId: string;
  /** This peer's certificate bytes, when it has one. */
  readonly certificate: Uint8Array | undefined;
  readonly selfCertificate: MembershipCertificate | undefined;
  readonly token: string | undefined;
  readonly requireClientTokens: boolean;
  readonly stats: PeerAuthStats = {
    gossipRejected: 0,
    gossipIgnored: 0,
    replicaRequestsDenied: 0,
    credentialFetches: 0,
    credentialFetchFailures: 0,
  };
  readonly #node: TesseraLibp2p;
  readonly #log: Logger;
  readonly #remote = new Map<string, { capability: Capability | null; atMs: number }>();
  readonly #fetching = new Map<string, Promise<Capability | null>>();

  private constructor(
    node: TesseraLibp2p,
    authority: ClusterAuthority,
    certificate: Uint8Array | undefined,
    selfCertificate: MembershipCertificate | undefined,
    token: string | undefined,
    requireClientTokens: boolean,
  ) {
    this.#node = node;
    this.#log = node.logger.forComponent('tessera:auth');
    this.authority = authority;
    this.selfId = node.peerId.toString();
    this.certificate = certificate;
    this.selfCertificate = selfCertificate;
    this.token = token;
    this.requireClientTokens = requireClientTokens;
  }

  /** Verifies this peer's own certificate (throws `NotAMemberError` when it is bad or, for an owner, not an owner's). */
  static async create(
    node: TesseraLibp2p,
    authority: ClusterAuthority,
    options: PeerAuthOptions,
    role: 'owner' | 'client',
  ): Promise<PeerAuth> {
    const selfId = node.peerId.toString();
    const given =
      typeof options.certificate === 'function' ? await options.certificate(selfId) : options.certificate;
    const bytes = typeof given === 'string' ? fromBase64url(given) : given;
    let selfCertificate: MembershipCertificate | undefined;
    if (bytes !== undefined) selfCertificate = await authority.admit(selfId, bytes);
    if (role === 'owner' && selfCertificate?.role !== 'owner') {
      throw new NotAMemberError(selfId, 'role owner needs an owner membership certificate for this peer id');
    }
    return new PeerAuth(
      node,
      authority,
      bytes,
      selfCertificate,
      options.token,
      options.requireClientTokens ?? true,
    );
  }

  /** True when `peer` holds an admitted, unexpired certificate (this peer included, when it has one). */
  isMember(peer: string): boolean {
    return this.authority.member(peer) !== undefined;
  }

  /** The gossipsub validator of the coordinator topic (see the module comment). */
  async validateGossip(data: Uint8Array, from: string): Promise<GossipVerdict> {
    const verdict = await this.#verdict(data, from);
    if (verdict === 'reject') this.stats.gossipRejected++;
    if (verdict === 'ignore') this.stats.gossipIgnored++;
    return verdict;
  }

  async #verdict(data: Uint8Array, from: string): Promise<GossipVerdict> {
    let frame: unknown;
    try {
      frame = decodeValue(data);
    } catch {
      return 'reject';
    }
    if (!isRecord(frame)) return 'reject';
    if (frame.kind === 'state') {
      if (frame.id !== from) return 'reject';
      if (frame.cert instanceof Uint8Array) {
        try {
          const certificate = await this.authority.admit(from, frame.cert);
          return frame.role === 'owner' && certificate.role !== 'owner' ? 'reject' : 'accept';
        } catch (error) {
          this.#log('refused the certificate of %s: %e', from, error);
          return 'reject';
        }
      }
      // A non-member may be seen, as a client only.
      return frame.role === 'client' ? 'accept' : 'reject';
    }
    if (frame.kind === 'message') {
      // Unknown may mean "state not seen yet": not delivered, and not held against the forwarder.
      return this.isMember(from) ? 'accept' : 'ignore';
    }
    return 'reject';
  }

  /** Serves this peer's own credentials on `CREDENTIALS_PROTOCOL`. */
  async start(): Promise<void> {
    await this.#node.handle(
      CREDENTIALS_PROTOCOL,
      (stream, connection) => this.#serveCredentials(stream, connection),
      {
        maxInboundStreams: 4,
        runOnLimitedConnection: true,
      },
    );
  }

  async stop(): Promise<void> {
    await this.#node.unhandle(CREDENTIALS_PROTOCOL).catch(() => undefined);
  }

  async #serveCredentials(stream: Stream, _connection: Connection): Promise<void> {
    const signal = AbortSignal.timeout(CREDENTIALS_TIMEOUT_MS);
    try {
      const lp = lpStream(stream, { maxDataLength: 2 * CREDENTIAL_BYTES_MAX + 64 });
      const body: Rec = {};
      if (this.certificate !== undefined) body.cert = this.certificate;
      if (this.token !== undefined) body.token = this.token;
      await lp.write(encodeValue(body), { signal });
      await stream.close({ signal });
    } catch (error) {
      stream.abort(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** The capability `peer` presents (fetched once, cached; null when it has none that verifies). */
  async capabilityOf(peer: string): Promise<Capability | null> {
    const now = Date.now();
    const known = this.#remote.get(peer);
    if (known !== undefined) {
      const fresh = known.capability !== null || now - known.atMs < CREDENTIALS_RETRY_MS;
      const live =
        known.capability === null || now <= known.capability.expiresAtMs + this.authority.clockSkewMs;
      if (fresh && live) return known.capability;
    }
    let pending = this.#fetching.get(peer);
    if (pending === undefined) {
      pending = this.#fetchCapability(peer).finally(() => this.#fetching.delete(peer));
      this.#fetching.set(peer, pending);
    }
    return pending;
  }

  async #fetchCapability(peer: string): Promise<Capability | null> {
    this.stats.credentialFetches++;
    let capability: Capability | null = null;
    const signal = AbortSignal.timeout(CREDENTIALS_TIMEOUT_MS);
    let stream: Stream | undefined;
    try {
      stream = await this.#node.dialProtocol(peerIdFromString(peer), CREDENTIALS_PROTOCOL, {
        signal,
        runOnLimitedConnection: true,
      });
      const lp = lpStream(stream, { maxDataLength: 2 * CREDENTIAL_BYTES_MAX + 64 });
      const body = decodeValue((await lp.read({ signal })).subarray());
      await stream.close({ signal }).catch(() => undefined);
      if (isRecord(body)) {
        if (body.cert instanceof Uint8Array)
          await this.authority.admit(peer, body.cert).catch(() => undefined);
        if (typeof body.token === 'string') capability = await this.authority.capability(body.token);
      }
    } catch (error) {
      stream?.abort(error instanceof Error ? error : new Error(String(error)));
      this.stats.credentialFetchFailures++;
      this.#log('no usable credentials from %s: %e', peer, error);
    }
    if (this.#remote.size >= CREDENTIALS_PEERS_MAX)
      this.#remote.delete(this.#remote.keys().next().value as string);
    this.#remote.set(peer, { capability, atMs: Date.now() });
    return capability;
  }

  /**
   * Wraps a replica transport so inbound requests from non-members are
   * served only within their capability: `read` needs read, `mint`,
   * `apply` and `remember` need write on the key's database, every other
   * operation (digests, reaping, scans between owners) needs membership.
   */
  gateReplicaTransport(transport: ReplicaTransport): ReplicaTransport {
    return {
      selfId: transport.selfId,
      request: (peer, frame, options) => transport.request(peer, frame, options),
      handle: (handler) =>
        transport.handle(async (frame, from) => {
          if (from === this.selfId || this.isMember(from)) return handler(frame, from);
          const refusal = await this.#refusal(frame, from);
          if (refusal !== null) {
            this.stats.replicaRequestsDenied++;
            return refusal;
          }
          return handler(frame, from);
        }),
    };
  }

  async #refusal(frame: Uint8Array, from: string): Promise<Uint8Array | null> {
    let request: ReturnType<typeof decodeRequest>;
    try {
      request = decodeRequest(frame);
    } catch {
      // The replica refuses a bad frame itself, with its usual error.
      return null;
    }
    const needs: { database: string | number; access: Access }[] = [];
    for (const op of request.ops) {
      let access: Access | null = null;
      let database: string | number | undefined;
      if (op.op === 'read') {
        access = 'read';
        database = databaseOf(op.key);
      } else if (op.op === 'mint' || op.op === 'apply' || op.op === 'remember') {
        access = 'write';
        database = databaseOf(op.key);
      }
      if (access === null || database === undefined) {
        return encodeErrorReply(
          request.clock,
          'ERR_NOT_A_MEMBER',
          `operation ${op.op} is for cluster members only`,
        );
      }
      needs.push({ database, access });
    }
    if (!this.requireClientTokens) return null;
    const capability = await this.capabilityOf(from);
    if (capability === null) {
      return encodeErrorReply(request.clock, 'ERR_AUTH_REQUIRED', 'no valid capability token presented');
    }
    for (const { database, access } of needs) {
      if (!allows(capability, database, access)) {
        return encodeErrorReply(
          request.clock,
          'ERR_CAPABILITY_DENIED',
          `capability does not allow ${access} on database ${String(database)}`,
        );
      }
    }
    return null;
  }
}

/** The database of a data key (its first element), or undefined for coordinator and other keys. */
function databaseOf(key: Uint8Array): string | number | undefined {
  try {
    const decoded = decodeKey(key);
    if (!['D', 'C', 'O', 'I'].includes(decoded.category)) return undefined;
    const first = decoded.elements[0];
    return typeof first === 'string' || typeof first === 'number' ? first : undefined;
  } catch {
    return undefined;
  }
}
