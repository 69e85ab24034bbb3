import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { S3Error } from '../errors.js';
import { quoteEtag, sendEmpty } from '../http/respond.js';
import type { Acl, Bucket, Checksum, ContentHeaders, ObjectRecord, StoredBody, TagPair, WriteCondition } from '../store/types.js';
import { newAcl } from './acl.js';
import { bucketOf, keyOf, type RequestContext } from './context.js';
import {
  bareEtag, checkChecksumShape, checksumRequestFrom, contentHeadersFrom, contentMd5From, storageClassFrom,
  userMetadataFrom, validateKey, type ChecksumRequest,
} from './object-headers.js';
import { tagsFromHeader } from './tag-set.js';
import { writtenVersionHeader } from './versions.js';
import { newVersionLock, type NewVersionLock } from './object-lock.js';
import { NULL_VERSION } from '../store/version-rules.js';
import { expirationHeader } from './lifecycle.js';

/** Largest single PUT S3 accepts. */
export const MAX_PUT_SIZE = 5 * 1024 ** 3;

export async function putObject(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  validateKey(key);
  const headers = ctx.req.headers;
  const write = objectWriteFrom(headers);
  const condition = writeConditionFrom(ctx);
  const acl = await newAcl(ctx, bucket.owner);
  const length = ctx.auth.contentLength;
  if (length === undefined && headers['transfer-encoding'] === undefined) throw new S3Error('MissingContentLength');
  const maxSize = maxPutSize(ctx);
  if (length !== undefined && length > maxSize) throw new S3Error('EntityTooLarge', undefined, { ProposedSize: String(length), MaxSizeAllowed: String(maxSize) });
  const lock = newVersionLock(bucket, headers);
  const { record, checksum } = await storeObject(ctx, { bucket, key, write, acl, lock, ...(condition ? { condition } : {}) }, ctx.body(), length, ctx.auth.trailers);
  sendEmpty(ctx.res, 200, {
    ETag: quoteEtag(record.etag),
    ...writtenVersionHeader(record.versionId),
    ...(checksum ? { [`x-amz-checksum-${checksum.algorithm.toLowerCase()}`]: checksum.value, 'x-amz-checksum-type': checksum.type } : {}),
    ...await expirationHeader(ctx, record),
  });
}

/** The largest body one request may store: S3's 5 GiB, or less when the server is configured so. */
function maxPutSize(ctx: RequestContext): number {
  return Math.min(MAX_PUT_SIZE, ctx.settings.maxObjectSize);
}

/** What a write's headers (or a browser form's fields) ask of the new object, validated before its body is read. */
export interface ObjectWrite {
  readonly contentHeaders: ContentHeaders;
  readonly userMetadata: Record<string, string>;
  readonly storageClass: string;
  readonly checksumRequest: ChecksumRequest | undefined;
  /** Hex MD5 the body must have (Content-MD5). */
  readonly md5: string | undefined;
  /** The new object's tags: a write without any clears those of the object it replaces, as in S3. */
  readonly tags: readonly TagPair[];
}

export function objectWriteFrom(headers: IncomingHttpHeaders): ObjectWrite {
  return {
    contentHeaders: contentHeadersFrom(headers),
    userMetadata: userMetadataFrom(headers),
    storageClass: storageClassFrom(headers),
    checksumRequest: checksumRequestFrom(headers),
    md5: contentMd5From(headers),
    tags: tagsFromHeader(headers),
  };
}

/** Where a new object goes and what it becomes. */
export interface ObjectTarget {
  readonly bucket: Bucket;
  readonly key: string;
  readonly write: ObjectWrite;
  readonly acl: Acl;
  readonly condition?: WriteCondition;
  /** Object Lock retention and legal hold of the new version (from headers or the bucket's default). */
  readonly lock?: NewVersionLock;
}

/**
 * The write path of PutObject and POST Object: streams the body into storage
 * (hashes in the same pass), verifies it, and makes the object visible in one
 * metadata commit; a body that fails leaves nothing behind.
 */
export async function storeObject(
  ctx: RequestContext, target: ObjectTarget, body: Readable, length: number | undefined, trailers: ReadonlyMap<string, string>,
): Promise<{ record: ObjectRecord; checksum: Checksum | undefined }> {
  const { write } = target;
  const stored = await ctx.store.blobs.ingest(body, {
    ...(length !== undefined ? { declaredLength: length } : {}),
    maxSize: maxPutSize(ctx),
    ...(write.checksumRequest ? { checksum: write.checksumRequest.algorithm } : {}),
  });
  try {
    if (length !== undefined && stored.digest.size !== length) throw new S3Error('IncompleteBody');
    if (write.md5 !== undefined && write.md5 !== stored.digest.md5Hex) throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
    const checksum = verifiedChecksum(write.checksumRequest, stored, trailers);
    const written: ObjectRecord = {
      bucket: target.bucket.name, key: target.key, versionId: NULL_VERSION, size: stored.digest.size, etag: stored.digest.md5Hex,
      lastModified: new Date(), owner: target.acl.owner, storageClass: write.storageClass, acl: target.acl,
      headers: write.contentHeaders, userMetadata: write.userMetadata, ...(checksum ? { checksum } : {}), tags: write.tags, data: stored.data,
      ...(target.lock ?? newVersionLock(target.bucket, {})),
    };
    const record = { ...written, versionId: await ctx.store.metadata.putObject(written, target.condition) };
    ctx.settings.onGarbage();
    return { record, checksum };
  } catch (err) {
    await ctx.store.blobs.discard(stored.data);
    throw err;
  }
}

/** Checks the computed checksum against what the client sent (header or trailer); returns what to store. */
export function verifiedChecksum(request: ChecksumRequest | undefined, stored: StoredBody, trailers: ReadonlyMap<string, string>): Checksum | undefined {
  if (!request || stored.digest.checksum === undefined) return undefined;
  const name = `x-amz-checksum-${request.algorithm.toLowerCase()}`;
  let expected = request.expected;
  if (request.fromTrailer) {
    expected = trailers.get(name);
    if (expected === undefined) throw new S3Error('InvalidRequest', `The trailer ${name} announced in x-amz-trailer was not sent.`);
    checkChecksumShape(request.algorithm, expected);
  }
  if (expected !== undefined && expected !== stored.digest.checksum) {
    throw new S3Error('BadDigest', `The ${name} you specified did not match the calculated checksum.`);
  }
  return { algorithm: request.algorithm, value: stored.digest.checksum, type: 'FULL_OBJECT' };
}

/** If-None-Match: * and If-Match on writes, checked atomically with the commit. */
export function writeConditionFrom(ctx: RequestContext): WriteCondition | undefined {
  const ifNoneMatch = ctx.req.headers['if-none-match'];
  const ifMatch = ctx.req.headers['if-match'];
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    throw new S3Error('NotImplemented', 'If-None-Match on writes supports only *', { Header: 'If-None-Match' });
  }
  return {
    ...(ifNoneMatch !== undefined ? { ifNoneMatch: '*' } : {}),
    ...(ifMatch !== undefined ? { ifMatch: ifMatch.trim() === '*' ? '*' : bareEtag(ifMatch) } : {}),
  };
}
