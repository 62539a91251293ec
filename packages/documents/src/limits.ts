/** Named bounds of the document layer. */

/** Most fields a schema declares. */
export const fieldsMax = 256;
/** Most secondary indexes one collection has. */
export const indexesMax = 16;
/** Most fields one index covers. */
export const indexFieldsMax = 8;
/** Longest database, collection, field or index name, in UTF-16 units. */
export const nameLengthMax = 128;
/** Most documents one `find` page returns. */
export const findLimitMax = 1000;
/** Default `find` page size. */
export const findLimitDefault = 100;
/** Objects one backfill page rewrites before it reports progress. */
export const backfillPageMax = 256;
/** Default time a collection handle trusts its cached schema before it re-reads the C record. */
export const schemaRefreshMsDefault = 1_000;
