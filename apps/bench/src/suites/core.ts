/**
 * Core suite: the key codec, the value codec and keySlot, each against a
 * baseline measured in this process on the same inputs.
 *
 * - keys: 3-element object keys `encodeKey('O', ['db', 'users', pk])`, half
 *   string and half integer primary keys. Baseline: JSON.stringify /
 *   JSON.parse of the same header+tuple as a string (no bytes, no order
 *   preservation: a floor for "serialize a small tuple" in JS, not a rival).
 * - values: ~100-byte objects. Baseline: raw cbor-x with the same
 *   standard-CBOR options value.ts uses (so the ratio is the cost of our
 *   checks), and JSON for scale.
 * - keySlot: vs the `cluster-key-slot` package (what ioredis uses).
 */
import { decodeKey, decodeValue, encodeKey, encodeValue, keySlot, type TupleElement } from '@tessera/core';
import { Decoder, Encoder } from 'cbor-x';
import clusterKeySlot from 'cluster-key-slot';
import { atLeastOpsPerSec, atLeastRatio, measureInterleaved, printTable } from '../harness.ts';

const inputCount = 1024; // a power of two: `i & mask` picks inputs cheaply
const mask = inputCount - 1;

function keyTuples(): TupleElement[][] {
  return Array.from({ length: inputCount }, (_, i) => ['db', 'users', i % 2 ? `user-${i * 7919}` : i * 7919]);
}

/** ~100 bytes of CBOR each (printed with the table). */
function valueObjects(): Record<string, unknown>[] {
  return Array.from({ length: inputCount }, (_, i) => ({
    id: i * 7919,
    name: `User Number ${i}`,
    email: `user${i}@example.com`,
    active: i % 3 !== 0,
    score: i + 0.5,
    tags: ['alpha', i % 2 ? 'beta' : 'gamma'],
    created: 1_763_683_200 + i,
  }));
}

// Same options as packages/core/src/value.ts: standard CBOR, no cbor-x extensions.
// (useTag259ForMaps is missing from cbor-x's typings, so the options go through a variable.)
const standardCborOptions = {
  useRecords: false,
  pack: false,
  bundleStrings: false,
  structuredClone: false,
  tagUint8Array: false,
  useTag259ForMaps: false,
  variableMapSize: true,
};
const rawEncoder = new Encoder(standardCborOptions);
const rawDecoder = new Decoder({ useRecords: false, mapsAsObjects: true, copyBuffers: true });

function slotKeys(): string[] {
  return Array.from({ length: inputCount }, (_, i) =>
    i % 4 === 0 ? `{user${i}}.following` : `user:${i}:profile`,
  );
}

export async function run(): Promise<void> {
  const tuples = keyTuples();
  const keys = tuples.map((t) => encodeKey('O', t));
  const jsonKeys = tuples.map((t) => JSON.stringify(['O', 1, 1, ...t]));
  const avgKeyBytes = keys.reduce((n, k) => n + k.length, 0) / keys.length;
  const [jsonEnc, keyEnc, jsonDec, keyDec] = measureInterleaved([
    ['JSON.stringify tuple', (i) => JSON.stringify(['O', 1, 1, ...tuples[i & mask]!])],
    ['encodeKey', (i) => encodeKey('O', tuples[i & mask]!)],
    ['JSON.parse tuple', (i) => JSON.parse(jsonKeys[i & mask]!)],
    ['decodeKey', (i) => decodeKey(keys[i & mask]!)],
  ]);
  printTable(`core: keys (3 elements, avg ${avgKeyBytes.toFixed(1)} bytes encoded)`, [
    { result: jsonEnc! },
    { result: keyEnc!, baseline: jsonEnc!.name, goal: atLeastOpsPerSec(2_000_000) },
    { result: jsonDec! },
    { result: keyDec!, baseline: jsonDec!.name, goal: atLeastOpsPerSec(1_500_000) },
  ]);

  const objects = valueObjects();
  const cbor = objects.map((o) => encodeValue(o));
  // The raw anchor's options are a copy of value.ts's; if they drift apart the
  // ratio compares different work, so refuse to print it.
  for (const [i, o] of objects.entries()) {
    if (Buffer.compare(rawEncoder.encode(o), cbor[i]!) !== 0) {
      throw new Error(
        `raw cbor-x and encodeValue write different bytes for input ${i}: align standardCborOptions`,
      );
    }
  }
  const json = objects.map((o) => JSON.stringify(o));
  const avgValueBytes = cbor.reduce((n, v) => n + v.length, 0) / cbor.length;
  const [rawEnc, valEnc, jsonStr, rawDec, valDec, jsonParse] = measureInterleaved([
    ['cbor-x encode (raw)', (i) => rawEncoder.encode(objects[i & mask])],
    ['encodeValue', (i) => encodeValue(objects[i & mask])],
    ['JSON.stringify', (i) => JSON.stringify(objects[i & mask])],
    ['cbor-x decode (raw)', (i) => rawDecoder.decode(cbor[i & mask]!)],
    ['decodeValue', (i) => decodeValue(cbor[i & mask]!)],
    ['JSON.parse', (i) => JSON.parse(json[i & mask]!)],
  ]);
  printTable(`core: values (~${avgValueBytes.toFixed(0)}-byte CBOR objects)`, [
    { result: rawEnc! },
    { result: valEnc!, baseline: rawEnc!.name, goal: atLeastRatio(0.9) },
    { result: jsonStr!, baseline: rawEnc!.name },
    { result: rawDec! },
    { result: valDec!, baseline: rawDec!.name, goal: atLeastRatio(0.9) },
    { result: jsonParse!, baseline: rawDec!.name },
  ]);

  const slotInputs = slotKeys();
  const [cks, ours] = measureInterleaved([
    ['cluster-key-slot', (i) => clusterKeySlot(slotInputs[i & mask]!)],
    ['keySlot', (i) => keySlot(slotInputs[i & mask]!)],
  ]);
  printTable('core: keySlot (ASCII keys, 1 in 4 with a hash tag)', [
    { result: cks! },
    { result: ours!, baseline: cks!.name, goal: atLeastRatio(1) },
  ]);
}
