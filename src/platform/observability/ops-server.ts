import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A running ops listener. */
export interface OpsServer {
  /** `http://host:port`, with the port actually bound. */
  url: string;
  /** Stops listening and closes idle connections. */
  close(): Promise<void>;
}

/** Where to listen and what to expose. */
export interface OpsServerOptions { host: string; port: number; registry: Registry }

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

/**
 * GET /metrics and /healthz for a process that serves no API (`portcullis worker`), so it can be
 * scraped and probed like `serve`. node:http rather than Fastify: two fixed read-only routes, no
 * bodies read, nothing else answered (404; 405 for other methods).
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/healthz') return send(res, 404, 'application/problem+json', JSON.stringify({ title: 'Not Found', status: 404 }));
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'application/problem+json', JSON.stringify({ title: 'Method Not Allowed', status: 405 }));
    if (path === '/healthz') return send(res, 200, 'application/json; charset=utf-8', '{"status":"ok"}');
    options.registry.metrics().then(
      (text) => send(res, 200, options.registry.contentType, text),
      () => send(res, 500, 'application/problem+json', JSON.stringify({ title: 'Internal Server Error', status: 500 })),
    );
  });
  // Slow clients: the same bounds as the API's defaults.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    }),
  };
}
