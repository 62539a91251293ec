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
