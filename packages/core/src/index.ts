export * from './bytes.ts';
export * from './double.ts';
export * from './errors.ts';
export * from './lamport.ts';
export * from './limits.ts';
export * from './slot.ts';
export * from './slot-range.ts';
export { decodeTuple, encodeTuple, type TupleElement, TypeCode } from './tuple.ts';
export * from './uuid.ts';
