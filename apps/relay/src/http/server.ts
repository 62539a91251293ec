/**
 * node:http servers of a peer: the JSON API (`HttpApi`) and the Prometheus
 * endpoint. Bounded: header and whole-request timeouts cut slow clients,
 * bodies are capped, and `close()` stops accepting, lets requests in
 * flight finish, then cuts what is left after `closeTimeoutMs`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpApi } from './api.ts';
import { ApiError, apiErrorOf } from './errors.ts';
import { METRICS_CONTENT_TYPE, type Registry } from './metrics.ts';

export interface HttpServerOptions {
  /** The JSON API; omitted for a metrics-only server. */
  readonly api?: HttpApi;
  /** Served at `GET /metrics` when given. */
  readonly metrics?: Registry;
  /** Called once per answered API request (route name, status). */
  readonly onRequest?: (route: string, status: number) => void;
  /** Hears errors that are bugs or I/O failures (answered 500). */
  readonly onError?: (error: unknown) => void;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** A client must send its headers within this, ms. Default 10000. */
  readonly headersTimeoutMs?: number;
  /** A client must send its whole request within this, ms. Default 30000. */
  readonly requestTimeoutMs?: number;
  /** Idle keep-alive connections close after this, ms. Default 5000. */
  readonly keepAliveTimeoutMs?: number;
  /** Graceful close waits this long for requests in flight, ms. Default 5000. */
  readonly closeTimeoutMs?: number;
}

export interface HttpServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function sendError(response: ServerResponse, error: ApiError): void {
  if (error.retryAfterMs !== undefined) {
    response.setHeader('retry-after', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
  }
  send(response, error.httpStatus, { status: 'error', error_code: error.errorCode, message: error.message });
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const report = options.onError ?? (() => {});
  const onRequest = options.onRequest ?? (() => {});
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://localhost');
    } catch {
      sendError(response, new ApiError('INVALID_REQUEST', 'malformed request target'));
      return;
    }
    const method = request.method ?? 'GET';
    if (options.metrics !== undefined && url.pathname === '/metrics' && method === 'GET') {
      const text = options.metrics.expose();
      response.writeHead(200, {
        'content-type': METRICS_CONTENT_TYPE,
        'content-length': Buffer.byteLength(text),
      });
      response.end(text);
      return;
    }
    const route = options.api?.route(method, url.pathname);
    if (route === undefined) {
      sendError(response, new ApiError('INVALID_REQUEST', `no such endpoint: ${url.pathname}`, 404));
      onRequest('unknown', 404);
      return;
    }
    if (route.run === undefined) {
      sendError(
        response,
        new ApiError('INVALID_REQUEST', `${method} is not allowed on ${url.pathname}`, 405),
      );
      onRequest(route.name, 405);
      return;
    }
    try {
      const answer = await route.run(request, url);
      send(response, answer.status, answer.body);
      onRequest(route.name, answer.status);
    } catch (error) {
      const apiError = apiErrorOf(error);
      if (apiError.errorCode === 'INTERNAL_ERROR') report(error);
      if (apiError.httpStatus === 413) response.setHeader('connection', 'close');
      if (!response.headersSent) sendError(response, apiError);
      else response.destroy();
      onRequest(route.name, apiError.httpStatus);
    }
  };
  const server: Server = createServer(
    {
      headersTimeout: options.headersTimeoutMs ?? 10_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
      // Node checks both timeouts on this period (default 30 s); check often enough that they hold.
      connectionsCheckingInterval: Math.min(1_000, options.headersTimeoutMs ?? 10_000),
    },
    (request, response) => {
      handle(request, response).catch((error: unknown) => {
        report(error);
        response.destroy();
      });
    },
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    // Slow clients (headersTimeout / requestTimeout) get 408, oversized headers 431, anything else 400.
    const status =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    host: address.address,
    port: address.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), options.closeTimeoutMs ?? 5_000);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
