/**
 * Frames on the gossip topic and the catch-up protocol, and their checks.
 * Everything from another peer passes through here before it is trusted;
 * a frame that fails a check is dropped with a reason and changes nothing.
 * The byte layout is specified in docs/spec/coordinator.md.
 */
import { decodeValue, encodeValue } from '@tessera/core';
import type { PeerIdString } from './env.ts';
import { nodeReportProblem } from './node-report.ts';
import type { CoordinatorLimits } from './options.ts';
import {
  type CoordinatorMessage,
  type DropReason,
  NODE_STATUSES,
  type NodeState,
  type NodeStatus,
} from './types.ts';

/** Wire format version carried in every frame as `v`. */
export const WIRE_VERSION = 1;

/** Clocks per digest bucket; both sides of a catch-up must agree, so it is part of the protocol. */
export const DIGEST_BUCKET_CLOCKS = 64;

/** A coordinator message as a gossip frame (and as the stored M value). */
export interface MessageFrame extends CoordinatorMessage {
  readonly v: number;
  readonly kind: 'message';
}

/** A node state as a gossip frame. */
export interface StateFrame extends NodeState {
  readonly v: number;
  readonly kind: 'state';
}

/** `[clock, origin]`: a message id, in log order. */
export type MessageId = readonly [number, PeerIdString];

/** Asks for digest buckets from `fromBucket` on. */
export interface DigestRequest {
  readonly v: number;
  readonly kind: 'digest';
  readonly cluster: string;
  readonly fromBucket: number;
}

/** Asks for stored messages with `fromClock <= clock < toClock` (null = no end) after `after`. */
export interface PullRequest {
  readonly v: number;
  readonly kind: 'pull';
  readonly cluster: string;
  readonly fromClock: number;
  readonly toClock: number | null;
  readonly after: MessageId | null;
}

export type CatchUpRequest = DigestRequest | PullRequest;

/** `[bucket index, message count, XOR of message id hashes]`. */
export type DigestBucket = readonly [number, number, number];

export interface DigestResponse {
  readonly v: number;
  readonly kind: 'digest';
  readonly bucketClocks: number;
  readonly buckets: readonly DigestBucket[];
  /** Where the next page starts, or null when this was the last. */
  readonly nextBucket: number | null;
}

export interface PageResponse {
  readonly v: number;
  readonly kind: 'page';
  /** Stored message frames, in log order. */
  readonly messages: readonly Uint8Array[];
  /** True when more messages in the range follow the last one. */
  readonly more: boolean;
}

export interface ErrorResponse {
  readonly v: number;
  readonly kind: 'error';
  readonly reason: string;
}

export type CatchUpResponse = DigestResponse | PageResponse | ErrorResponse;

/** A check's outcome: the frame, or why it was rejected. */
export type Checked<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

const fail = (reason: DropReason, detail: string) => ({ ok: false, reason, detail }) as const;

type Rec = Record<string, unknown>;
const isRecord = (x: unknown): x is Rec => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNat = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const isName = (x: unknown, limits: CoordinatorLimits): x is string =>
  typeof x === 'string' && x.length > 0 && x.length <= limits.nameCharsMax;
const isBytes = (x: unknown): x is Uint8Array => x instanceof Uint8Array;

