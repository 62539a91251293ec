import { TesseraError } from '@tessera/core';
import { expect, it } from 'vitest';

it('resolves source', () => {
  expect(new TesseraError('m', 'c').name).toBe('TesseraError');
});
