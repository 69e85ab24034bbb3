/**
 * CORS at the edge, as S3 applies a bucket's rules: the first rule whose
 * AllowedOrigin and AllowedMethod match the request answers it. Preflight
 * (OPTIONS) requests need no signature; actual requests that carry an Origin
 * get the matching rule's Access-Control-* headers, on errors too.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error } from '../errors.js';
import type { Bucket, CorsRule } from '../store/types.js';
import { sendEmpty } from './respond.js';

/** What a response varies on whenever a bucket's CORS rules were consulted. */
const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

/** `pattern` with at most one `*`, which stands for any run of characters. */
function wildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === value;
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  return value.length >= prefix.length + suffix.length && value.startsWith(prefix) && value.endsWith(suffix);
}

function originAllowed(rule: CorsRule, origin: string): boolean {
  return rule.allowedOrigins.some((o) => wildcardMatch(o, origin));
}

/** Header names compare case-insensitively. */
function headerAllowed(rule: CorsRule, header: string): boolean {
  return rule.allowedHeaders.some((h) => wildcardMatch(h.toLowerCase(), header));
}

/** The first rule that allows this origin, method and (for a preflight) every requested header. */
export function matchCorsRule(rules: readonly CorsRule[], origin: string, method: string, requestHeaders: readonly string[] = []): CorsRule | undefined {
  return rules.find((rule) => originAllowed(rule, origin) && rule.allowedMethods.includes(method)
    && requestHeaders.every((h) => headerAllowed(rule, h)));
}

/** The Access-Control-* headers S3 sends for a rule, on preflights and actual responses alike. */
function ruleHeaders(rule: CorsRule, origin: string): Record<string, string> {
  const anyOrigin = rule.allowedOrigins.includes('*');
  const headers: Record<string, string> = {
    'Access-Control-Allow-Origin': anyOrigin ? '*' : origin,
    'Access-Control-Allow-Methods': rule.allowedMethods.join(', '),
  };
  if (rule.exposeHeaders.length > 0) headers['Access-Control-Expose-Headers'] = rule.exposeHeaders.join(', ');
  if (rule.maxAgeSeconds !== undefined) headers['Access-Control-Max-Age'] = String(rule.maxAgeSeconds);
  // A wildcard origin answers `*`, with which browsers refuse credentials anyway.
  if (!anyOrigin) headers['Access-Control-Allow-Credentials'] = 'true';
  return headers;
}

/**
 * Sets the CORS headers of an actual (non-preflight) request on `res` before
 * the operation runs, so that its response, or its error, carries them.
 */
export function applyCorsHeaders(res: ServerResponse, bucket: Bucket | undefined, origin: string, method: string): void {
  if (!bucket?.cors) return;
  res.setHeader('Vary', VARY);
  const rule = matchCorsRule(bucket.cors, origin, method);
  if (!rule) return;
  for (const [name, value] of Object.entries(ruleHeaders(rule, origin))) res.setHeader(name, value);
}

/** Splits Access-Control-Request-Headers into lower-cased names. */
function requestedHeaders(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
}

/**
 * Answers an OPTIONS preflight for `bucket` (undefined: it does not exist), or
 * throws S3's error: 400 without Origin or a valid requested method, 403
 * AccessForbidden when no rule allows the request.
 */
export function answerPreflight(req: IncomingMessage, res: ServerResponse, bucket: Bucket | undefined, resourceType: 'BUCKET' | 'OBJECT'): void {
  const origin = req.headers.origin;
  if (origin === undefined) throw new S3Error('BadRequest', 'Insufficient information. Origin request header needed.');
  const method = req.headers['access-control-request-method'];
  if (method === undefined || !/^[A-Z]+$/.test(method)) {
    throw new S3Error('BadRequest', `Invalid Access-Control-Request-Method: ${method ?? 'null'}`);
  }
  const details = { Method: method, ResourceType: resourceType };
  if (!bucket) throw new S3Error('AccessForbidden', 'CORSResponse: Bucket not found', details);
  if (!bucket.cors) throw new S3Error('AccessForbidden', 'CORSResponse: CORS is not enabled for this bucket.', details);
  const headers = requestedHeaders(req.headers['access-control-request-headers']);
  const rule = matchCorsRule(bucket.cors, origin, method, headers);
  if (!rule) throw new S3Error('AccessForbidden', undefined, details);
  sendEmpty(res, 200, {
    ...ruleHeaders(rule, origin),
    ...(headers.length > 0 ? { 'Access-Control-Allow-Headers': headers.join(', ') } : {}),
    Vary: VARY,
  });
}
