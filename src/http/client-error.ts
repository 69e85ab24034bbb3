import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { S3Error } from '../errors.js';
import { renderXml } from '../xml.js';

/** What Node's HTTP parser reports, mapped to S3's nearest error. */
function s3ErrorFor(err: NodeJS.ErrnoException): S3Error {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new S3Error('RequestHeaderSectionTooLarge');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return new S3Error('RequestTimeout');
    case 'HPE_INVALID_EOF_STATE':
      return new S3Error('IncompleteBody');
    default:
      return new S3Error('InvalidRequest', 'The request is not well-formed HTTP/1.1.');
  }
}

/** The request each connection is answering, so that bytes after it cannot cut its answer off. */
const exchanges = new WeakMap<Duplex, { readonly req: IncomingMessage; readonly res: ServerResponse }>();
/** Connections that close once their answer is out: further parser errors on them change nothing. */
const closing = new WeakSet<Duplex>();

/** Records the request a connection is now answering (keep-alive: one after another). */
export function trackExchange(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket;
  exchanges.set(socket, { req, res });
  res.once('close', () => {
    if (exchanges.get(socket)?.res === res) exchanges.delete(socket);
  });
}

/**
 * Answers a request Node's HTTP parser refused (bad framing, header overflow, a
 * body cut short by the client's FIN) with an S3 XML error instead of Node's
 * bare "400 Bad Request", if nothing was written on the connection yet; then
 * closes it, since its framing can no longer be trusted.
 *
 * Bytes past a complete request (a body longer than its Content-Length) are
 * such an error too, but the request they follow deserves its answer (S3's
 * BadDigest for a body cut to the declared length, say): that answer goes out
 * with `Connection: close` and the connection closes after it.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex & { bytesWritten?: number }, requestId: string): void {
  if (closing.has(socket)) return;
  const pending = exchanges.get(socket);
  if (pending !== undefined && pending.req.complete && !pending.res.writableFinished) {
    closing.add(socket);
    if (!pending.res.headersSent) pending.res.setHeader('Connection', 'close');
    pending.res.once('close', () => socket.destroy());
    return;
  }
  if (socket.writable && (socket.bytesWritten ?? 0) === 0) {
    const error = s3ErrorFor(err);
    const body = renderXml('Error', { Code: error.code, Message: error.message, RequestId: requestId, HostId: Buffer.from(requestId).toString('base64') }, null);
    const reason = error.status === 400 ? 'Bad Request' : 'Error';
    socket.write(`HTTP/1.1 ${error.status} ${reason}\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`
      + `x-amz-request-id: ${requestId}\r\nServer: Cairn\r\nDate: ${new Date().toUTCString()}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}
