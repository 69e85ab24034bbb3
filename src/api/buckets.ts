import { S3Error } from '../errors.js';
import { isoDate, sendEmpty, sendXml } from '../http/respond.js';
import { parseXml, textOf } from '../xml.js';
import { readSmallBody } from './body.js';
import { validateBucketName } from './bucket-names.js';
import { bucketOf, type RequestContext } from './context.js';
import { displayNames } from './owners.js';
import { newAcl } from './acl.js';
import { lockedBucketConfigs } from './object-lock.js';

export async function createBucket(ctx: RequestContext): Promise<void> {
  const name = ctx.target.bucket!;
  validateBucketName(name);
  if (ctx.principal.kind !== 'account') throw new S3Error('AccessDenied');
  const body = await readSmallBody(ctx.body());
  let location = '';
  if (body.length > 0) {
    const config = parseXml(body.toString('utf8'), 'CreateBucketConfiguration');
    location = textOf(config, 'LocationConstraint') ?? '';
  }
  const acl = await newAcl(ctx, ctx.principal.accountId);
  const configs = lockedBucketConfigs(ctx.req.headers);
  const outcome = await ctx.store.metadata.createBucket({ name, owner: ctx.principal.accountId, createdAt: new Date(), location, acl, configs });
  if (outcome === 'owned-by-other') throw new S3Error('BucketAlreadyExists', undefined, { BucketName: name });
  // S3 answers a repeated create of your own bucket with 200 in us-east-1 only.
  if (outcome === 'owned-by-you' && ctx.settings.region !== 'us-east-1') {
    throw new S3Error('BucketAlreadyOwnedByYou', undefined, { BucketName: name });
  }
  sendEmpty(ctx.res, 200, { Location: `/${name}` });
}

export async function headBucket(ctx: RequestContext): Promise<void> {
  sendEmpty(ctx.res, 200, { 'x-amz-bucket-region': regionOf(bucketOf(ctx).location, ctx.settings.region) });
}

export async function deleteBucket(ctx: RequestContext): Promise<void> {
  await ctx.store.metadata.deleteBucket(bucketOf(ctx).name);
  sendEmpty(ctx.res, 204);
}

export async function getBucketLocation(ctx: RequestContext): Promise<void> {
  sendXml(ctx.res, 200, 'LocationConstraint', { '#text': bucketOf(ctx).location });
}

export async function listBuckets(ctx: RequestContext): Promise<void> {
  if (ctx.principal.kind !== 'account') throw new S3Error('AccessDenied');
  const owner = ctx.principal.accountId;
  const buckets = await ctx.store.metadata.listBuckets(owner);
  const names = await displayNames(ctx.store.metadata, [owner]);
  sendXml(ctx.res, 200, 'ListAllMyBucketsResult', {
    Owner: { ID: owner, DisplayName: names.get(owner) ?? owner },
    Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: isoDate(b.createdAt), BucketRegion: regionOf(b.location, ctx.settings.region) })) },
  });
}

/** The region a LocationConstraint names; S3's legacy 'EU' is eu-west-1, '' the endpoint's own. */
function regionOf(location: string, defaultRegion: string): string {
  if (location === '') return defaultRegion;
  if (location === 'EU') return 'eu-west-1';
  return location;
}
