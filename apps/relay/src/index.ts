export * from './errors.ts';
export * from './resp/index.ts';
