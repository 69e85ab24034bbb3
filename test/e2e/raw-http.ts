/**
 * Byte-exact HTTP/1.1 exchanges over a TCP socket, for requests no HTTP client
 * library would send: a missing or lying Content-Length, a body cut short, raw
 * bytes in the request line.
 */
import { connect } from 'node:net';
import type { RunningServer } from './harness.js';
import { signRequest } from './s3-helpers.js';

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface RawExchange {
  /** Request line and headers, without the blank line that ends them. */
  readonly head: string | Buffer;
  /** Bytes sent after the head. */
  readonly body?: Buffer;
  /** Close the socket right after sending, without waiting for an answer (a client that dies). */
  readonly abort?: boolean;
  /** Half-close the socket after sending (FIN): the body ends where the bytes end. */
  readonly halfClose?: boolean;
}

/** Parses one HTTP/1.1 response (status line, headers, the rest as body). */
export function parseResponse(raw: Buffer): RawResponse | undefined {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = text.slice(0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status, headers, body: raw.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1')).toString('utf8') };
}

/**
 * Sends one request on a fresh connection and reads until the server closes it
 * (requests carry `Connection: close`) or `timeoutMs` passes. Resolves undefined
 * when no complete response arrived (e.g. the connection was reset).
 */
export function rawExchange(port: number, exchange: RawExchange, timeoutMs = 10_000): Promise<RawResponse | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseResponse(Buffer.concat(chunks)));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', finish);
    socket.on('connect', () => {
      const head = Buffer.isBuffer(exchange.head) ? exchange.head : Buffer.from(exchange.head, 'latin1');
      socket.write(Buffer.concat([head, Buffer.from('\r\n\r\n'), exchange.body ?? Buffer.alloc(0)]));
      if (exchange.halfClose) socket.end();
      if (exchange.abort) {
        // Let the bytes leave, then vanish without a FIN the server could take for the end of a body.
        setTimeout(() => { socket.resetAndDestroy(); finish(); }, 50);
      }
    });
  });
}

/** Request line and headers as one string (the form rawExchange sends). */
export function head(method: string, path: string, headers: Readonly<Record<string, string | number>>): string {
  return [`${method} ${path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
}

export interface RawSignedOptions {
  readonly abort?: boolean;
  readonly halfClose?: boolean;
  readonly query?: Record<string, string>;
  readonly timeoutMs?: number;
}

/**
 * Sends a SigV4-signed (UNSIGNED-PAYLOAD) request over a raw socket with exactly
 * these extra headers and body bytes, which may disagree with Content-Length.
 */
export async function rawSigned(
  server: RunningServer, method: string, path: string, extra: Record<string, string | number>, body?: Buffer, options: RawSignedOptions = {},
): Promise<RawResponse | undefined> {
  const signed = await signRequest(server, { method, path, ...(options.query ? { query: options.query } : {}) }, { unsignedPayload: true });
  const query = options.query ? `?${new URLSearchParams(options.query).toString()}` : '';
  return rawExchange(server.port, {
    head: head(method, path + query, { ...signed, ...extra, Connection: 'close' }),
    ...(body ? { body } : {}),
    ...(options.abort ? { abort: true } : {}),
    ...(options.halfClose ? { halfClose: true } : {}),
  }, options.timeoutMs);
}
