/**
 * The list model: one list is one Tessera key holding every item, so a read
 * gets the whole list. Two tabs editing at once leave concurrent versions
 * (siblings); `mergeVersions` folds them into one list and the next write,
 * made with the read's context, replaces exactly the versions it merged.
 */

/** One item. */
export interface Todo {
  readonly id: string;
  readonly title: string;
  readonly done: boolean;
}

/** Longest title kept, in UTF-16 code units. */
export const TITLE_LENGTH_MAX = 200;
/** Most items in one list (the whole list is one value). */
export const TODOS_MAX = 500;

/** The key of list `name`. */
export const listKey = (name: string): string => `todo-list:${name}`;

function isTodo(value: unknown): value is Todo {
  const todo = value as Todo;
  return (
    typeof todo === 'object' &&
    todo !== null &&
    typeof todo.id === 'string' &&
    typeof todo.title === 'string' &&
    typeof todo.done === 'boolean'
  );
}

/** The items of one stored version; anything malformed (another app's data, a bad peer) is skipped. */
export function todosOf(value: unknown): Todo[] {
  return Array.isArray(value) ? value.filter(isTodo) : [];
}

/** Union of concurrent versions by id; an item done in any version is done. Ordered by id (creation time). */
export function mergeVersions(versions: readonly unknown[]): Todo[] {
  const byId = new Map<string, Todo>();
  for (const version of versions)
    for (const todo of todosOf(version)) {
      const seen = byId.get(todo.id);
      byId.set(todo.id, seen === undefined ? todo : { ...seen, done: seen.done || todo.done });
    }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A new item; ids sort by creation time, then at random. */
export function newTodo(title: string, nowMs = Date.now()): Todo {
  const trimmed = title.trim();
  if (trimmed.length === 0) throw new RangeError('a to-do needs a title');
  if (trimmed.length > TITLE_LENGTH_MAX)
    throw new RangeError(`titles are at most ${TITLE_LENGTH_MAX} characters`);
  return {
    id: `${nowMs.toString(36).padStart(9, '0')}-${crypto.randomUUID().slice(0, 8)}`,
    title: trimmed,
    done: false,
  };
}
