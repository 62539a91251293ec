/** Bounded polling for tests: waits on a condition, never on a fixed sleep. */

/** Options of `waitFor`. */
export interface WaitOptions {
  /** Give up after this long. */
  readonly timeoutMs?: number;
  /** Poll this often. */
  readonly intervalMs?: number;
  /** Said in the error when the wait gives up. */
  readonly what?: string;
}

/** Resolves with the first truthy result of `check`, or rejects after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== undefined && result !== null && result !== false) return result;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a condition'}`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
