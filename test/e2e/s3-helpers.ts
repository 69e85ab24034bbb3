/**
 * Helpers for the SDK v3 end-to-end tests: asserting S3 errors as a user of the
 * SDK sees them, adjusting the headers the SDK sends, raw (optionally signed)
 * HTTP requests, and small XML / file-system readers.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes, type Hash, type Hmac } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AbsoluteLocation, BuildHandler, BuildHandlerOptions, Checksum, MetadataBearer, SourceData } from '@smithy/types';
import { SignatureV4 } from '@smithy/signature-v4';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { ROOT_KEY, type RunningServer } from './harness.js';

/** What every error the SDK throws for an S3 error response carries. */
export interface SdkError extends Error, MetadataBearer {
  readonly Code?: string;
  readonly [member: string]: unknown;
}

function isSdkError(e: unknown): e is SdkError {
  return e instanceof Error && typeof (e as Partial<SdkError>).$metadata === 'object';
}

/** Awaits `promise`, expecting it to fail with an S3 error of this name and HTTP status; returns the error. */
export async function rejectsWith(promise: Promise<unknown>, name: string, status: number): Promise<SdkError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== undefined, `expected ${name} (${status}), but the request succeeded`);
  assert.ok(isSdkError(caught), `expected an S3 error, got ${String(caught)}`);
  assert.equal(caught.$metadata.httpStatusCode, status, `status of ${caught.name}: ${caught.message}`);
  assert.equal(caught.name, name, `error name (message: ${caught.message})`);
  return caught;
}

/** Awaits `promise`, expecting a failure with this HTTP status whatever its name (e.g. 304, which has no body). */
export async function rejectsWithStatus(promise: Promise<unknown>, status: number): Promise<SdkError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== undefined, `expected status ${status}, but the request succeeded`);
  assert.ok(isSdkError(caught), `expected an S3 error, got ${String(caught)}`);
  assert.equal(caught.$metadata.httpStatusCode, status, `status (error ${caught.name}: ${caught.message})`);
  return caught;
}

/** A build-step middleware that works for any command's input and output. */
type AnyBuildMiddleware = <I extends object, O extends object>(next: BuildHandler<I, O>) => BuildHandler<I, O>;

interface WithMiddleware {
  readonly middlewareStack: {
    add(middleware: AnyBuildMiddleware, options: BuildHandlerOptions & AbsoluteLocation): void;
  };
}

/**
 * Sets (string) or removes (null) request headers on one command after the SDK
 * built the request and before it is signed: how a test sends what the SDK's
 * own serialiser would not (no Content-Type, a raw header value).
 */
export function withHeaders<C extends WithMiddleware>(command: C, headers: Readonly<Record<string, string | null>>): C {
  const middleware: AnyBuildMiddleware = (next) => async (args) => {
    const request = args.request as { headers?: Record<string, string> };
    if (request.headers) {
      for (const [name, value] of Object.entries(headers)) {
        for (const existing of Object.keys(request.headers)) {
          if (existing.toLowerCase() === name.toLowerCase()) delete request.headers[existing];
        }
        if (value !== null) request.headers[name] = value;
      }
    }
    return next(args);
  };
  command.middlewareStack.add(middleware, { step: 'build', priority: 'low' });
  return command;
}

