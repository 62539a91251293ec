/** A tiny typed event emitter (no DOM or Node dependency). */

/** Subscribe/unsubscribe to events of a typed map. */
export interface TypedEvents<Events extends object> {
  /** Calls `listener` for each `type` event; returns a function that unsubscribes. */
  on<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): () => void;
  /** Removes a listener added with `on`. */
  off<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): void;
}

export class Emitter<Events extends object> implements TypedEvents<Events> {
  readonly #listeners = new Map<keyof Events, Set<(event: never) => void>>();
  readonly #onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void) {
    this.#onListenerError = onListenerError;
  }

  on<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): () => void {
    let set = this.#listeners.get(type);
    if (!set) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    set.add(listener);
    return () => this.off(type, listener);
  }

  off<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): void {
    this.#listeners.get(type)?.delete(listener);
  }

  emit<K extends keyof Events>(type: K, event: Events[K]): void {
    const set = this.#listeners.get(type);
    if (!set) return;
    for (const listener of [...set]) {
      // A throwing listener must not break the protocol code that emitted.
      try {
        (listener as (event: Events[K]) => void)(event);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }
}
