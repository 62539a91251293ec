import { describe, expect, it } from 'vitest';
import { mergeVersions, newTodo, TITLE_LENGTH_MAX, todosOf } from './todos.ts';

describe('to-do list model', () => {
  it('merges concurrent versions by id, done wins, ordered by id', () => {
    const a = { id: '1', title: 'milk', done: false };
    const b = { id: '2', title: 'eggs', done: false };
    expect(mergeVersions([[a, b], [{ ...a, done: true }], [b]])).toEqual([{ ...a, done: true }, b]);
    expect(mergeVersions([[b], [a]]).map((todo) => todo.id)).toEqual(['1', '2']);
  });

  it('skips malformed stored data', () => {
    expect(todosOf('not a list')).toEqual([]);
    expect(todosOf([{ id: 1, title: 'x', done: false }, null, { id: 'ok', title: 't', done: true }])).toEqual(
      [{ id: 'ok', title: 't', done: true }],
    );
  });

  it('refuses empty and overlong titles', () => {
    expect(() => newTodo('   ')).toThrow(RangeError);
    expect(() => newTodo('x'.repeat(TITLE_LENGTH_MAX + 1))).toThrow(RangeError);
    expect(newTodo('  tea ', 0)).toMatchObject({ title: 'tea', done: false });
    expect(newTodo('a', 1).id < newTodo('a', 2).id).toBe(true);
  });
});
