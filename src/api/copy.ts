import { S3Error } from '../errors.js';
import { isoDate, quoteEtag, sendXml } from '../http/respond.js';
import { Readable } from 'node:stream';
import type { ObjectRecord } from '../store/types.js';
import { assertReadable } from '../lifecycle/archive.js';
import { newAcl } from './acl.js';
import { bucketOf, keyOf, type RequestContext } from './context.js';
import { evaluateConditions } from './conditions.js';
import { loadAuthorizedObject, readExtents } from './get.js';
import {
  checksumRequestFrom, contentHeadersFrom, storageClassFrom, userMetadataFrom, validateKey,
} from './object-headers.js';
import { MAX_PUT_SIZE, writeConditionFrom } from './put.js';
import { tagsFromHeader } from './tag-set.js';
import { versionHeader, writtenVersionHeader } from './versions.js';
import { newVersionLock } from './object-lock.js';
import { NULL_VERSION } from '../store/version-rules.js';
import { expirationHeader } from './lifecycle.js';

/** Parses x-amz-copy-source: `[/]bucket/key[?versionId=…]`, URL-encoded. */
export function parseCopySource(value: string): { bucket: string; key: string; versionId: string | undefined } {
  const q = value.indexOf('?');
  const path = q < 0 ? value : value.slice(0, q);
  const versionId = q < 0 ? undefined : new URLSearchParams(value.slice(q + 1)).get('versionId') ?? undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw new S3Error('InvalidArgument', 'Invalid copy source encoding', { ArgumentName: 'x-amz-copy-source' });
  }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), versionId };
}

/** Loads and authorises a copy source, then checks the x-amz-copy-source-if-* conditions. */
export async function loadCopySource(ctx: RequestContext): Promise<CopySource> {
  const source = parseCopySource(String(ctx.req.headers['x-amz-copy-source']));
  const bucket = await ctx.store.metadata.getBucket(source.bucket);
  if (!bucket) throw new S3Error('NoSuchBucket', undefined, { BucketName: source.bucket });
  // Reading the source is s3:GetObject (or GetObjectVersion) on the source's own bucket policy.
  const access = { ...ctx.access, action: source.versionId === undefined ? 's3:GetObject' : 's3:GetObjectVersion' };
  const record = await loadAuthorizedObject(ctx.store.metadata, access, bucket, source.key, source.versionId, 'READ');
  const h = ctx.req.headers;
  const outcome = evaluateConditions({
    ...(h['x-amz-copy-source-if-match'] !== undefined ? { ifMatch: String(h['x-amz-copy-source-if-match']) } : {}),
    ...(h['x-amz-copy-source-if-none-match'] !== undefined ? { ifNoneMatch: String(h['x-amz-copy-source-if-none-match']) } : {}),
    ...(h['x-amz-copy-source-if-modified-since'] !== undefined ? { ifModifiedSince: String(h['x-amz-copy-source-if-modified-since']) } : {}),
    ...(h['x-amz-copy-source-if-unmodified-since'] !== undefined ? { ifUnmodifiedSince: String(h['x-amz-copy-source-if-unmodified-since']) } : {}),
  }, record);
  if (outcome !== 'proceed') throw new S3Error('PreconditionFailed', undefined, { Condition: 'x-amz-copy-source-If' });
  assertReadable(record);
  return { ...record, namedVersion: source.versionId !== undefined, ...versionHeader(bucket, record.versionId) };
}

/** A copy source: the version read, whether the request named it, and the x-amz-copy-source-version-id S3 answers. */
export type CopySource = ObjectRecord & { readonly namedVersion: boolean; readonly 'x-amz-version-id'?: string };

/** The x-amz-copy-source-version-id header for a source. */
export function copySourceVersionHeader(source: CopySource): Record<string, string> {
  const id = source['x-amz-version-id'];
  return id === undefined ? {} : { 'x-amz-copy-source-version-id': id };
}

