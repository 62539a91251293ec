/**
 * The paging loop every backend's `scan` shares: read a page, hand its
 * entries out one by one, read the next page after the last key handed out.
 * A hand-written iterator rather than an async generator, because a
 * generator costs several promise turns per entry and scans are hot.
 */
import { StoreClosedError } from './errors.ts';
import type { Entry } from './store.ts';
import type { ScanRange } from './validate.ts';

/** Reads up to `count` entries of `range`, strictly after `after` in scan direction when set. */
export type PageReader = (
  range: ScanRange,
  after: Uint8Array | undefined,
  count: number,
) => Promise<Entry[]> | Entry[];

/** How big pages are: the first is small (a `limit: 1` lookup reads little), later ones double up to the max. */
export interface PageSizes {
  readonly firstPageEntries: number;
  readonly pageEntriesMax: number;
  /** Later pages shrink so one page holds about this many bytes of keys and values. */
  readonly pageBytesTarget: number;
}

/** An `AsyncIterable` over `range` that reads it page by page through `read`. */
export function pagedScan(
  range: ScanRange,
  read: PageReader,
  sizes: PageSizes,
  isOpen: () => string | undefined,
): AsyncIterable<Entry> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Entry> {
      let page: Entry[] = [];
      let index = 0;
      let remaining = range.empty ? 0 : range.limit;
      let after: Uint8Array | undefined;
      let count = Math.min(sizes.firstPageEntries, sizes.pageEntriesMax);
      let exhausted = remaining === 0;
      const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
      // A caller may call next() again before a page arrives; it queues behind that read.
      let reading: Promise<unknown> | undefined;

      const fill = async (): Promise<IteratorResult<Entry>> => {
        const closed = isOpen();
        if (closed !== undefined) throw new StoreClosedError(closed);
        const want = Math.min(count, remaining);
        page = await read(range, after, want);
        index = 0;
        remaining -= page.length;
        if (page.length < want || remaining <= 0) exhausted = true;
        if (page.length === 0) return done;
        after = page[page.length - 1]!.key;
        let bytes = 0;
        for (const entry of page) bytes += entry.key.length + entry.value.length;
        const fitting = Math.max(1, Math.floor((sizes.pageBytesTarget * page.length) / Math.max(1, bytes)));
        count = Math.min(count * 2, sizes.pageEntriesMax, fitting);
        return { done: false, value: page[index++]! };
      };

      const next = (): Promise<IteratorResult<Entry>> => {
        if (reading !== undefined) return reading.then(next, next);
        if (index < page.length) return Promise.resolve({ done: false, value: page[index++]! });
        if (exhausted) return Promise.resolve(done);
        const result = fill();
        reading = result;
        const clear = () => {
          reading = undefined;
        };
        result.then(clear, clear);
        return result;
      };

      return {
        next,
        return(): Promise<IteratorResult<Entry>> {
          exhausted = true;
          page = [];
          return Promise.resolve(done);
        },
      };
    },
  };
}
