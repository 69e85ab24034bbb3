/**
 * The request payload as the client meant it, per x-amz-content-sha256:
 * passed through, hash-verified, or aws-chunked decoded (signed or not, with or
 * without trailers). Nothing here reads the body: streams are wired up and
 * returned, and they fail with an S3Error before 'end' when the payload is bad.
 */
import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { S3Error } from '../errors.js';
import { AwsChunkedDecoder, type ChunkSigning } from './chunked.js';
import { EMPTY_SHA256 } from './sigv4.js';

export type { ChunkSigning } from './chunked.js';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
const STREAMING_ECDSA = 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD';
const STREAMING_ECDSA_TRAILER = 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER';

export type PayloadMode =
  | { readonly kind: 'unsigned' }
  | { readonly kind: 'sha256'; readonly hex: string }
  | { readonly kind: 'streaming-signed'; readonly trailer: boolean }
  | { readonly kind: 'streaming-unsigned-trailer' };

/** Interprets x-amz-content-sha256; S3's InvalidArgument for anything else. */
export function parsePayloadMode(value: string): PayloadMode {
  switch (value) {
    case UNSIGNED_PAYLOAD:
      return { kind: 'unsigned' };
    case STREAMING_SIGNED:
      return { kind: 'streaming-signed', trailer: false };
    case STREAMING_SIGNED_TRAILER:
      return { kind: 'streaming-signed', trailer: true };
    case STREAMING_UNSIGNED_TRAILER:
      return { kind: 'streaming-unsigned-trailer' };
    case STREAMING_ECDSA:
    case STREAMING_ECDSA_TRAILER:
      throw new S3Error('NotImplemented', 'Signature Version 4A (ECDSA) is not supported');
  }
  if (/^[0-9a-fA-F]{64}$/.test(value)) return { kind: 'sha256', hex: value.toLowerCase() };
  throw new S3Error(
    'InvalidArgument',
    `x-amz-content-sha256 must be ${UNSIGNED_PAYLOAD}, ${STREAMING_UNSIGNED_TRAILER}, ${STREAMING_SIGNED}, ${STREAMING_SIGNED_TRAILER}, ${STREAMING_ECDSA}, ${STREAMING_ECDSA_TRAILER} or a valid sha256 value.`,
    { ArgumentName: 'x-amz-content-sha256', ArgumentValue: value },
  );
}

export interface Payload {
  readonly body: Readable;
  readonly contentLength: number | undefined;
  readonly trailers: ReadonlyMap<string, string>;
}

const STREAM_HWM = 256 * 1024;

/**
 * Wires the request body for the given mode. `signing` is required for the signed
 * streaming mode (it carries the seed signature); callers without a signature
 * (anonymous requests) must not pass that mode.
 */
export function payloadBody(req: IncomingMessage, mode: PayloadMode, signing: ChunkSigning | undefined): Payload {
  const trailers = new Map<string, string>();
  if (mode.kind === 'streaming-signed' || mode.kind === 'streaming-unsigned-trailer') {
    if (mode.kind === 'streaming-signed' && signing === undefined) {
      throw new S3Error('InvalidRequest', 'Signed aws-chunked payloads require a signed request.');
    }
    const decodedLength = parseLength(req.headers['x-amz-decoded-content-length'], 'x-amz-decoded-content-length');
    if (decodedLength === undefined) throw new S3Error('MissingContentLength', 'You must provide the x-amz-decoded-content-length HTTP header.');
    const trailer = mode.kind === 'streaming-unsigned-trailer' || mode.trailer;
    const decoder = new AwsChunkedDecoder({
      decodedLength,
      signing: mode.kind === 'streaming-signed' ? signing : undefined,
      trailer,
      declaredTrailers: trailer ? declaredTrailers(req.headers['x-amz-trailer']) : undefined,
      trailers,
      highWaterMark: STREAM_HWM,
    });
    return { body: attachSource(req, decoder, undefined), contentLength: decodedLength, trailers };
  }

  const contentLength = parseLength(req.headers['content-length'], 'content-length');
  const hasBody = req.headers['transfer-encoding'] !== undefined || (contentLength !== undefined && contentLength > 0);
  const expectedHash = mode.kind === 'sha256' ? mode.hex : undefined;
  if (!hasBody) {
    // The common GET/HEAD/DELETE case: nothing to hash or wrap.
    if (expectedHash !== undefined && expectedHash !== EMPTY_SHA256) throw hashMismatch(expectedHash, EMPTY_SHA256);
    return { body: req, contentLength, trailers };
  }
  return { body: attachSource(req, new VerifyingStream(expectedHash, contentLength), contentLength), contentLength, trailers };
}

