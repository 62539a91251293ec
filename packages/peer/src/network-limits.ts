/** Bounds of the libp2p network, in one place so the README and tests can name them. */

/** Default time a request may take end to end (dial, send, handle, reply). */
export const REQUEST_TIMEOUT_MS_DEFAULT = 5_000;
/** Default largest request or response frame, in bytes (the lpStream `maxDataLength`). */
export const FRAME_BYTES_MAX_DEFAULT = 1_048_576;
/** Default largest gossip message data, in bytes (gossipsub `maxInboundDataLength`). */
export const GOSSIP_BYTES_MAX_DEFAULT = 262_144;
/** Default inbound request streams open at once on one connection. */
export const INBOUND_STREAMS_MAX_DEFAULT = 32;
/** Default outbound request streams open at once on one connection. */
export const OUTBOUND_STREAMS_MAX_DEFAULT = 64;
/** Longest error text sent back in an error frame, in bytes. */
export const ERROR_MESSAGE_BYTES_MAX = 512;

/** Default inbound replication streams open at once on one connection (normally one: requests share a stream). */
export const REPLICA_INBOUND_STREAMS_MAX_DEFAULT = 8;
/** Default outbound replication streams libp2p allows on one connection. */
export const REPLICA_OUTBOUND_STREAMS_MAX_DEFAULT = 8;
/** Default replication requests to one peer in flight at once (the rest queue); also what one inbound stream serves at once. */
export const REPLICA_REQUESTS_IN_FLIGHT_MAX_DEFAULT = 128;
/** Default replication requests to one peer waiting in the queue before new ones fail. */
export const REPLICA_REQUESTS_QUEUED_MAX_DEFAULT = 4096;

/** Connections one remote peer may hold to this peer at once; more are refused after encryption. */
export const CONNECTIONS_PER_PEER_MAX = 4;
/** Connections this peer keeps in all (libp2p's connection manager prunes beyond it). */
export const CONNECTIONS_MAX = 512;
/** Streams a remote peer may open on one connection, every protocol together (the muxer refuses more). */
export const MUXED_INBOUND_STREAMS_MAX = 128;
/** Streams this peer may open on one connection. */
export const MUXED_OUTBOUND_STREAMS_MAX = 256;
/**
 * Receive window of one stream, bytes: what a peer may send before this one
 * reads. With the per-protocol stream caps it bounds a connection's
 * buffered memory (about 50 streams × 4 MiB at most); one replication
 * frame (4 MiB) still fits in one window.
 */
export const STREAM_WINDOW_BYTES_MAX = 4 * 1024 * 1024;
