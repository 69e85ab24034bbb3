import { createHash } from 'node:crypto';
import { S3Error } from '../errors.js';
import { sendEmpty, sendXml } from '../http/respond.js';
import { parseLifecycleConfiguration, renderLifecycleConfiguration } from '../lifecycle/configuration-xml.js';
import { expirationOf } from '../lifecycle/rules.js';
import type { ObjectHead } from '../store/types.js';
import { readSmallBody } from './body.js';
import { bucketOf, type RequestContext } from './context.js';
import { contentMd5From } from './object-headers.js';

/** 1000 rules with long prefixes and tags fit comfortably. */
const MAX_LIFECYCLE_XML = 1024 * 1024;

export async function putBucketLifecycleConfiguration(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const md5 = contentMd5From(ctx.req.headers);
  const body = await readSmallBody(ctx.body(), MAX_LIFECYCLE_XML);
  if (md5 !== undefined && createHash('md5').update(body).digest('hex') !== md5) throw new S3Error('BadDigest');
  const config = parseLifecycleConfiguration(body.toString('utf8'));
  await ctx.store.metadata.lifecycle.putConfiguration(bucket.name, config);
  sendEmpty(ctx.res, 200);
}

export async function getBucketLifecycleConfiguration(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const config = await ctx.store.metadata.lifecycle.getConfiguration(bucket.name);
  if (!config) throw new S3Error('NoSuchLifecycleConfiguration', undefined, { BucketName: bucket.name });
  sendXml(ctx.res, 200, 'LifecycleConfiguration', renderLifecycleConfiguration(config));
}

export async function deleteBucketLifecycle(ctx: RequestContext): Promise<void> {
  await ctx.store.metadata.lifecycle.deleteConfiguration(bucketOf(ctx).name);
  sendEmpty(ctx.res, 204);
}

/**
 * `x-amz-expiration` for responses that write or read an object a rule will
 * expire: `expiry-date="<RFC 1123>", rule-id="<id>"`, as S3 sends it; no header otherwise.
 */
export async function expirationHeader(ctx: RequestContext, object: Pick<ObjectHead, 'bucket' | 'key' | 'size' | 'tags' | 'lastModified'>): Promise<Record<string, string>> {
  const config = await ctx.store.metadata.lifecycle.getConfiguration(object.bucket);
  const notice = config && expirationOf(config, object, ctx.settings.lifecycle);
  if (!notice) return {};
  // A rule ID may hold any character; a header value carries only printable ASCII, and the ID sits in quotes.
  const ruleId = notice.ruleId.replace(/[^\x20-\x7e]|["%\\]/gu, percentEncoded);
  return { 'x-amz-expiration': `expiry-date="${new Date(notice.at).toUTCString()}", rule-id="${ruleId}"` };
}

function percentEncoded(c: string): string {
  return [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}
