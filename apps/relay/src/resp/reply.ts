/**
 * Replies as data: commands return these, `encodeReply` turns them into RESP2
 * or RESP3 bytes. RESP3-only types fall back the way Redis does when the
 * client did not say HELLO 3.
 */

export type Reply =
  | { readonly type: 'simple'; readonly value: string }
  /** `value` is the whole error text, starting with its code word (`ERR …`). */
  | { readonly type: 'error'; readonly value: string }
  | { readonly type: 'integer'; readonly value: number | bigint }
  | { readonly type: 'bulk'; readonly value: Uint8Array }
  | { readonly type: 'null' }
  | { readonly type: 'array'; readonly value: readonly Reply[] }
  | { readonly type: 'map'; readonly value: readonly (readonly [Reply, Reply])[] }
  | { readonly type: 'set'; readonly value: readonly Reply[] }
  | { readonly type: 'double'; readonly value: number }
  | { readonly type: 'boolean'; readonly value: boolean }
  /** `format` is exactly three characters, e.g. `txt`. */
  | { readonly type: 'verbatim'; readonly format: string; readonly value: Uint8Array }
  | { readonly type: 'push'; readonly value: readonly Reply[] };

/** The RESP version a connection speaks. */
export type Protocol = 2 | 3;

export const OK: Reply = Object.freeze({ type: 'simple', value: 'OK' });
export const NULL: Reply = Object.freeze({ type: 'null' });

export function simple(value: string): Reply {
  return { type: 'simple', value };
}
export function error(value: string): Reply {
  return { type: 'error', value };
}
export function integer(value: number | bigint): Reply {
  return { type: 'integer', value };
}
export function bulk(value: Uint8Array | string): Reply {
  return { type: 'bulk', value: typeof value === 'string' ? Buffer.from(value) : value };
}
/** A bulk string, or null when `value` is undefined. */
export function bulkOrNull(value: Uint8Array | string | undefined): Reply {
  return value === undefined ? NULL : bulk(value);
}
export function array(value: readonly Reply[]): Reply {
  return { type: 'array', value };
}
export function map(value: readonly (readonly [Reply, Reply])[]): Reply {
  return { type: 'map', value };
}
/** A map with string keys (the common shape of HELLO, CLUSTER SHARDS, COMMAND DOCS). */
export function record(entries: readonly (readonly [string, Reply])[]): Reply {
  return map(entries.map(([k, v]) => [bulk(k), v] as const));
}
export function set(value: readonly Reply[]): Reply {
  return { type: 'set', value };
}
export function double(value: number): Reply {
  return { type: 'double', value };
}
export function boolean(value: boolean): Reply {
  return { type: 'boolean', value };
}
export function verbatim(value: Uint8Array | string, format = 'txt'): Reply {
  return { type: 'verbatim', format, value: typeof value === 'string' ? Buffer.from(value) : value };
}
export function push(value: readonly Reply[]): Reply {
  return { type: 'push', value };
}
