/**
 * The key browser's text forms: how a typed value becomes what `peer.put`
 * stores, and how a read value is shown (indented JSON-like text; bytes as
 * hex plus UTF-8 when they decode). Bounded, so a huge value from another
 * peer cannot stall the page.
 */
import { DashboardInputError } from './errors.ts';

/** How the value field is read. */
export type ValueFormat = 'json' | 'text' | 'hex';

/** Longest rendering of one value, in characters. */
export const VALUE_VIEW_CHARS_MAX = 20_000;
const VIEW_DEPTH_MAX = 16;
const VIEW_ITEMS_MAX = 200;
/** Bytes shown as hex before the rest is elided. */
const HEX_BYTES_MAX = 256;

/** Parses the value field; throws `DashboardInputError` on text that is not of the chosen format. */
export function parseValueInput(text: string, format: ValueFormat): unknown {
  if (format === 'text') return text;
  if (format === 'hex') {
    const clean = text.replace(/\s+/g, '');
    if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean))
      throw new DashboardInputError('value', 'hex needs an even number of 0-9/a-f digits');
    const out = new Uint8Array(clean.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
    return out;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new DashboardInputError('value', `not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** The database field: empty = the default database 0, digits = an integer database, else a named one. */
export function parseDatabase(text: string): string | number {
  const trimmed = text.trim();
  if (trimmed === '') return 0;
  if (/^\d{1,15}$/.test(trimmed)) return Number(trimmed);
  return trimmed;
}

export function hexOf(bytes: Uint8Array, bytesMax = HEX_BYTES_MAX): string {
  let out = '';
  const n = Math.min(bytes.byteLength, bytesMax);
  for (let i = 0; i < n; i++) out += (bytes[i] as number).toString(16).padStart(2, '0');
  return bytes.byteLength > n ? `${out}… (${bytes.byteLength} bytes)` : out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes as `h'…'`, followed by their UTF-8 text when they are valid UTF-8. */
export function bytesView(bytes: Uint8Array): string {
  let text: string | undefined;
  try {
    text = utf8.decode(bytes.byteLength > HEX_BYTES_MAX ? bytes.subarray(0, HEX_BYTES_MAX) : bytes);
  } catch {
    text = undefined;
  }
  const hex = `h'${hexOf(bytes)}'`;
  return text === undefined ? hex : `${hex} /* utf-8: ${JSON.stringify(text)} */`;
}

/** A decoded value as indented JSON-like text. */
export function valueView(value: unknown, charsMax = VALUE_VIEW_CHARS_MAX): string {
  const text = view(value, 0, '');
  return text.length > charsMax ? `${text.slice(0, charsMax - 1)}…` : text;
}

function view(value: unknown, depth: number, indent: string): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(
        value.length > VALUE_VIEW_CHARS_MAX ? `${value.slice(0, VALUE_VIEW_CHARS_MAX)}…` : value,
      );
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'object':
      break;
    default:
      return typeof value;
  }
  if (value instanceof Uint8Array) return bytesView(value);
  if (value instanceof Date) return `Date(${JSON.stringify(value.toISOString())})`;
  if (depth >= VIEW_DEPTH_MAX) return '…';
  const inner = `${indent}  `;
  const tail = (n: number) => (n > VIEW_ITEMS_MAX ? `,\n${inner}… ${n - VIEW_ITEMS_MAX} more` : '');
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.slice(0, VIEW_ITEMS_MAX).map((item) => `${inner}${view(item, depth + 1, inner)}`);
    return `[\n${items.join(',\n')}${tail(value.length)}\n${indent}]`;
  }
  const entries: [unknown, unknown][] =
    value instanceof Map ? [...value.entries()] : Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return value instanceof Map ? 'Map {}' : '{}';
  const items = entries
    .slice(0, VIEW_ITEMS_MAX)
    .map(
      ([key, item]) =>
        `${inner}${typeof key === 'string' ? JSON.stringify(key) : view(key, depth + 1, inner)}: ${view(item, depth + 1, inner)}`,
    );
  return `${value instanceof Map ? 'Map ' : ''}{\n${items.join(',\n')}${tail(entries.length)}\n${indent}}`;
}
