/**
 * A shared to-do list: each tab is a Tessera browser peer (IndexedDB store)
 * attached to the cluster peers named in the URL, and the list lives under
 * one key. Only the public API is used: `createPeer`, `put`, `get`.
 *
 * URL: `?cluster=<name>&peer=<ws multiaddr>[&peer=…][&list=<name>][&owners=<id>,<id>…]`.
 * `owners` fixes the owner set (a `SlotLookup`, the `replication.slots` option) instead of
 * following the cluster's slot map, e.g. for tests.
 */
import { createPeer, type Peer, type SlotLookup } from '@tessera/peer';
import { openIndexedDbStore } from '@tessera/storage';
import { listKey, mergeVersions, newTodo, TODOS_MAX, type Todo } from './todos.ts';

/** How often the list is re-read (there is no change-event API on the peer yet). */
const REFRESH_MS = 1000;

const params = new URLSearchParams(location.search);
const list = params.get('list') ?? 'default';
const key = listKey(list);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function fixedOwners(ids: string[]): SlotLookup {
  return { lookup: (slot) => ({ owners: ids.map((_, i) => ids[(slot + i) % ids.length]!), epoch: 1 }) };
}

function showError(err: unknown): void {
  $('error').textContent = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function render(todos: readonly Todo[], onToggle: (id: string) => void): void {
  $('items').replaceChildren(
    ...todos.map((todo) => {
      const item = document.createElement('li');
      item.dataset.id = todo.id;
      item.dataset.done = String(todo.done);
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.checked = todo.done;
      box.setAttribute('aria-label', todo.title);
      box.addEventListener('change', () => onToggle(todo.id));
      item.append(box, ` ${todo.title}`);
      return item;
    }),
  );
}

async function start(): Promise<Peer> {
  const cluster = params.get('cluster');
  const bootstrap = params.getAll('peer');
  if (cluster === null || bootstrap.length === 0)
    throw new Error('the URL needs ?cluster=…&peer=<ws multiaddr>');
  const owners = params.get('owners')?.split(',').filter(Boolean);
  return createPeer({
    storage: await openIndexedDbStore(`tessera-todo-${cluster}`),
    cluster,
    bootstrap,
    ...(owners === undefined || owners.length === 0 ? {} : { replication: { slots: fixedOwners(owners) } }),
  });
}

/** Reads the list, applies `change` to the merged items, writes it back with the read's context. */
async function update(peer: Peer, change: (todos: Todo[]) => Todo[]): Promise<Todo[]> {
  const read = await peer.get(key);
  const merged = mergeVersions([read.value, ...read.siblings.map((sibling) => sibling.value)]);
  const next = change(merged);
  if (next.length > TODOS_MAX) throw new RangeError(`a list holds at most ${TODOS_MAX} items`);
  await peer.put(key, next, { context: read.context });
  return next;
}

const peer = await start().catch((err: unknown) => {
  showError(err);
  throw err;
});
$('status').textContent = `peer ${peer.id.slice(-8)} · list ${list}`;
$('status').dataset.peer = peer.id;

const toggle = (id: string) =>
  update(peer, (todos) => todos.map((todo) => (todo.id === id ? { ...todo, done: !todo.done } : todo))).then(
    (todos) => render(todos, toggle),
    showError,
  );

$('add').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>('title');
  let todo: Todo;
  try {
    todo = newTodo(input.value);
  } catch (err) {
    showError(err);
    return;
  }
  update(peer, (todos) => [...todos, todo]).then((todos) => {
    input.value = '';
    $('error').textContent = '';
    render(todos, toggle);
  }, showError);
});

async function refresh(): Promise<void> {
  try {
    const read = await peer.get(key);
    render(mergeVersions([read.value, ...read.siblings.map((sibling) => sibling.value)]), toggle);
    document.body.dataset.ready = 'true';
  } catch (err) {
    // Not reachable yet (no owner up, or no slot map): keep showing the last list and retry.
    showError(err);
  }
  setTimeout(refresh, REFRESH_MS);
}
void refresh();
