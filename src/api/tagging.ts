/**
 * PutObjectTagging, GetObjectTagging, DeleteObjectTagging: an object's tag set,
 * which lifecycle rules filtered by Tag match against. Only the bucket owner
 * may use them (the operation table says so). Buckets are never versioned, so
 * no x-amz-version-id is answered.
 */
import { S3Error } from '../errors.js';
import { sendEmpty, sendXml } from '../http/respond.js';
import type { ObjectRecord } from '../store/types.js';
import { readCheckedConfigBody } from './config-body.js';
import { bucketOf, keyOf, type RequestContext } from './context.js';
import { parseTagging, renderTagging } from './tag-set.js';

/** Ten tags of 128 + 256 four-byte characters fit with room to spare. */
const MAX_TAGGING_BODY = 64 * 1024;

/** The addressed object, honouring `versionId=null` (the only version an unversioned bucket has). */
async function taggedObject(ctx: RequestContext): Promise<ObjectRecord> {
  const key = keyOf(ctx);
  const versionId = ctx.target.query.get('versionId');
  const record = await ctx.store.metadata.getObject(bucketOf(ctx).name, key);
  if (!record && versionId === null) throw new S3Error('NoSuchKey', undefined, { Key: key });
  if (!record || (versionId !== null && versionId !== record.versionId)) {
    throw new S3Error('NoSuchVersion', undefined, { Key: key, VersionId: versionId ?? '' });
  }
  return record;
}

export async function putObjectTagging(ctx: RequestContext): Promise<void> {
  const body = await readCheckedConfigBody(ctx, MAX_TAGGING_BODY);
  const tags = parseTagging(body.toString('utf8'));
  const record = await taggedObject(ctx);
  await ctx.store.metadata.putObjectTags(record.bucket, record.key, tags);
  sendEmpty(ctx.res, 200);
}

export async function getObjectTagging(ctx: RequestContext): Promise<void> {
  const record = await taggedObject(ctx);
  sendXml(ctx.res, 200, 'Tagging', renderTagging(record.tags));
}

export async function deleteObjectTagging(ctx: RequestContext): Promise<void> {
  const record = await taggedObject(ctx);
  await ctx.store.metadata.putObjectTags(record.bucket, record.key, []);
  sendEmpty(ctx.res, 204);
}
