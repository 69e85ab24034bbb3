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
  // S3 answers a repeated create of your own bucket with 200 in us-east-1 only, and
  // there (for legacy compatibility) gives the bucket the request's ACL: private when it names none.
  const legacyRecreate = ctx.settings.region === 'us-east-1';
  const outcome = await ctx.store.metadata.createBucket(
    { name, owner: ctx.principal.accountId, createdAt: new Date(), location, acl, configs }, legacyRecreate ? 'reset-acl' : 'keep');
  if (outcome === 'owned-by-other') throw new S3Error('BucketAlreadyExists', undefined, { BucketName: name });
  if (outcome === 'owned-by-you' && !legacyRecreate) {
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

/** ListBuckets answers at most this many per page (S3's max-buckets range is 1-10000). */
const MAX_BUCKETS = 10_000;
/** A continuation token holds a bucket name (at most 63 characters), base64url-encoded. */
const MAX_TOKEN_CHARS = 128;

function maxBucketsOf(query: URLSearchParams): number {
  const raw = query.get('max-buckets');
  if (raw === null) return MAX_BUCKETS;
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_BUCKETS)) {
    throw new S3Error('InvalidArgument', `max-buckets must be an integer from 1 to ${MAX_BUCKETS}`, { ArgumentName: 'max-buckets', ArgumentValue: raw });
  }
  return n;
}

/** The bucket name a continuation token resumes after; InvalidArgument for a token Cairn did not issue. */
function resumeAfter(token: string | null): string {
  if (token === null) return '';
  const name = token.length <= MAX_TOKEN_CHARS ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (name === '' || Buffer.from(name, 'utf8').toString('base64url') !== token) {
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  }
  return name;
}

export async function listBuckets(ctx: RequestContext): Promise<void> {
  if (ctx.principal.kind !== 'account') throw new S3Error('AccessDenied');
  const owner = ctx.principal.accountId;
  const query = ctx.target.query;
  const max = maxBucketsOf(query);
  const after = resumeAfter(query.get('continuation-token'));
  const prefix = query.get('prefix') ?? '';
  const region = query.get('bucket-region');
  // The store answers all of the account's buckets, in name order; the page is cut from them here.
  const matching = (await ctx.store.metadata.listBuckets(owner)).filter((b) => b.name > after && b.name.startsWith(prefix)
    && (region === null || regionOf(b.location, ctx.settings.region) === region));
  const page = matching.slice(0, max);
  const names = await displayNames(ctx.store.metadata, [owner]);
  sendXml(ctx.res, 200, 'ListAllMyBucketsResult', {
    Buckets: { Bucket: page.map((b) => ({ Name: b.name, CreationDate: isoDate(b.createdAt), BucketRegion: regionOf(b.location, ctx.settings.region) })) },
    Owner: { ID: owner, DisplayName: names.get(owner) ?? owner },
    ...(matching.length > max ? { ContinuationToken: Buffer.from(page[page.length - 1]!.name, 'utf8').toString('base64url') } : {}),
    ...(query.has('prefix') ? { Prefix: prefix } : {}),
  });
}

/** The region a LocationConstraint names; S3's legacy 'EU' is eu-west-1, '' the endpoint's own. */
function regionOf(location: string, defaultRegion: string): string {
  if (location === '') return defaultRegion;
  if (location === 'EU') return 'eu-west-1';
  return location;
}
