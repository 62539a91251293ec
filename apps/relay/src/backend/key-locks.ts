/**
 * One lock per key: sections for the same key run one at a time, in call
 * order; different keys run in parallel. A key's entry is dropped once its
 * last section ends, so the map holds only keys with work in flight.
 */
export class KeyLocks {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, section: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(section);
    // The chain must survive a failed section.
    const tail = result.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Keys with a section running or waiting. */
  get size(): number {
    return this.#tails.size;
  }
}
