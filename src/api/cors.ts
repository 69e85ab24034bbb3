/**
 * PutBucketCors, GetBucketCors, DeleteBucketCors: a bucket's CORS
 * configuration, validated as S3 validates it. Enforcement (preflight and
 * response headers) lives at the HTTP edge, in src/http/cors.ts.
 */
import { S3Error } from '../errors.js';
import { sendEmpty, sendXml } from '../http/respond.js';
import type { CorsRule } from '../store/types.js';
import { childrenOf, onlyKnownChildren, parseXml, textOf, type ParsedXml } from '../xml.js';
import { readCheckedConfigBody } from './config-body.js';
import { bucketOf, type RequestContext } from './context.js';

/** S3 limits the configuration document to 64 KB and 100 rules. */
const MAX_CORS_BODY = 64 * 1024;
const MAX_RULES = 100;
const MAX_ID_LENGTH = 255;
export const CORS_METHODS: readonly string[] = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'];
const RULE_ELEMENTS = new Set(['ID', 'AllowedMethod', 'AllowedOrigin', 'AllowedHeader', 'ExposeHeader', 'MaxAgeSeconds']);

function texts(rule: ParsedXml, name: string): string[] {
  return childrenOf(rule, name).map((v) => {
    if (typeof v === 'string') return v;
    if (Object.keys(v).length === 0) return '';
    throw new S3Error('MalformedXML');
  });
}

function wildcards(value: string): number {
  return value.split('*').length - 1;
}

function parseRule(rule: ParsedXml): CorsRule {
  if (!onlyKnownChildren(rule, RULE_ELEMENTS)) throw new S3Error('MalformedXML');
  const allowedMethods = texts(rule, 'AllowedMethod');
  const allowedOrigins = texts(rule, 'AllowedOrigin');
  const allowedHeaders = texts(rule, 'AllowedHeader');
  const exposeHeaders = texts(rule, 'ExposeHeader');
  if (allowedMethods.length === 0 || allowedOrigins.length === 0) throw new S3Error('MalformedXML');
  for (const method of allowedMethods) {
    if (!CORS_METHODS.includes(method)) throw new S3Error('InvalidRequest', `Found unsupported HTTP method in CORS config. Unsupported method is ${method}`);
  }
  for (const origin of allowedOrigins) {
    if (wildcards(origin) > 1) throw new S3Error('InvalidRequest', `AllowedOrigin "${origin}" can not have more than one wildcard.`);
  }
  for (const header of allowedHeaders) {
    if (wildcards(header) > 1) throw new S3Error('InvalidRequest', `AllowedHeader "${header}" can not have more than one wildcard.`);
  }
  for (const header of exposeHeaders) {
    if (header.includes('*')) throw new S3Error('InvalidRequest', `ExposeHeader "${header}" contains wildcard. We currently do not support wildcard for ExposeHeader.`);
  }
  const id = textOf(rule, 'ID');
  if (id !== undefined && id.length > MAX_ID_LENGTH) {
    throw new S3Error('InvalidArgument', `ID length should not exceed allowed limit of ${MAX_ID_LENGTH}`, { ArgumentName: 'ID', ArgumentValue: id });
  }
  const maxAge = textOf(rule, 'MaxAgeSeconds');
  if (maxAge !== undefined && !/^\s*\d{1,10}\s*$/.test(maxAge)) throw new S3Error('MalformedXML');
  return {
    ...(id !== undefined ? { id } : {}),
    allowedMethods, allowedOrigins, allowedHeaders, exposeHeaders,
    ...(maxAge !== undefined ? { maxAgeSeconds: Number(maxAge) } : {}),
  };
}

/** Parses and validates a CORSConfiguration document. */
export function parseCorsConfiguration(text: string): CorsRule[] {
  const doc = parseXml(text, 'CORSConfiguration');
  if (!onlyKnownChildren(doc, new Set(['CORSRule']))) throw new S3Error('MalformedXML');
  const rules = childrenOf(doc, 'CORSRule');
  if (rules.length === 0 || rules.length > MAX_RULES) throw new S3Error('MalformedXML');
  return rules.map(parseRule);
}

export async function putBucketCors(ctx: RequestContext): Promise<void> {
  const body = await readCheckedConfigBody(ctx, MAX_CORS_BODY);
  const rules = parseCorsConfiguration(body.toString('utf8'));
  await ctx.store.metadata.putBucketCors(bucketOf(ctx).name, rules);
  sendEmpty(ctx.res, 200);
}

export async function getBucketCors(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  if (!bucket.cors) throw new S3Error('NoSuchCORSConfiguration', undefined, { BucketName: bucket.name });
  sendXml(ctx.res, 200, 'CORSConfiguration', {
    CORSRule: bucket.cors.map((r) => ({
      ID: r.id,
      AllowedHeader: [...r.allowedHeaders],
      AllowedMethod: [...r.allowedMethods],
      AllowedOrigin: [...r.allowedOrigins],
      ExposeHeader: [...r.exposeHeaders],
      MaxAgeSeconds: r.maxAgeSeconds,
    })),
  });
}

export async function deleteBucketCors(ctx: RequestContext): Promise<void> {
  await ctx.store.metadata.putBucketCors(bucketOf(ctx).name, undefined);
  sendEmpty(ctx.res, 204);
}