export async function copyObject(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  validateKey(key);
  const source = await loadCopySource(ctx);
  const headers = ctx.req.headers;
  const directive = String(headers['x-amz-metadata-directive'] ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new S3Error('InvalidArgument', 'Unknown metadata directive.', { ArgumentName: 'x-amz-metadata-directive', ArgumentValue: directive });
  }
  const taggingDirective = String(headers['x-amz-tagging-directive'] ?? 'COPY').toUpperCase();
  if (taggingDirective !== 'COPY' && taggingDirective !== 'REPLACE') {
    throw new S3Error('InvalidArgument', 'Unknown tagging directive.', { ArgumentName: 'x-amz-tagging-directive', ArgumentValue: taggingDirective });
  }
  // Under COPY the source's tags go with the bytes and an x-amz-tagging header is ignored, as S3 documents.
  const tags = taggingDirective === 'REPLACE' ? tagsFromHeader(headers) : source.tags;
  // As in S3, a copy is STANDARD unless the request names a class; the source's class is not carried over.
  const storageClass = storageClassFrom(headers);
  const checksumAlgorithm = checksumRequestFrom(headers)?.algorithm ?? source.checksum?.algorithm;
  // A named older version copied over its own key is how S3 restores it: not a copy onto itself.
  const sameObject = source.bucket === bucket.name && source.key === key && !source.namedVersion;
  if (sameObject && directive === 'COPY' && headers['x-amz-storage-class'] === undefined && checksumAlgorithm === source.checksum?.algorithm) {
    throw new S3Error('InvalidRequest', 'This copy request is illegal because it is trying to copy an object to itself without changing the object\'s metadata, storage class, website redirect location or encryption attributes.');
  }
  const maxCopy = Math.min(MAX_PUT_SIZE, ctx.settings.maxObjectSize);
  if (source.size > maxCopy) throw new S3Error('InvalidRequest', `The specified copy source is larger than the maximum allowable size for a copy source: ${maxCopy}`);
  const replace = directive === 'REPLACE';
  const condition = writeConditionFrom(ctx);
  // S3 gives a copy a fresh ACL (private unless the request says otherwise), never the source's.
  const acl = await newAcl(ctx, bucket.owner);
  // A copy is a new version: its lock comes from this request (or the bucket's default), never the source's.
  const lock = newVersionLock(bucket, headers);
  const body = source.data.kind === 'inline'
    ? Readable.from([source.data.bytes])
    : Readable.from(readExtents(ctx.store.blobs, source, { start: 0, end: source.size - 1 }));
  const stored = await ctx.store.blobs.ingest(body, { declaredLength: source.size, ...(checksumAlgorithm ? { checksum: checksumAlgorithm } : {}) });
  try {
    const written: ObjectRecord = {
      bucket: bucket.name, key, versionId: NULL_VERSION, size: stored.digest.size, etag: stored.digest.md5Hex,
      lastModified: new Date(), owner: acl.owner, storageClass, acl,
      headers: replace ? contentHeadersFrom(headers) : source.headers,
      userMetadata: replace ? userMetadataFrom(headers) : source.userMetadata,
      tags,
      ...lock,
      ...(checksumAlgorithm && stored.digest.checksum
        ? { checksum: { algorithm: checksumAlgorithm, value: stored.digest.checksum, type: 'FULL_OBJECT' as const } }
        : {}),
      data: stored.data,
    };
    const record = { ...written, versionId: await ctx.store.metadata.putObject(written, condition) };
    ctx.settings.onGarbage();
    sendXml(ctx.res, 200, 'CopyObjectResult', {
      LastModified: isoDate(record.lastModified),
      ETag: quoteEtag(record.etag),
      ...(record.checksum ? { [`Checksum${record.checksum.algorithm}`]: record.checksum.value, ChecksumType: record.checksum.type } : {}),
    }, { ...copySourceVersionHeader(source), ...writtenVersionHeader(record.versionId), ...await expirationHeader(ctx, record) });
  } catch (err) {
    await ctx.store.blobs.discard(stored.data);
    throw err;
  }
}
