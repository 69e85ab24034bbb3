/**
 * PutObjectTagging, GetObjectTagging, DeleteObjectTagging: an object's tag set,
 * which lifecycle rules filtered by Tag match against. Only the bucket owner
 * may use them (the operation table says so). Each addresses one version: the
 * current one, or the one `versionId` names.
 */
import { S3Error } from '../errors.js';
import { sendEmpty, sendXml } from '../http/respond.js';
import type { ObjectRecord } from '../store/types.js';
import { readCheckedConfigBody } from './config-body.js';
import { bucketOf, keyOf, type RequestContext } from './context.js';
import { parseTagging, renderTagging } from './tag-set.js';
import { versionHeader } from './versions.js';

/** Ten tags of 128 + 256 four-byte characters fit with room to spare. */
const MAX_TAGGING_BODY = 64 * 1024;

/** The addressed version; a delete marker has no tags to read or write (MethodNotAllowed), as in S3. */
async function taggedObject(ctx: RequestContext): Promise<ObjectRecord> {
  const key = keyOf(ctx);
  const versionId = ctx.target.query.get('versionId') ?? undefined;
  const record = await ctx.store.metadata.getObject(bucketOf(ctx).name, key, versionId);
  if (!record || (versionId === undefined && record.deleteMarker)) {
    if (versionId === undefined) throw new S3Error('NoSuchKey', undefined, { Key: key });
    throw new S3Error('NoSuchVersion', undefined, { Key: key, VersionId: versionId });
  }
  if (record.deleteMarker) throw new S3Error('MethodNotAllowed', undefined, { ResourceType: 'DeleteMarker' }, { 'x-amz-delete-marker': 'true', Allow: 'DELETE' });
  return record;
}

export async function putObjectTagging(ctx: RequestContext): Promise<void> {
  const body = await readCheckedConfigBody(ctx, MAX_TAGGING_BODY);
  const tags = parseTagging(body.toString('utf8'));
  const record = await taggedObject(ctx);
  await ctx.store.metadata.putObjectTags(record.bucket, record.key, tags, record.versionId);
  sendEmpty(ctx.res, 200, versionHeader(bucketOf(ctx), record.versionId));
}

export async function getObjectTagging(ctx: RequestContext): Promise<void> {
  const record = await taggedObject(ctx);
  sendXml(ctx.res, 200, 'Tagging', renderTagging(record.tags), versionHeader(bucketOf(ctx), record.versionId));
}

export async function deleteObjectTagging(ctx: RequestContext): Promise<void> {
  const record = await taggedObject(ctx);
  await ctx.store.metadata.putObjectTags(record.bucket, record.key, [], record.versionId);
  sendEmpty(ctx.res, 204, versionHeader(bucketOf(ctx), record.versionId));
}
