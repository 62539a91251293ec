/**
 * Sends ops to one owner and returns checked results. The local replica is
 * called directly; a remote one through the transport, with the reply
 * checked before use.
 *
 * Calls to the same peer (with the same timeout) made within one event-loop
 * turn travel in one request frame, up to `opsPerFrameMax` ops and about half
 * of `frameBytesMax`: under load, one frame and one reply carry many
 * callers' ops. Each caller gets its own ops' results; a frame-level failure
 * (timeout, unreachable, bad or error reply) rejects every caller in it, as
 * it would have rejected each alone.
 */

import type { LamportClock } from '@tessera/core';
import { RemoteReplicaError } from './errors.ts';
import { decodeReply, encodeRequest, type OpResult, type ReplicaOp } from './frames.ts';
import { frameBytesMax, opsPerFrameMax, scanPageBytesMax, valueBytesMax } from './limits.ts';
import { nextTurn } from './next-turn.ts';
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

/** Estimated encoded bytes of a frame's ops, the bound coalescing keeps under. */
const coalescedBytesMax = frameBytesMax / 2;

interface Pending {
  readonly ops: readonly ReplicaOp[];
  readonly bytes: number;
  readonly resolve: (results: OpResult[]) => void;
  readonly reject: (error: unknown) => void;
}

interface Queue {
  readonly peer: PeerId;
  readonly timeoutMs: number;
  calls: Pending[];
}

/** A rough upper estimate of an op's encoded size (values dominate; the rest is small and bounded). */
export function estimateOpBytes(op: ReplicaOp): number {
  switch (op.op) {
    case 'mint':
      return 256 + op.key.length + (op.value?.length ?? 0);
    case 'apply': {
      let bytes = 256 + op.key.length;
      for (const sibling of op.record) bytes += 512 + (sibling.value.bytes?.length ?? 0);
      return bytes;
    }
    case 'scan':
      // The reply dominates: coalescing packs few scans per frame so their replies stay under the frame bound.
      return scanPageBytesMax + valueBytesMax;
    default:
      return 1024;
  }
}

export function createPeerCaller(
  transport: ReplicaTransport,
  replica: ReplicaService,
  clock: LamportClock,
  timeoutMs: () => number,
): PeerCaller {
  const queues = new Map<string, Queue>();

  async function send(peer: PeerId, ops: readonly ReplicaOp[], frame: Uint8Array, timeout: number) {
    // Every op but `mint` may be applied twice (a mint twice is two versions): those frames may be resent.
    const idempotent = ops.every((op) => op.op !== 'mint');
    const replyBytes = await transport.request(peer, frame, { timeoutMs: timeout, idempotent });
    const reply = decodeReply(replyBytes, ops.length);
    clock.receive(reply.clock);
    if ('error' in reply) throw new RemoteReplicaError(peer, reply.error.code, reply.error.message);
    return reply.results;
  }

  /** Sends one group of calls as one frame and hands each caller its slice of the results. */
  async function sendGroup(queue: Queue, group: readonly Pending[]): Promise<void> {
    const ops = group.length === 1 ? group[0]!.ops : group.flatMap((pending) => pending.ops);
    let frame: Uint8Array;
    try {
      frame = encodeRequest(clock.tick(), ops);
    } catch (error) {
      // An estimate that missed the frame limit (nothing was sent): send each call alone, so one big call fails alone.
      if (group.length > 1) await Promise.all(group.map((pending) => sendGroup(queue, [pending])));
      else group[0]!.reject(error);
      return;
    }
    let results: readonly unknown[];
    try {
      results = await send(queue.peer, ops, frame, queue.timeoutMs);
    } catch (error) {
      for (const pending of group) pending.reject(error);
      return;
    }
    // Checked per caller: a malformed result fails only the call it belongs to.
    let at = 0;
    for (const pending of group) {
      const first = at;
      at += pending.ops.length;
      try {
        pending.resolve(
          pending.ops.map((op, i) => resultFromWire(op, results[first + i], `results[${first + i}]`)),
        );
      } catch (error) {
        pending.reject(error);
      }
    }
  }

  function flush(queue: Queue): void {
    queues.delete(`${queue.timeoutMs}\u0000${queue.peer}`);
    let group: Pending[] = [];
    let groupOps = 0;
    let groupBytes = 0;
    for (const pending of queue.calls) {
      const full =
        group.length > 0 &&
        (groupOps + pending.ops.length > opsPerFrameMax || groupBytes + pending.bytes > coalescedBytesMax);
      if (full) {
        void sendGroup(queue, group);
        group = [];
        groupOps = 0;
        groupBytes = 0;
      }
      group.push(pending);
      groupOps += pending.ops.length;
      groupBytes += pending.bytes;
    }
    if (group.length > 0) void sendGroup(queue, group);
  }

  return {
    selfId: transport.selfId,
    call(peer, ops, options) {
      if (peer === transport.selfId) return replica.executeMany(ops);
      const timeout = options?.timeoutMs ?? timeoutMs();
      const id = `${timeout}\u0000${peer}`;
      let queue = queues.get(id);
      if (!queue) {
        const created: Queue = { peer, timeoutMs: timeout, calls: [] };
        queues.set(id, created);
        nextTurn(() => flush(created));
        queue = created;
      }
      let bytes = 0;
      for (const op of ops) bytes += estimateOpBytes(op);
      const target = queue;
      return new Promise<OpResult[]>((resolve, reject) => {
        target.calls.push({ ops, bytes, resolve, reject });
      });
    },
  };
}
