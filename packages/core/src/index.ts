export * from './errors.ts';
export * from './slot.ts';
export * from './slot-range.ts';
