/** Reading a request body within a byte bound, and parsing it as a JSON object. */
import type { IncomingMessage } from 'node:http';
import { ApiError } from './errors.ts';

/**
 * Reads the whole body, refusing (413) as soon as it passes `bytesMax`,
 * before the bytes beyond the bound are kept.
 */
export function readBody(request: IncomingMessage, bytesMax: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > bytesMax) {
    return Promise.reject(new ApiError('INVALID_REQUEST', `request body is over ${bytesMax} bytes`, 413));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > bytesMax) {
        request.off('data', onData);
        request.resume();
        reject(new ApiError('INVALID_REQUEST', `request body is over ${bytesMax} bytes`, 413));
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks, size)));
    request.once('error', reject);
  });
}

/** Parses a body as a JSON object; anything else is INVALID_REQUEST. An empty body is `{}`. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new ApiError('INVALID_REQUEST', `body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ApiError('INVALID_REQUEST', 'body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}