/** A bucket name no other test of the run uses. */
export function uniqueBucket(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Creates a bucket with a unique name starting with `prefix`; returns the name. */
export async function newBucket(s3: S3Client, prefix: string): Promise<string> {
  const bucket = uniqueBucket(prefix);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** Deterministic pseudo-random bytes, so that a failure reproduces. */
export function patternBytes(size: number, seed = 1): Buffer<ArrayBuffer> {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** The bytes of a GetObject body. */
export async function bodyBytes(body: { transformToByteArray(): Promise<Uint8Array> } | undefined): Promise<Buffer> {
  assert.ok(body, 'response has a body');
  return Buffer.from(await body.transformToByteArray());
}

export function md5Base64(data: Buffer | string): string {
  return createHash('md5').update(data).digest('base64');
}

export function md5Hex(data: Buffer | string): string {
  return createHash('md5').update(data).digest('hex');
}

// ---------------------------------------------------------------------------
// Raw HTTP

/** SHA-256 / HMAC-SHA256 for @smithy/signature-v4, from node:crypto. */
export class NodeSha256 implements Checksum {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }

  update(data: Uint8Array): void {
    this.hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    if (this.secret === undefined) return createHash('sha256');
    const key = typeof this.secret === 'string' ? this.secret : Buffer.from(this.secret as Uint8Array);
    return createHmac('sha256', key);
  }
}

export interface RawRequest {
  readonly method: string;
  /** Path as sent on the wire (already percent-encoded), without the query. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | string;
}

/**
 * Signs a request with SigV4 (header form) as `credentials`, the payload hashed
 * (or UNSIGNED-PAYLOAD when `unsignedPayload`). Returns the headers to send,
 * `host` included.
 */
export async function signRequest(
  server: RunningServer,
  request: RawRequest,
  options: { credentials?: { accessKeyId: string; secretAccessKey: string }; unsignedPayload?: boolean } = {},
): Promise<Record<string, string>> {
  const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(request.body);
  const signer = new SignatureV4({
    credentials: options.credentials ?? ROOT_KEY, region: 'us-east-1', service: 's3', sha256: NodeSha256,
    uriEscapePath: false, applyChecksum: false,
  });
  const contentSha256 = options.unsignedPayload ? 'UNSIGNED-PAYLOAD' : createHash('sha256').update(body).digest('hex');
  const signed = await signer.sign({
    method: request.method,
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: server.port,
    path: request.path,
    query: { ...(request.query ?? {}) },
    headers: { host: `127.0.0.1:${server.port}`, 'x-amz-content-sha256': contentSha256, ...(request.headers ?? {}) },
  });
  return signed.headers;
}

/** The URL of a raw request against `server`. */
export function urlOf(server: RunningServer, request: Pick<RawRequest, 'path' | 'query'>): string {
  const query = new URLSearchParams(request.query ?? {}).toString().replace(/\+/g, '%20');
  return `${server.endpoint}${request.path}${query ? `?${query}` : ''}`;
}

/** Sends a SigV4-signed request with fetch. */
export async function signedFetch(server: RunningServer, request: RawRequest): Promise<Response> {
  const headers = await signRequest(server, request);
  delete headers.host;
  return fetch(urlOf(server, request), {
    method: request.method,
    headers,
    ...(request.body !== undefined ? { body: Buffer.from(request.body) } : {}),
  });
}

/** The text of each named child of an XML document's root, in order (enough for S3's flat documents). */
export function xmlValues(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g'))].map((m) => m[1]!);
}

/** The text of the single element `name`, or undefined. */
export function xmlValue(xml: string, name: string): string | undefined {
  return xmlValues(xml, name)[0];
}

// ---------------------------------------------------------------------------
// Files

/** Every path under `dir` (files and folders), relative to it. */
export function walk(dir: string): string[] {
  const out: string[] = [];
  const visit = (rel: string): void => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : join(rel, entry.name);
      out.push(path);
      if (entry.isDirectory()) visit(path);
    }
  };
  visit('');
  return out;
}

// ---------------------------------------------------------------------------
// Reference checksums, written out here so that expectations do not come from
// the libraries the server itself uses.

function crc32Table(poly: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const CRC32_TABLE = crc32Table(0xedb88320);
const CRC32C_TABLE = crc32Table(0x82f63b78);

function crc32With(table: Uint32Array, data: Uint8Array): Buffer {
  let c = 0xffffffff;
  for (const byte of data) c = table[(c ^ byte) & 0xff]! ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out;
}

const CRC64_POLY = 0x9a6c9329ac4bc9b5n;
const MASK64 = 0xffffffffffffffffn;
const CRC64_TABLE: bigint[] = Array.from({ length: 256 }, (_, n) => {
  let c = BigInt(n);
  for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ CRC64_POLY : c >> 1n;
  return c;
});

function crc64Nvme(data: Uint8Array): Buffer {
  let c = MASK64;
  for (const byte of data) c = CRC64_TABLE[Number((c ^ BigInt(byte)) & 0xffn)]! ^ (c >> 8n);
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE((c ^ MASK64) & MASK64);
  return out;
}

export type ChecksumName = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';

/** S3's base64 form of a checksum of `data`. */
export function checksumOf(algorithm: ChecksumName, data: Uint8Array): string {
  switch (algorithm) {
    case 'CRC32': return crc32With(CRC32_TABLE, data).toString('base64');
    case 'CRC32C': return crc32With(CRC32C_TABLE, data).toString('base64');
    case 'CRC64NVME': return crc64Nvme(data).toString('base64');
    case 'SHA1': return createHash('sha1').update(data).digest('base64');
    case 'SHA256': return createHash('sha256').update(data).digest('base64');
  }
}
