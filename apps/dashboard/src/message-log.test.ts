import type { CoordinatorMessage } from '@tessera/coordinator';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageLog } from './message-log.ts';

const message = (clock: number, from: string): CoordinatorMessage => ({
  from,
  cluster: 'c',
  clock,
  incarnation: 1,
  time: 0,
  messageType: 't',
  eventType: 'e',
  payload: null,
});

const byStamp = (a: CoordinatorMessage, b: CoordinatorMessage) =>
  a.clock - b.clock || (a.from < b.from ? -1 : a.from > b.from ? 1 : 0);

describe('MessageLog', () => {
  it('keeps the newest messages in total order, each once, whatever the arrival order', () => {
    const stamp = fc.record({ clock: fc.integer({ min: 0, max: 50 }), from: fc.constantFrom('a', 'b', 'c') });
    fc.assert(
      fc.property(fc.array(stamp, { maxLength: 80 }), fc.integer({ min: 1, max: 30 }), (stamps, max) => {
        const log = new MessageLog(max);
        for (const s of stamps) log.add(message(s.clock, s.from));
        const unique = [
          ...new Map(stamps.map((s) => [`${s.clock}/${s.from}`, message(s.clock, s.from)])).values(),
        ];
        const expected = unique.sort(byStamp).slice(-max);
        // Older messages that arrive once the log is full are not kept; so the log holds
        // a suffix of everything seen, at most `max` long, sorted and without duplicates.
        const kept = log.messages.map((m) => `${m.clock}/${m.from}`);
        expect(kept.length).toBeLessThanOrEqual(max);
        expect([...log.messages].sort(byStamp)).toEqual(log.messages);
        expect(new Set(kept).size).toBe(kept.length);
        const expectedKeys = expected.map((m) => `${m.clock}/${m.from}`);
        expect(expectedKeys.slice(-kept.length)).toEqual(kept);
      }),
    );
  });

  it('reports duplicates and bumps its version only on change', () => {
    const log = new MessageLog(10);
    expect(log.add(message(2, 'b'))).toBe(true);
    expect(log.add(message(1, 'z'))).toBe(true);
    expect(log.add(message(2, 'a'))).toBe(true);
    const version = log.version;
    expect(log.add(message(2, 'b'))).toBe(false);
    expect(log.version).toBe(version);
    expect(log.messages.map((m) => `${m.clock}${m.from}`)).toEqual(['1z', '2a', '2b']);
  });
});
