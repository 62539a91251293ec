/** Checks the result of each op kind in a reply from a peer (peers are not trusted). */
import { bucketFanout } from './buckets.ts';
import { compareBytes } from './bytes.ts';
import { BadFrameError } from './errors.ts';
import { checkKey } from './frame-checks.ts';
import { idempotentFromWire, type OpResult, type ReplicaOp } from './frames.ts';
import { isBytes, recordFromWire } from './record-codec.ts';

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The typed result of `op`, from an unchecked reply entry; throws `BadFrameError`. */
export function resultFromWire(op: ReplicaOp, raw: unknown, path: string): OpResult {
  if (!isMap(raw)) throw new BadFrameError(`${path}: must be a map`);
  if (raw.ok === false) {
    if (typeof raw.code !== 'string') throw new BadFrameError(`${path}.code: must be a string`);
    return { ok: false, code: raw.code.slice(0, 100), message: String(raw.message ?? '').slice(0, 500) };
  }
  if (raw.ok !== true) throw new BadFrameError(`${path}.ok: must be a boolean`);
  switch (op.op) {
    case 'mint':
      if (raw.duplicate !== undefined && raw.duplicate !== null) {
        return { ok: true, duplicate: idempotentFromWire(raw.duplicate, `${path}.duplicate`) };
      }
      return { ok: true, record: recordFromWire(raw.record, `${path}.record`) };
    case 'read':
      return { ok: true, record: raw.record === null ? null : recordFromWire(raw.record, `${path}.record`) };
    case 'apply':
    case 'remember':
      return { ok: true };
    case 'digests': {
      const digests = raw.digests;
      if (!Array.isArray(digests) || digests.length !== op.slots.length) {
        throw new BadFrameError(`${path}.digests: one per slot asked`);
      }
      for (const digest of digests)
        if (!isBytes(digest) || digest.length !== 8) throw new BadFrameError(`${path}.digests`);
      return { ok: true, digests };
    }
    case 'children': {
      const children = raw.children;
      if (!Array.isArray(children) || children.length !== op.parents.length * bucketFanout) {
        throw new BadFrameError(`${path}.children: ${bucketFanout} per parent asked`);
      }
      const checked = children.map((child, i) => {
        if (
          !Array.isArray(child) ||
          child.length !== 2 ||
          !isBytes(child[0]) ||
          child[0].length !== 8 ||
          typeof child[1] !== 'number' ||
          !Number.isSafeInteger(child[1]) ||
          child[1] < 0
        ) {
          throw new BadFrameError(`${path}.children[${i}]: must be [8-byte digest, count]`);
        }
        return [child[0], child[1]] as const;
      });
      return { ok: true, children: checked };
    }
    case 'entries': {
      const entries = raw.entries;
      if (!Array.isArray(entries) || entries.length > op.limit || typeof raw.more !== 'boolean') {
        throw new BadFrameError(`${path}.entries: at most ${op.limit} entries and a boolean more`);
      }
      const checked = entries.map((entry, i) => {
        if (!Array.isArray(entry) || entry.length !== 2 || !isBytes(entry[1]) || entry[1].length !== 8) {
          throw new BadFrameError(`${path}.entries[${i}]: must be [key, 8-byte hash]`);
        }
        return [checkKey(entry[0], `${path}.entries[${i}]`), entry[1]] as const;
      });
      return { ok: true, entries: checked, more: raw.more };
    }
    case 'scan': {
      const scanned = raw.scanned;
      if (!Array.isArray(scanned) || scanned.length > op.limit) {
        throw new BadFrameError(`${path}.scanned: at most ${op.limit} entries`);
      }
      if (raw.next !== null && !isBytes(raw.next)) throw new BadFrameError(`${path}.next: bytes or null`);
      let previous: Uint8Array | null = op.after;
      const checked = scanned.map((entry, i) => {
        if (!Array.isArray(entry) || entry.length !== 2 || !isBytes(entry[1])) {
          throw new BadFrameError(`${path}.scanned[${i}]: must be [key, value]`);
        }
        const key = checkKey(entry[0], `${path}.scanned[${i}]`);
        // In range and strictly ascending: the caller merges pages from many owners by key.
        if (
          compareBytes(key, op.start) < 0 ||
          compareBytes(key, op.end) >= 0 ||
          (previous && compareBytes(key, previous) <= 0)
        ) {
          throw new BadFrameError(`${path}.scanned[${i}]: key out of order or out of range`);
        }
        previous = key;
        return [key, entry[1]] as const;
      });
      const next = raw.next === null ? null : checkKey(raw.next, `${path}.next`);
      if (next && previous && compareBytes(next, previous) < 0)
        throw new BadFrameError(`${path}.next: behind the page`);
      return { ok: true, scanned: checked, next };
    }
    case 'records': {
      const records = raw.records;
      if (!Array.isArray(records) || records.length > op.limit || typeof raw.more !== 'boolean') {
        throw new BadFrameError(`${path}.records: at most ${op.limit} records and a boolean more`);
      }
      const checked = records.map((entry, i) => {
        if (!Array.isArray(entry) || entry.length !== 2) {
          throw new BadFrameError(`${path}.records[${i}]: must be [key, record bytes]`);
        }
        const key = checkKey(entry[0], `${path}.records[${i}]`);
        // Bytes only: the caller reads each with `recordFromStored`, which checks the record whole
        // (decoding it here too would decode every record of a slot copy twice).
        if (!isBytes(entry[1]) || entry[1].length === 0)
          throw new BadFrameError(`${path}.records[${i}].record: must be bytes`);
        return [key, entry[1]] as const;
      });
      return { ok: true, records: checked, more: raw.more };
    }
    case 'reap':
      if (typeof raw.reaped !== 'boolean') throw new BadFrameError(`${path}.reaped: must be a boolean`);
      return { ok: true, reaped: raw.reaped };
  }
}
