import { S3Error } from '../errors.js';
import { quoteEtag, sendEmpty } from '../http/respond.js';
import type { Checksum, ObjectRecord, StoredBody, WriteCondition } from '../store/types.js';
import { newAcl } from './acl.js';
import { bucketOf, keyOf, type RequestContext } from './context.js';
import {
  bareEtag, checkChecksumShape, checksumRequestFrom, contentHeadersFrom, contentMd5From, storageClassFrom,
  userMetadataFrom, validateKey, type ChecksumRequest,
} from './object-headers.js';

/** Largest single PUT S3 accepts. */
export const MAX_PUT_SIZE = 5 * 1024 ** 3;

export async function putObject(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  validateKey(key);
  const headers = ctx.req.headers;
  const contentHeaders = contentHeadersFrom(headers);
  const userMetadata = userMetadataFrom(headers);
  const storageClass = storageClassFrom(headers);
  const checksumRequest = checksumRequestFrom(headers);
  const md5 = contentMd5From(headers);
  const condition = writeConditionFrom(ctx);
  const acl = await newAcl(ctx, bucket.owner);
  const length = ctx.auth.contentLength;
  if (length === undefined && headers['transfer-encoding'] === undefined) throw new S3Error('MissingContentLength');
  const maxSize = Math.min(MAX_PUT_SIZE, ctx.settings.maxObjectSize);
  if (length !== undefined && length > maxSize) throw new S3Error('EntityTooLarge', undefined, { ProposedSize: String(length), MaxSizeAllowed: String(maxSize) });

  const stored = await ctx.store.blobs.ingest(ctx.body(), {
    ...(length !== undefined ? { declaredLength: length } : {}),
    maxSize,
    ...(checksumRequest ? { checksum: checksumRequest.algorithm } : {}),
  });
  try {
    if (length !== undefined && stored.digest.size !== length) throw new S3Error('IncompleteBody');
    if (md5 !== undefined && md5 !== stored.digest.md5Hex) throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
    const checksum = verifiedChecksum(checksumRequest, stored, ctx.auth.trailers);
    const record: ObjectRecord = {
      bucket: bucket.name, key, versionId: 'null', size: stored.digest.size, etag: stored.digest.md5Hex,
      lastModified: new Date(), owner: acl.owner, storageClass, acl,
      headers: contentHeaders, userMetadata, ...(checksum ? { checksum } : {}), data: stored.data,
    };
    await ctx.store.metadata.putObject(record, condition);
    ctx.settings.onGarbage();
    sendEmpty(ctx.res, 200, {
      ETag: quoteEtag(record.etag),
      ...(checksum ? { [`x-amz-checksum-${checksum.algorithm.toLowerCase()}`]: checksum.value, 'x-amz-checksum-type': checksum.type } : {}),
    });
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
