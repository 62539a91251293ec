/**
 * Serves `/peers.json` from the file named by `TESSERA_PEERS_JSON`, in the
 * dev server and in preview, so a script that starts a cluster can point the
 * dashboard at it without editing URLs.
 */
import { readFile } from 'node:fs/promises';
import type { Connect, Plugin } from 'vite';

function middleware(path: string): Connect.NextHandleFunction {
  return (request, response, next) => {
    if (request.url?.split('?')[0] !== '/peers.json') return next();
    readFile(path).then(
      (body) => {
        response.setHeader('content-type', 'application/json');
        response.setHeader('cache-control', 'no-store');
        response.end(body);
      },
      (err: unknown) => next(err),
    );
  };
}

/** Adds the `/peers.json` route when `TESSERA_PEERS_JSON` is set. */
export function peersFile(path = process.env.TESSERA_PEERS_JSON): Plugin {
  return {
    name: 'tessera-peers-file',
    configureServer(server) {
      if (path) server.middlewares.use(middleware(path));
    },
    configurePreviewServer(server) {
      if (path) server.middlewares.use(middleware(path));
    },
  };
}
