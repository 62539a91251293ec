/** Runs async tasks one at a time, in order, and counts how many wait. */
export class SerialQueue {
  #tail: Promise<void> = Promise.resolve();
  #length = 0;

  /** Tasks queued or running. */
  get length(): number {
    return this.#length;
  }

  /** Queues `task`; the result settles when it has run. */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.#length += 1;
    const result = this.#tail.then(task);
    this.#tail = result.then(
      () => {
        this.#length -= 1;
      },
      () => {
        this.#length -= 1;
      },
    );
    return result;
  }

  /** Settles when every task queued so far has run. */
  idle(): Promise<void> {
    return this.#tail;
  }
}