/** 32-bit FNV-1a of a message id; digests XOR these. */
export function messageIdHash(clock: number, origin: PeerIdString): number {
  const text = `${clock}/${origin}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function encodeFrame(frame: MessageFrame | StateFrame | CatchUpRequest | CatchUpResponse): Uint8Array {
  return encodeValue(frame);
}

function decodeBounded(bytes: Uint8Array, bytesMax: number): Checked<Rec> {
  if (bytes.byteLength > bytesMax) return fail('oversized', `${bytes.byteLength} bytes > ${bytesMax}`);
  let value: unknown;
  try {
    value = decodeValue(bytes);
  } catch (error) {
    return fail('malformed', error instanceof Error ? error.message : 'not CBOR');
  }
  if (!isRecord(value)) return fail('malformed', 'not a CBOR map');
  if (value.v !== WIRE_VERSION) return fail('malformed', `unknown wire version ${String(value.v)}`);
  return { ok: true, value };
}

function checkMessage(r: Rec, limits: CoordinatorLimits): Checked<MessageFrame> {
  if (!isName(r.from, limits)) return fail('malformed', 'bad from');
  if (!isName(r.cluster, limits)) return fail('malformed', 'bad cluster');
  // A clock that is not a safe integer (2^63 decodes as a bigint) is a clock jump, not just bad shape.
  if (typeof r.clock === 'bigint' || (typeof r.clock === 'number' && !isNat(r.clock))) {
    return fail('clockJump', `clock ${String(r.clock)} is not a safe integer`);
  }
  if (!isNat(r.clock) || r.clock === 0) return fail('malformed', 'bad clock');
  if (!isNat(r.incarnation)) return fail('malformed', 'bad incarnation');
  if (typeof r.time !== 'number' || !Number.isFinite(r.time)) return fail('malformed', 'bad time');
  if (!isName(r.messageType, limits)) return fail('malformed', 'bad messageType');
  if (!isName(r.eventType, limits)) return fail('malformed', 'bad eventType');
  return { ok: true, value: r as unknown as MessageFrame };
}

function checkState(r: Rec, limits: CoordinatorLimits): Checked<StateFrame> {
  if (!isName(r.id, limits)) return fail('malformed', 'bad id');
  if (!isName(r.cluster, limits)) return fail('malformed', 'bad cluster');
  if (typeof r.host !== 'string' || r.host.length > limits.nameCharsMax) return fail('malformed', 'bad host');
  if (
    !Array.isArray(r.addresses) ||
    r.addresses.length > limits.addressesMax ||
    !r.addresses.every((a) => isName(a, limits))
  ) {
    return fail('malformed', 'bad addresses');
  }
  if (!isNat(r.clock)) return fail('malformed', 'bad clock');
  if (typeof r.time !== 'number' || !Number.isFinite(r.time)) return fail('malformed', 'bad time');
  if (!NODE_STATUSES.includes(r.status as NodeStatus)) return fail('malformed', 'bad status');
  if (r.role !== 'owner' && r.role !== 'client') return fail('malformed', 'bad role');
  if (!isNat(r.incarnation) || !isNat(r.version)) return fail('malformed', 'bad incarnation or version');
  const s = r.storage;
  if (!isRecord(s) || !isNat(s.usedBytes) || !(s.quotaBytes === null || isNat(s.quotaBytes))) {
    return fail('malformed', 'bad storage');
  }
  const l = r.log;
  if (!isRecord(l) || !isNat(l.clock) || !isNat(l.count) || !isNat(l.hash) || l.hash > 0xffffffff) {
    return fail('malformed', 'bad log summary');
  }
  const report = nodeReportProblem(r);
  if (report !== null) return fail('malformed', report);
  return { ok: true, value: r as unknown as StateFrame };
}

/** Decodes and checks one gossip frame. */
export function decodeGossip(
  bytes: Uint8Array,
  limits: CoordinatorLimits,
): Checked<MessageFrame | StateFrame> {
  const decoded = decodeBounded(bytes, limits.messageBytesMax);
  if (!decoded.ok) return decoded;
  const r = decoded.value;
  if (r.kind === 'message') return checkMessage(r, limits);
  if (r.kind === 'state') return checkState(r, limits);
  return fail('malformed', `unknown frame kind ${String(r.kind)}`);
}

/** Decodes and checks one stored or pulled message frame. */
export function decodeMessage(bytes: Uint8Array, limits: CoordinatorLimits): Checked<MessageFrame> {
  const decoded = decodeBounded(bytes, limits.messageBytesMax);
  if (!decoded.ok) return decoded;
  if (decoded.value.kind !== 'message') return fail('malformed', 'not a message frame');
  return checkMessage(decoded.value, limits);
}

const isMessageId = (x: unknown, limits: CoordinatorLimits): x is MessageId =>
  Array.isArray(x) && x.length === 2 && isNat(x[0]) && isName(x[1], limits);

/** Decodes and checks a catch-up request. */
export function decodeRequest(bytes: Uint8Array, limits: CoordinatorLimits): Checked<CatchUpRequest> {
  const decoded = decodeBounded(bytes, limits.requestBytesMax);
  if (!decoded.ok) return decoded;
  const r = decoded.value;
  if (!isName(r.cluster, limits)) return fail('malformed', 'bad cluster');
  if (r.kind === 'digest') {
    if (!isNat(r.fromBucket)) return fail('malformed', 'bad fromBucket');
    return { ok: true, value: r as unknown as DigestRequest };
  }
  if (r.kind === 'pull') {
    if (!isNat(r.fromClock)) return fail('malformed', 'bad fromClock');
    if (!(r.toClock === null || isNat(r.toClock))) return fail('malformed', 'bad toClock');
    if (!(r.after === null || isMessageId(r.after, limits))) return fail('malformed', 'bad after');
    return { ok: true, value: r as unknown as PullRequest };
  }
  return fail('malformed', `unknown request kind ${String(r.kind)}`);
}

/** Decodes and checks a catch-up response. */
export function decodeResponse(bytes: Uint8Array, limits: CoordinatorLimits): Checked<CatchUpResponse> {
  const decoded = decodeBounded(bytes, limits.responseBytesMax);
  if (!decoded.ok) return decoded;
  const r = decoded.value;
  if (r.kind === 'digest') {
    if (r.bucketClocks !== DIGEST_BUCKET_CLOCKS)
      return fail('malformed', `bucketClocks ${String(r.bucketClocks)}, expected ${DIGEST_BUCKET_CLOCKS}`);
    if (!(r.nextBucket === null || isNat(r.nextBucket))) return fail('malformed', 'bad nextBucket');
    if (
      !Array.isArray(r.buckets) ||
      r.buckets.length > limits.digestBucketsMax ||
      !r.buckets.every((b) => Array.isArray(b) && b.length === 3 && b.every(isNat))
    ) {
      return fail('malformed', 'bad buckets');
    }
    return { ok: true, value: r as unknown as DigestResponse };
  }
  if (r.kind === 'page') {
    if (
      !Array.isArray(r.messages) ||
      r.messages.length > limits.pageMessagesMax ||
      !r.messages.every(isBytes) ||
      typeof r.more !== 'boolean'
    ) {
      return fail('malformed', 'bad page');
    }
    return { ok: true, value: r as unknown as PageResponse };
  }
  if (r.kind === 'error')
    return { ok: true, value: { v: WIRE_VERSION, kind: 'error', reason: String(r.reason) } };
  return fail('malformed', `unknown response kind ${String(r.kind)}`);
}
