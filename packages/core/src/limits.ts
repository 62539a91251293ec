/**
 * Named bounds of the key and value codecs. Encoders refuse to produce, and
 * decoders refuse to read, anything beyond them (`LimitExceededError`), so a
 * hostile peer cannot make a peer allocate or recurse without bound.
 */

/**
 * Largest encoded key, header included. 8 KiB is below FoundationDB's 10 kB
 * key limit and far above any key the data model needs (a few short
 * elements), while keeping index entries and scan pages small.
 */
export const keyBytesMax = 8192;

/**
 * Largest encoded value. 1 MiB keeps one record well inside a replication
 * frame and an IndexedDB transaction; bigger blobs belong in several records.
 */
export const valueBytesMax = 1_048_576;

/** Deepest nesting of tuples inside a key (the top-level element list is depth 0). */
export const tupleDepthMax = 32;

/** Deepest nesting of arrays, maps and tags inside a value. */
export const valueDepthMax = 128;
