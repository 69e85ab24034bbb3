import type { ServerResponse } from 'node:http';
import { pipeline as pipe } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { S3Error } from '../errors.js';
import { authorizeObject, mayList, type Access } from '../auth/authorize.js';
import type { AclPermission, BlobExtent, Blobs, Bucket, Checksum, Metadata, ObjectHead, ObjectRecord } from '../store/types.js';
import { bucketOf, keyOf, type RequestContext } from './context.js';
import { evaluateReadConditions } from './conditions.js';
import { assertReadable } from '../lifecycle/archive.js';
import { objectHeaders } from './object-headers.js';
import { versionHeader } from './versions.js';
import { lockHeaders } from './object-lock.js';
import { parseRange, type ByteRange } from './range.js';
import { ExtentVerifier, extentHash, inlineProblem, IntegrityError, quarantineObject, VerifyingStream } from '../store/integrity.js';
import { expirationHeader } from './lifecycle.js';

/** Query parameters that override response headers on GET (signed requests only, as S3 does). */
const RESPONSE_OVERRIDES = {
  'response-content-type': 'Content-Type',
  'response-content-language': 'Content-Language',
  'response-expires': 'Expires',
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
} as const;

export async function getObject(ctx: RequestContext): Promise<void> {
  const record = await loadObject(ctx);
  assertReadable(record);
  const problem = inlineProblem(record);
  if (problem !== undefined) {
    await quarantineObject(ctx.store, record, problem);
    throw damagedError(record.key);
  }
  await answerRead(ctx, record, record);
}

export async function headObject(ctx: RequestContext): Promise<void> {
  await answerRead(ctx, await loadObjectHead(ctx), undefined);
}

/** The addressed object without its inline body, for a reader allowed to READ it. */
export async function loadObjectHead(ctx: RequestContext): Promise<ObjectHead> {
  const bucket = bucketOf(ctx);
  const head = await ctx.store.metadata.headObject(bucket.name, keyOf(ctx), versionIdOf(ctx));
  return authorizedRead(head, ctx.access, bucket, keyOf(ctx), versionIdOf(ctx), 'READ');
}

function versionIdOf(ctx: RequestContext): string | undefined {
  return ctx.target.query.get('versionId') ?? undefined;
}

/** Loads the addressed version: the current one, or the one `versionId` names. */
export async function loadObject(ctx: RequestContext, permission: AclPermission = 'READ'): Promise<ObjectRecord> {
  return loadAuthorizedObject(ctx.store.metadata, ctx.access, bucketOf(ctx), keyOf(ctx), versionIdOf(ctx), permission);
}

/**
 * Loads an object the principal may access with `permission`. A missing key is
 * NoSuchKey only for callers who may list the bucket; others learn nothing and
 * get AccessDenied, as from S3.
 */
export async function loadAuthorizedObject(
  metadata: Metadata, access: Access, bucket: Bucket, key: string, versionId: string | undefined, permission: AclPermission,
): Promise<ObjectRecord> {
  return authorizedRead(await metadata.getObject(bucket.name, key, versionId), access, bucket, key, versionId, permission);
}

/** The object (record or head) if the principal may access it with `permission`, else the error S3 answers. */
function authorizedRead<T extends ObjectHead>(
  record: T | undefined, access: Access, bucket: Bucket, key: string, versionId: string | undefined, permission: AclPermission,
): T {
  if (!record) {
    if (!mayList(access, bucket, key)) throw new S3Error('AccessDenied');
    if (versionId !== undefined) throw new S3Error('NoSuchVersion', undefined, { Key: key, VersionId: versionId });
    throw new S3Error('NoSuchKey', undefined, { Key: key });
  }
  if (record.deleteMarker) {
    if (!mayList(access, bucket, key)) throw new S3Error('AccessDenied');
    const marker = { 'x-amz-delete-marker': 'true', 'x-amz-version-id': record.versionId };
    // The current version a marker: the key reads as deleted. A marker named by id: no method reads one.
    if (versionId === undefined) throw new S3Error('NoSuchKey', undefined, { Key: key }, marker);
    throw new S3Error('MethodNotAllowed', undefined, { Method: permission === 'READ' ? 'GET' : 'PUT', ResourceType: 'DeleteMarker' }, { ...marker, Allow: 'DELETE' });
  }
  authorizeObject(permission, access, bucket, record);
  if (permission === 'READ' && record.damaged !== undefined) throw damagedError(key);
  return record;
}

