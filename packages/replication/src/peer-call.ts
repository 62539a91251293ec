/**
 * Sends a batch of ops to one owner and returns checked results. The local
 * replica is called directly; a remote one through the transport, with the
 * reply checked before use.
 */

import type { LamportClock } from '@tessera/core';
import { RemoteReplicaError } from './errors.ts';
import { decodeReply, encodeRequest, type OpResult, type ReplicaOp } from './frames.ts';
import type { ReplicaService } from './replica.ts';
import { resultFromWire } from './replies.ts';
import type { PeerId, ReplicaTransport } from './transport.ts';

export interface PeerCaller {
  readonly selfId: PeerId;
  /** Results in op order; rejects when the peer cannot be reached, times out, or sends a bad or error reply. */
  call(
    peer: PeerId,
    ops: readonly ReplicaOp[],
    options?: { readonly timeoutMs?: number },
  ): Promise<OpResult[]>;
}

export function createPeerCaller(
  transport: ReplicaTransport,
  replica: ReplicaService,
  clock: LamportClock,
  timeoutMs: () => number,
): PeerCaller {
  return {
    selfId: transport.selfId,
    async call(peer, ops, options) {
      if (peer === transport.selfId) return Promise.all(ops.map((op) => replica.execute(op)));
      const frame = encodeRequest(clock.tick(), ops);
      const replyBytes = await transport.request(peer, frame, {
        timeoutMs: options?.timeoutMs ?? timeoutMs(),
      });
      const reply = decodeReply(replyBytes, ops.length);
      clock.receive(reply.clock);
      if ('error' in reply) throw new RemoteReplicaError(peer, reply.error.code, reply.error.message);
      return reply.results.map((raw, i) => resultFromWire(ops[i]!, raw, `results[${i}]`));
    },
  };
}
