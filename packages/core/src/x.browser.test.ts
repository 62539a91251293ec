import { TesseraError } from '@tessera/core';
import { expect, it } from 'vitest';

it('runs in chromium with indexedDB', () => {
  expect(new TesseraError('m', 'c').name).toBe('TesseraError');
  expect(typeof indexedDB.open).toBe('function');
  expect(navigator.userAgent).toContain('Chrome');
});
