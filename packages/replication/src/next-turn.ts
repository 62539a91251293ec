/**
 * Runs a callback after the current event-loop turn's microtasks, so work
 * queued by every promise continuation of this turn can be gathered first
 * (frames per peer, writes per store batch). A microtask would run too early:
 * callers resumed by one reply chunk reach their next call several
 * microtask hops later.
 */

type Schedule = (task: () => void) => void;

function makeSchedule(): Schedule {
  const g = globalThis as { setImmediate?: (task: () => void) => unknown };
  if (typeof g.setImmediate === 'function') {
    const setImmediate = g.setImmediate;
    return (task) => {
      setImmediate(task);
    };
  }
  if (typeof MessageChannel === 'function') {
    // Browsers: a message task runs after microtasks without setTimeout's clamping.
    const channel = new MessageChannel();
    const tasks: (() => void)[] = [];
    channel.port1.onmessage = () => tasks.shift()?.();
    return (task) => {
      tasks.push(task);
      channel.port2.postMessage(null);
    };
  }
  return (task) => {
    setTimeout(task, 0);
  };
}

export const nextTurn: Schedule = makeSchedule();
