/**
 * The pull-based catch-up protocol. Gossip is best effort, so a peer that
 * missed messages (or joined late, or sat on the other side of a partition)
 * asks one peer for its log digest (count and hash per bucket of clocks),
 * then pulls, in bounded pages, every clock range whose bucket differs.
 * Comparing buckets rather than asking for "everything after my clock"
 * also finds messages with old clocks made on the other side of a partition.
 */
import type { Network, PeerIdString } from './env.ts';
import type { MessageLog } from './log.ts';
import type { CoordinatorLimits } from './options.ts';
import type { DropReason } from './types.ts';
import {
  type CatchUpResponse,
  DIGEST_BUCKET_CLOCKS,
  decodeMessage,
  decodeRequest,
  decodeResponse,
  encodeFrame,
  type MessageFrame,
  type MessageId,
  WIRE_VERSION,
} from './wire.ts';

/** Differing buckets this close together are pulled as one range. */
const runGapBucketsMax = 4;

/** Bytes a page leaves for the CBOR around its messages. */
const pageOverheadBytes = 4096;

export interface CatchUpContext {
  readonly network: Network;
  readonly cluster: string;
  readonly limits: CoordinatorLimits;
  readonly requestTimeoutMs: number;
  readonly log: MessageLog;
  /** Applies pulled messages in order; returns how many were new. */
  readonly apply: (frames: { frame: MessageFrame; bytes: Uint8Array }[]) => Promise<number>;
  readonly drop: (reason: DropReason, from: PeerIdString, detail: string) => void;
}

/** Thrown inside a round when the serving peer answers something unusable; the round stops. */
class BadResponse extends Error {}

async function ask(
  ctx: CatchUpContext,
  peer: PeerIdString,
  request: Parameters<typeof encodeFrame>[0],
): Promise<CatchUpResponse> {
  const data = encodeFrame(request);
  let bytes: Uint8Array | undefined;
  // A lost request costs one attempt, not the whole round (a round is many requests).
  for (let attempt = 1; bytes === undefined; attempt++) {
    try {
      bytes = await ctx.network.request(peer, data, { timeoutMs: ctx.requestTimeoutMs });
    } catch (error) {
      if (attempt >= ctx.limits.requestAttemptsMax) throw error;
    }
  }
  const checked = decodeResponse(bytes, ctx.limits);
  if (!checked.ok) {
    ctx.drop(checked.reason, peer, `catch-up response: ${checked.detail}`);
    throw new BadResponse(checked.detail);
  }
  if (checked.value.kind === 'error') throw new BadResponse(`peer refused: ${checked.value.reason}`);
  return checked.value;
}

/** What one catch-up round did. */
export interface CatchUpResult {
  /** Messages newly stored. */
  readonly pulled: number;
  /** Whether every differing range was pulled (false: `syncRequestsMax` ran out first). */
  readonly complete: boolean;
}

/**
 * One catch-up round with `peer`. Rejects when the peer cannot be reached or
 * answers badly; what was applied before that stays applied.
 */
export async function runCatchUp(ctx: CatchUpContext, peer: PeerIdString): Promise<CatchUpResult> {
  let requests = 0;
  // Differing buckets as [first, last] runs of consecutive indices.
  const runs: [number, number][] = [];
  let fromBucket = 0;
  let complete = true;
  for (;;) {
    if (++requests > ctx.limits.syncRequestsMax) {
      complete = false;
      break;
    }
    const res = await ask(ctx, peer, { v: WIRE_VERSION, kind: 'digest', cluster: ctx.cluster, fromBucket });
    if (res.kind !== 'digest') throw new BadResponse('expected a digest');
    let previous = fromBucket - 1;
    for (const [index, count, hash] of res.buckets) {
      if (index <= previous) throw new BadResponse('digest buckets out of order');
      previous = index;
      const local = ctx.log.bucket(index);
      if (local && local.count === count && local.hash === hash) continue;
      const last = runs[runs.length - 1];
      // Close runs merge: a few more duplicates cost less than another request.
      if (last && index - last[1] <= runGapBucketsMax + 1) last[1] = index;
      else runs.push([index, index]);
    }
    if (res.nextBucket === null) break;
    if (res.nextBucket <= previous) throw new BadResponse('digest does not advance');
    fromBucket = res.nextBucket;
  }

  let pulled = 0;
  for (const [first, last] of runs) {
    const fromClock = first * DIGEST_BUCKET_CLOCKS;
    const toClock = (last + 1) * DIGEST_BUCKET_CLOCKS;
    let after: MessageId | null = null;
    for (;;) {
      if (++requests > ctx.limits.syncRequestsMax) return { pulled, complete: false };
      const res = await ask(ctx, peer, {
        v: WIRE_VERSION,
        kind: 'pull',
        cluster: ctx.cluster,
        fromClock,
        toClock,
        after,
      });
      if (res.kind !== 'page') throw new BadResponse('expected a page');
      const good: { frame: MessageFrame; bytes: Uint8Array }[] = [];
      for (const bytes of res.messages) {
        const checked = decodeMessage(bytes, ctx.limits);
        if (!checked.ok) {
          ctx.drop(checked.reason, peer, `pulled message: ${checked.detail}`);
          continue;
        }
        const frame = checked.value;
        if (frame.cluster !== ctx.cluster) {
          ctx.drop('wrongCluster', peer, `pulled message of cluster ${frame.cluster}`);
          continue;
        }
        if (frame.clock < fromClock || frame.clock >= toClock) {
          ctx.drop('malformed', peer, `pulled message clock ${frame.clock} outside the range asked for`);
          continue;
        }
        if (after && (frame.clock < after[0] || (frame.clock === after[0] && frame.from <= after[1]))) {
          throw new BadResponse('page does not advance');
        }
        after = [frame.clock, frame.from];
        good.push({ frame, bytes });
      }
      pulled += await ctx.apply(good);
      if (!res.more || good.length === 0) break;
    }
  }
  return { pulled, complete };
}

/** Answers one catch-up request from `from`. Never throws: bad requests get an error response. */
export async function serveCatchUp(
  ctx: CatchUpContext,
  data: Uint8Array,
  from: PeerIdString,
): Promise<Uint8Array> {
  const refuse = (reason: string) => encodeFrame({ v: WIRE_VERSION, kind: 'error', reason });
  const checked = decodeRequest(data, ctx.limits);
  if (!checked.ok) {
    ctx.drop(checked.reason, from, `catch-up request: ${checked.detail}`);
    return refuse(checked.reason);
  }
  const req = checked.value;
  if (req.cluster !== ctx.cluster) {
    ctx.drop('wrongCluster', from, `catch-up request for cluster ${req.cluster}`);
    return refuse('wrongCluster');
  }
  if (req.kind === 'digest') {
    const { buckets, nextBucket } = ctx.log.digest(req.fromBucket, ctx.limits.digestBucketsMax);
    return encodeFrame({
      v: WIRE_VERSION,
      kind: 'digest',
      bucketClocks: DIGEST_BUCKET_CLOCKS,
      buckets,
      nextBucket,
    });
  }
  const page = await ctx.log.page(
    req.fromClock,
    req.toClock,
    req.after,
    ctx.limits.pageMessagesMax,
    ctx.limits.responseBytesMax - pageOverheadBytes,
  );
  return encodeFrame({ v: WIRE_VERSION, kind: 'page', messages: page.messages, more: page.more });
}