/**
 * What reading a quarantined object answers. S3 has no error for bytes that rotted
 * on disk; 500 InternalError is what it answers when it cannot serve stored data,
 * and an S3 client reports it (after its retries) instead of delivering bad bytes.
 */
function damagedError(key: string): S3Error {
  return new S3Error('InternalError', 'The stored data of this object failed its integrity check and was quarantined; it cannot be served.', { Key: key });
}

/** Answers a GET (with `body`, the same object's whole record) or a HEAD (without). */
async function answerRead(ctx: RequestContext, record: ObjectHead, body: ObjectRecord | undefined): Promise<void> {
  const headers = ctx.req.headers;
  const notModified = evaluateReadConditions(headers, record);
  const withChecksum = String(headers['x-amz-checksum-mode'] ?? '').toUpperCase() === 'ENABLED';
  const common = {
    ...objectHeaders(record, withChecksum),
    ...versionHeader(bucketOf(ctx), record.versionId),
    ...lockHeaders(record),
  };
  if (notModified) {
    // 304 carries the validators but no representation headers' body.
    ctx.res.writeHead(304, { ETag: common.ETag!, 'Last-Modified': common['Last-Modified']! });
    ctx.res.end();
    return;
  }
  Object.assign(common, await expirationHeader(ctx, record));
  for (const [param, headerName] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = ctx.target.query.get(param);
    if (value === null) continue;
    if (ctx.principal.kind === 'anonymous') {
      throw new S3Error('InvalidRequest', 'Request specific response headers cannot be used for anonymous GET requests.');
    }
    common[headerName] = value;
  }
  const partNumber = ctx.target.query.get('partNumber');
  let range: ByteRange | undefined;
  let partChecksum: Checksum | undefined;
  if (partNumber !== null) {
    if (headers.range !== undefined) throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
    const part = partRange(record, partNumber);
    range = part.range;
    partChecksum = part.checksum;
    if (part.count > 1 || record.etag.includes('-')) common['x-amz-mp-parts-count'] = part.count;
  } else if (headers.range !== undefined) {
    range = parseRange(headers.range, record.size);
  }
  if (range) {
    // A checksum describes the whole object, never a range of it; a part has its own.
    for (const name of Object.keys(common)) if (name.startsWith('x-amz-checksum-')) delete common[name];
    if (withChecksum && partChecksum) {
      common[`x-amz-checksum-${partChecksum.algorithm.toLowerCase()}`] = partChecksum.value;
      common['x-amz-checksum-type'] = partChecksum.type;
    }
    if (range.end >= range.start) common['Content-Range'] = `bytes ${range.start}-${range.end}/${record.size}`;
  }
  const { start, end } = range ?? { start: 0, end: record.size - 1 };
  // Read and verified before the status line, so damage answers a clean 500.
  const small = body && end >= start ? await readSmallBlob(ctx, body) : undefined;
  common['Content-Length'] = end - start + 1;
  ctx.res.writeHead(range ? 206 : 200, common);
  if (small) {
    ctx.res.end(small.subarray(start, end + 1));
    return;
  }
  if (!body || end < start) {
    // A header-only answer is computed synchronously; sent after the poll phase, the
    // answers to every request read in this loop turn leave together, which halves
    // the cost of waking their clients (measured on HEAD at concurrency 32).
    await setImmediate();
    ctx.res.end();
    return;
  }
  try {
    await streamBody(ctx.res, ctx.store.blobs, body, { start, end });
  } catch (err) {
    // The response was cut short before its last bytes; keep later readers from the bad blob.
    if (err instanceof IntegrityError) await quarantineObject(ctx.store, body, err.message);
    throw err;
  }
}

/**
 * The whole bytes of a one-blob object of up to VERIFY_BEFORE_STATUS_MAX, checked
 * against its recorded hash; undefined for other objects (they stream).
 */
async function readSmallBlob(ctx: RequestContext, record: ObjectRecord): Promise<Buffer | undefined> {
  if (record.data.kind !== 'blobs' || record.data.extents.length !== 1) return undefined;
  const extent = record.data.extents[0]!;
  if (extent.size === 0 || extent.size > VERIFY_BEFORE_STATUS_MAX) return undefined;
  const verifier = verifierOf(record, extent, 0, extent.size - 1);
  if (verifier === undefined) return undefined;
  const unpin = ctx.store.blobs.pin([extent.blob]);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of ctx.store.blobs.read(extent.blob, 0, extent.size - 1) as AsyncIterable<Buffer>) {
      verifier.update(chunk);
      chunks.push(chunk);
    }
    verifier.end();
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw err;
    await quarantineObject(ctx.store, record, err.message);
    throw damagedError(record.key);
  } finally {
    unpin();
  }
  return Buffer.concat(chunks);
}

