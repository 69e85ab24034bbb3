/**
 * PutBucketTagging, GetBucketTagging, DeleteBucketTagging: a bucket's tag set
 * (cost allocation labels; nothing in Cairn acts on them), kept as JSON in the
 * bucket's `tagging` configuration slot. Bucket owner only (the operation table says so).
 */
import { S3Error } from '../errors.js';
import { sendEmpty, sendXml } from '../http/respond.js';
import type { TagPair } from '../store/types.js';
import { readCheckedConfigBody } from './config-body.js';
import { bucketOf, type RequestContext } from './context.js';
import { BUCKET_TAGS, parseTagging, renderTagging } from './tag-set.js';

/** Fifty tags of 128 + 256 four-byte characters, with their markup. */
const MAX_BUCKET_TAGGING_BODY = 256 * 1024;

export async function putBucketTagging(ctx: RequestContext): Promise<void> {
  const body = await readCheckedConfigBody(ctx, MAX_BUCKET_TAGGING_BODY);
  const tags = parseTagging(body.toString('utf8'), BUCKET_TAGS);
  // An empty tag set leaves the bucket without one, as DeleteBucketTagging does.
  await ctx.store.metadata.putBucketConfig(bucketOf(ctx).name, 'tagging', () => (tags.length > 0 ? JSON.stringify(tags) : undefined));
  sendEmpty(ctx.res, 204);
}

export async function getBucketTagging(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const stored = bucket.configs.tagging;
  if (stored === undefined) throw new S3Error('NoSuchTagSet', undefined, { BucketName: bucket.name });
  sendXml(ctx.res, 200, 'Tagging', renderTagging(JSON.parse(stored) as TagPair[]));
}

export async function deleteBucketTagging(ctx: RequestContext): Promise<void> {
  await ctx.store.metadata.putBucketConfig(bucketOf(ctx).name, 'tagging', () => undefined);
  sendEmpty(ctx.res, 204);
}
