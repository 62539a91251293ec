export type * from './env.ts';