/**
 * The bytes of part `n` of an object: its extents are its parts, in order (a simple
 * object is one part), with the part's checksum (a simple object's is its own).
 */
function partRange(record: ObjectHead, raw: string): { range: ByteRange; count: number; checksum: Checksum | undefined } {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 10_000) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber', ArgumentValue: raw });
  }
  const parts = record.data.kind === 'blobs' && record.etag.includes('-') ? record.data.extents : undefined;
  const sizes = parts ? parts.map((e) => e.size) : [record.size];
  if (n > sizes.length) throw new S3Error('InvalidPartNumber');
  const start = sizes.slice(0, n - 1).reduce((a, b) => a + b, 0);
  const size = sizes[n - 1]!;
  const partSum = parts?.[n - 1]!.checksum;
  const checksum = !parts ? record.checksum : record.checksum && partSum !== undefined ? { ...record.checksum, value: partSum } : undefined;
  // An empty part is an empty range (206 with no bytes), not the whole object.
  return { range: { start, end: start + size - 1 }, count: sizes.length, checksum };
}

/** Sends bytes [start, end] of an object, across its extents, with backpressure, and ends the response. */
export async function streamBody(res: ServerResponse, blobs: Blobs, record: ObjectRecord, range: ByteRange): Promise<void> {
  if (record.data.kind === 'inline') {
    res.end(record.data.bytes.subarray(range.start, range.end + 1));
    return;
  }
  const unpin = blobs.pin(record.data.extents.map((e) => e.blob));
  try {
    for (const { extent, from, to } of extentSlices(record.data.extents, range)) {
      const verifier = verifierOf(record, extent, from, to);
      await blobs.writeTo(extent.blob, from, to, res, verifier && ((chunk) => verifier.update(chunk)));
    }
    res.end();
  } finally {
    unpin();
  }
}

export async function* readExtents(blobs: Blobs, record: ObjectRecord, range: ByteRange): AsyncGenerator<Buffer> {
  if (record.data.kind !== 'blobs') return;
  const unpin = blobs.pin(record.data.extents.map((e) => e.blob));
  try {
    for (const { extent, from, to } of extentSlices(record.data.extents, range)) {
      const stream = blobs.read(extent.blob, from, to);
      const verifier = verifierOf(record, extent, from, to);
      yield* (verifier ? pipe(stream, new VerifyingStream(verifier), () => undefined) : stream) as AsyncIterable<Buffer>;
    }
  } finally {
    unpin();
  }
}

/** One-blob objects up to this size are read whole and verified before the status line, so damage answers a clean 500. */
const VERIFY_BEFORE_STATUS_MAX = 256 * 1024;
/**
 * Extents written before they carried a CRC32C are verified against their MD5 only
 * up to this size: MD5 runs at about 600 MiB/s here, and a 256 MiB GET verifying it
 * fell to 0.4 of the bare-server ceiling. Larger ones are left to `cairn admin scrub`.
 */
const VERIFY_MD5_MAX = 256 * 1024;

/**
 * The check for bytes [from, to] of an extent: only a whole extent can be verified
 * (a hash covers all its bytes), against its CRC32C whatever its size, or its MD5 when small.
 */
function verifierOf(record: ObjectRecord, extent: BlobExtent, from: number, to: number): ExtentVerifier | undefined {
  if (from !== 0 || to !== extent.size - 1) return undefined;
  const expected = extentHash(record, extent);
  if (expected === undefined || ('md5' in expected && extent.size > VERIFY_MD5_MAX)) return undefined;
  return new ExtentVerifier(extent.blob, extent.size, expected);
}

/** The extents a byte range covers, each with the bytes [from, to] of it that the range takes. */
function* extentSlices(extents: readonly BlobExtent[], range: ByteRange): Generator<{ extent: BlobExtent; from: number; to: number }> {
  let offset = 0;
  for (const extent of extents) {
    const extentEnd = offset + extent.size - 1;
    // An empty extent (an empty last part) has no bytes to send.
    if (extent.size > 0 && extentEnd >= range.start && offset <= range.end) {
      yield { extent, from: Math.max(range.start, offset) - offset, to: Math.min(range.end, extentEnd) - offset };
    }
    offset += extent.size;
    if (offset > range.end) return;
  }
}
