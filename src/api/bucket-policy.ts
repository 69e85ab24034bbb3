/**
 * PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy, GetBucketPolicyStatus.
 * The document is validated on the way in and stored as given (GetBucketPolicy
 * answers the caller's own text); enforcement lives in src/auth/authorize.ts.
 */
import { createHash } from 'node:crypto';
import { GROUPS, LOG_DELIVERY } from '../auth/acl.js';
import { policyOf } from '../auth/authorize.js';
import { S3Error } from '../errors.js';
import { sendEmpty, sendXml } from '../http/respond.js';
import { MAX_POLICY_BYTES, parsePolicy } from '../policy/document.js';
import { policyIsPublic } from '../policy/evaluate.js';
import type { Bucket } from '../store/types.js';
import { readSmallBody } from './body.js';
import { bucketOf, type RequestContext } from './context.js';
import { contentMd5From } from './object-headers.js';

export async function putBucketPolicy(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  let body: Buffer;
  try {
    // One byte past the limit tells a too-large document from one at the limit.
    body = await readSmallBody(ctx.body(), MAX_POLICY_BYTES + 1);
  } catch (err) {
    if (err instanceof S3Error && err.code === 'MalformedXML') throw new S3Error('MalformedPolicy', `Policies must be no larger than ${MAX_POLICY_BYTES} bytes`);
    throw err;
  }
  // S3 does not require Content-MD5 here, but a given one must match.
  const md5 = contentMd5From(ctx.req.headers);
  if (md5 !== undefined && md5 !== createHash('md5').update(body).digest('hex')) throw new S3Error('BadDigest');
  const text = body.toString('utf8');
  parsePolicy(text, bucket.name);
  await ctx.store.metadata.putBucketConfig(bucket.name, 'policy', () => text);
  sendEmpty(ctx.res, 204);
}

export async function getBucketPolicy(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const text = bucket.configs.policy;
  if (text === undefined) throw new S3Error('NoSuchBucketPolicy', undefined, { BucketName: bucket.name });
  const bytes = Buffer.from(text, 'utf8');
  ctx.res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': bytes.length });
  ctx.res.end(bytes);
}

export async function deleteBucketPolicy(ctx: RequestContext): Promise<void> {
  await ctx.store.metadata.putBucketConfig(bucketOf(ctx).name, 'policy', () => undefined);
  sendEmpty(ctx.res, 204);
}

/** Public as S3 reports it: the ACL grants AllUsers or AuthenticatedUsers, or the policy allows everyone unconditionally. */
function isPublic(bucket: Bucket): boolean {
  const publicGroups = GROUPS.filter((g) => g !== LOG_DELIVERY);
  const aclPublic = bucket.acl.grants.some((g) => g.grantee.kind === 'group' && publicGroups.includes(g.grantee.uri));
  const policy = policyOf(bucket);
  return aclPublic || (policy !== undefined && policyIsPublic(policy));
}

export async function getBucketPolicyStatus(ctx: RequestContext): Promise<void> {
  sendXml(ctx.res, 200, 'PolicyStatus', { IsPublic: isPublic(bucketOf(ctx)) ? 'true' : 'false' });
}
