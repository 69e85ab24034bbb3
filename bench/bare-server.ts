/**
 * The ceiling: a bare node:http server that streams PUT bodies into a file
 * (fsynced before answering) and GET bodies out of one. No S3, no auth, no
 * metadata: what any Node.js server on this machine can at best do.
 */
import { createServer } from 'node:http';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

const dir = process.argv[2];
if (!dir) throw new Error('usage: bare-server <dir>');
await mkdir(dir, { recursive: true });

function fileOf(url: string): string {
  const path = url.split('?')[0]!;
  return join(dir!, Buffer.from(decodeURIComponent(path)).toString('base64url'));
}

const server = createServer({ keepAlive: true, highWaterMark: 256 * 1024 }, (req, res) => {
  const file = fileOf(req.url ?? '/');
  const fail = (err: unknown): void => {
    if (!res.headersSent) res.writeHead(500);
    res.end(String(err));
  };
  switch (req.method) {
    case 'PUT': {
      const out = createWriteStream(file, { highWaterMark: 1024 * 1024 });
      req.pipe(out);
      out.on('error', fail);
      out.on('finish', () => {
        void open(file, 'r+').then(async (h) => {
          await h.sync();
          await h.close();
          res.writeHead(200, { 'Content-Length': 0 });
          res.end();
        }, fail);
      });
      return;
    }
    case 'GET': {
      if (req.url?.includes('list-type')) {
        void readdir(dir!).then((names) => {
          const body = JSON.stringify(names.slice(0, 1000));
          res.writeHead(200, { 'Content-Length': Buffer.byteLength(body) });
          res.end(body);
        }, fail);
        return;
      }
      void stat(file).then((s) => {
        res.writeHead(200, { 'Content-Length': s.size });
        createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(res);
      }, fail);
      return;
    }
    case 'HEAD':
      void stat(file).then((s) => {
        res.writeHead(200, { 'Content-Length': s.size });
        res.end();
      }, fail);
      return;
    case 'DELETE':
      void unlink(file).then(() => {
        res.writeHead(204);
        res.end();
      }, fail);
      return;
    default:
      res.writeHead(405);
      res.end();
  }
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
