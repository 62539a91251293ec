/**
 * Core suite: keySlot against the `cluster-key-slot` npm package (what
 * ioredis uses), same keys, same process.
 */
import { keySlot } from '@tessera/core';
import clusterKeySlot from 'cluster-key-slot';
import { atLeastRatio, measure, printTable } from '../harness.ts';

function slotKeys(): string[] {
  const keys: string[] = [];
  for (let i = 0; i < 1024; i++) keys.push(i % 4 === 0 ? `{user${i}}.following` : `user:${i}:profile`);
  return keys;
}

export async function run(): Promise<void> {
  const keys = slotKeys();
  const mask = keys.length - 1;
  printTable('core: keySlot (1024 ASCII keys, 1 in 4 with a hash tag)', [
    { result: measure('cluster-key-slot', (i) => clusterKeySlot(keys[i & mask]!)) },
    {
      result: measure('keySlot', (i) => keySlot(keys[i & mask]!)),
      baseline: 'cluster-key-slot',
      goal: atLeastRatio(1),
    },
  ]);
}
