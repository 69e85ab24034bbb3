import { createServer, type Server } from 'node:http';

export interface AdminEndpoints {
  /** The Prometheus exposition text and its content type. */
  readonly metrics: () => Promise<{ contentType: string; body: string }>;
  /** Resolves when the store is reachable; rejects otherwise. */
  readonly ready: () => Promise<void>;
}

/**
 * The operator's port: /metrics, /health/live and /health/ready, without auth
 * and outside the S3 namespace (on the S3 port, `health` could be a bucket).
 */
export function createAdminServer(endpoints: AdminEndpoints): Server {
  return createServer({ keepAlive: true }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, contentType = 'text/plain; charset=utf-8'): void => {
      res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method not allowed\n');
    switch (path) {
      case '/health/live':
        return reply(200, 'live\n');
      case '/health/ready':
        endpoints.ready().then(() => reply(200, 'ready\n'), (err: Error) => reply(503, `not ready: ${err.message}\n`));
        return;
      case '/metrics':
        endpoints.metrics().then(({ contentType, body }) => reply(200, body, contentType), (err: Error) => reply(500, `${err.message}\n`));
        return;
      default:
        return reply(404, 'not found\n');
    }
  });
}
