export * from './errors.ts';
export * from './slot.ts';
