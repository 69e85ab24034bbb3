import { S3Error } from '../errors.js';
import { Digester } from '../store/digest.js';
import { readSmallBody } from './body.js';
import type { RequestContext } from './context.js';
import { checksumRequestFrom, contentMd5From } from './object-headers.js';
import { verifiedChecksum } from './put.js';

/**
 * The body of a bucket configuration write that S3 only takes with an
 * integrity check (PutBucketCors and kin): Content-MD5, or one of the
 * x-amz-checksum-* values that newer SDKs send instead, is required and must
 * match the bytes received.
 */
export async function readCheckedConfigBody(ctx: RequestContext, limit: number): Promise<Buffer> {
  const headers = ctx.req.headers;
  const md5 = contentMd5From(headers);
  const checksum = checksumRequestFrom(headers);
  const checksumGiven = checksum !== undefined && (checksum.expected !== undefined || checksum.fromTrailer);
  if (md5 === undefined && !checksumGiven) throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5');
  const body = await readSmallBody(ctx.body(), limit);
  const digester = new Digester(checksum?.algorithm);
  digester.update(body);
  const digest = await digester.finish();
  if (md5 !== undefined && md5 !== digest.md5Hex) throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
  verifiedChecksum(checksum, { data: { kind: 'inline', bytes: body }, digest }, ctx.auth.trailers);
  return body;
}