function parseLength(value: string | string[] | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const s = Array.isArray(value) ? value[0] ?? '' : value;
  if (!/^\d{1,16}$/.test(s.trim())) throw new S3Error('InvalidArgument', `Invalid ${name}`, { ArgumentName: name, ArgumentValue: s });
  const n = Number(s.trim());
  if (!Number.isSafeInteger(n)) throw new S3Error('InvalidArgument', `Invalid ${name}`, { ArgumentName: name, ArgumentValue: s });
  return n;
}

function declaredTrailers(value: string | string[] | undefined): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  const list = (Array.isArray(value) ? value.join(',') : value).split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  return list.length === 0 ? undefined : new Set(list);
}

function hashMismatch(client: string, computed: string): S3Error {
  return new S3Error('XAmzContentSHA256Mismatch', undefined, {
    ClientComputedContentSHA256: client,
    S3ComputedContentSHA256: computed,
  });
}

/**
 * Pipes req into dst and makes every failure an S3Error on dst: a client that
 * disconnects mid-body becomes IncompleteBody instead of a bare ECONNRESET.
 */
function attachSource(req: IncomingMessage, dst: Transform, expectedLength: number | undefined): Readable {
  const cut = (): void => {
    if (!dst.destroyed) dst.destroy(new S3Error('IncompleteBody', expectedLength === undefined ? undefined : `You did not provide the number of bytes specified by the Content-Length HTTP header (${expectedLength}).`));
  };
  req.once('error', cut);
  req.once('close', () => {
    if (!req.readableEnded) cut();
  });
  // An error can occur before the API layer has subscribed (say, the client hangs
  // up while authorization is still looking things up). Without a listener Node
  // would crash the process; consumers still see it via pipeline()/for await,
  // which check the stream's errored state.
  dst.on('error', () => {});
  req.pipe(dst);
  return dst;
}

/**
 * Passes the body through unchanged (same buffers) while counting it and, when
 * a digest was declared, hashing it; fails before 'end' on any mismatch.
 */
class VerifyingStream extends Transform {
  private readonly hash: Hash | undefined;
  private readonly expectedHash: string | undefined;
  private readonly expectedLength: number | undefined;
  private received = 0;

  constructor(expectedHash: string | undefined, expectedLength: number | undefined) {
    super({ readableHighWaterMark: STREAM_HWM, writableHighWaterMark: STREAM_HWM });
    this.expectedHash = expectedHash;
    this.expectedLength = expectedLength;
    this.hash = expectedHash === undefined ? undefined : createHash('sha256');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.received += chunk.length;
    if (this.expectedLength !== undefined && this.received > this.expectedLength) {
      callback(new S3Error('IncompleteBody', 'The request body is longer than the Content-Length HTTP header.'));
      return;
    }
    this.hash?.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.expectedLength !== undefined && this.received !== this.expectedLength) {
      callback(new S3Error('IncompleteBody'));
      return;
    }
    if (this.hash !== undefined && this.expectedHash !== undefined) {
      const computed = this.hash.digest('hex');
      if (computed !== this.expectedHash) {
        callback(hashMismatch(this.expectedHash, computed));
        return;
      }
    }
    callback();
  }
}
