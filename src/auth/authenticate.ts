/**
 * Who sent this request, and the payload they meant: SigV4 Authorization header,
 * SigV4 presigned query, SigV2 Authorization header, SigV2 presigned query, or
 * nobody (anonymous; authorization decides elsewhere).
 *
 * Never reads the body: the returned stream is wired (verification, aws-chunked
 * decoding) but data only flows when the API layer consumes it.
 */
import type { IncomingMessage } from 'node:http';
import { S3Error } from '../errors.js';
import { parsePayloadMode, payloadBody, UNSIGNED_PAYLOAD, type PayloadMode } from './payload.js';
import {
  ALGORITHM,
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  collectHeaders,
  firstHeader,
  formatAmzDate,
  hmacHex,
  parseAmzDate,
  parseAuthorizationV4,
  parseCredential,
  parseQuery,
  parseSignedHeaders,
  signaturesEqual,
  signingKey,
  stringToSign,
  type Credential,
  type HeaderValues,
} from './sigv4.js';
import {
  amzHeadersOf,
  canonicalizedResources,
  parseAuthorizationV2,
  signV2,
  stringToSignBytes,
  stringToSignV2,
} from './sigv2.js';
import type { Authenticated, SecretLookup, SigningKey } from './types.js';

export interface AuthOptions {
  now?: () => Date;
  /** Allowed distance between the request's date and ours; S3 uses 15 minutes. */
  maxSkewMs?: number;
  /**
   * The bucket named by the Host header (virtual-hosted-style addressing), if any.
   * SigV2 signs it in front of the path; SigV4 signs the Host header itself.
   */
  hostBucket?: string | undefined;
}

const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;
/** SigV4 presigned URLs live at most a week. */
const MAX_PRESIGNED_EXPIRES_S = 604800;
const ECDSA_ALGORITHM = 'AWS4-ECDSA-P256-SHA256';

interface RequestContext {
  readonly req: IncomingMessage;
  readonly lookup: SecretLookup;
  readonly now: Date;
  readonly maxSkewMs: number;
  readonly path: string;
  readonly rawQuery: string;
  readonly query: ReadonlyMap<string, string>;
  readonly headers: HeaderValues;
  readonly hostBucket: string | undefined;
}

type Scheme = 'anonymous' | 'v4-header' | 'v4-query' | 'v2-header' | 'v2-query';

export async function authenticate(req: IncomingMessage, lookup: SecretLookup, opts: AuthOptions = {}): Promise<Authenticated> {
  const { path, rawQuery } = splitTarget(req.url ?? '/');
  const query = parseQuery(rawQuery);
  const ctx: RequestContext = {
    req,
    lookup,
    now: (opts.now ?? (() => new Date()))(),
    maxSkewMs: opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS,
    path,
    rawQuery,
    query,
    headers: collectHeaders(req.rawHeaders),
    hostBucket: opts.hostBucket,
  };
  const authorization = req.headers.authorization;
  const scheme = detectScheme(authorization, query);
  switch (scheme) {
    case 'anonymous':
      return anonymous(ctx);
    case 'v4-header':
      return authenticateV4Header(ctx, authorization ?? '');
    case 'v4-query':
      return authenticateV4Query(ctx);
    case 'v2-header':
    case 'v2-query':
      return authenticateV2(ctx, scheme);
  }
}

/** Raw request target → path and query exactly as sent (absolute-form tolerated). */
export function splitTarget(url: string): { path: string; rawQuery: string } {
  let target = url;
  if (!target.startsWith('/')) {
    const authority = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(target);
    if (authority !== null) target = target.slice(authority[0].length);
  }
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  return { path: path === '' ? '/' : path, rawQuery: q < 0 ? '' : target.slice(q + 1) };
}

function detectScheme(authorization: string | undefined, query: ReadonlyMap<string, string>): Scheme {
  const v4Query = query.has('X-Amz-Algorithm') || query.has('X-Amz-Signature') || query.has('X-Amz-Credential');
  const v2Query = query.has('AWSAccessKeyId') && query.has('Signature');
  if ((authorization !== undefined && (v4Query || v2Query)) || (v4Query && v2Query)) {
    throw new S3Error(
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      { ArgumentName: 'Authorization', ArgumentValue: authorization ?? '' },
    );
  }
  if (authorization !== undefined) {
    if (authorization.startsWith(ALGORITHM + ' ')) return 'v4-header';
    if (authorization.startsWith('AWS ')) return 'v2-header';
    if (authorization.startsWith(ECDSA_ALGORITHM)) throw new S3Error('NotImplemented', 'Signature Version 4A (ECDSA) is not supported');
    throw new S3Error('InvalidArgument', 'Unsupported Authorization Type', { ArgumentName: 'Authorization', ArgumentValue: authorization });
  }
  if (v4Query) return 'v4-query';
  if (v2Query) return 'v2-query';
  return 'anonymous';
}

// ---------------------------------------------------------------------------
// Anonymous

function anonymous(ctx: RequestContext): Authenticated {
  // A declared digest or unsigned aws-chunked body is still honoured: the checksum
  // trailers of anonymous uploads must reach the API layer.
  const declared = firstHeader(ctx.headers, 'x-amz-content-sha256');
  const mode: PayloadMode = declared === undefined ? { kind: 'unsigned' } : parsePayloadMode(declared.trim());
  return { principal: { kind: 'anonymous' }, ...payloadBody(ctx.req, mode, undefined) };
}

// ---------------------------------------------------------------------------
// SigV4, Authorization header

async function authenticateV4Header(ctx: RequestContext, authorization: string): Promise<Authenticated> {
  const malformed = (reason: string): S3Error => new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${reason}`);
  const parsed = parseAuthorizationV4(authorization);
  if ('error' in parsed) throw malformed(parsed.error);
  const cred = parseCredential(parsed.credential);
  if ('error' in cred) throw malformed(cred.error);
  const signedHeaders = parseSignedHeaders(parsed.signedHeaders);
  if (signedHeaders === undefined) throw malformed('the SignedHeaders component is malformed.');

  const time = headerRequestTime(ctx.headers);
  if (Math.abs(ctx.now.getTime() - time.date.getTime()) > ctx.maxSkewMs) {
    throw new S3Error('RequestTimeTooSkewed', undefined, {
      RequestTime: time.raw,
      ServerTime: isoSeconds(ctx.now),
      MaxAllowedSkewMilliseconds: String(ctx.maxSkewMs),
    });
  }
  if (cred.date !== time.amzDate.slice(0, 8)) {
    throw malformed('Invalid credential date. Date is not the same as X-Amz-Date.');
  }

  const contentSha256 = firstHeader(ctx.headers, 'x-amz-content-sha256')?.trim();
  if (contentSha256 === undefined) throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  const mode = parsePayloadMode(contentSha256);
  requireSignedHeaders(ctx.headers, signedHeaders);

  const key = await lookupKey(ctx.lookup, cred.accessKeyId);
  const signing = signingKey(key.secretKey, cred.date, cred.region);
  const signature = verifySignature(ctx, {
    cred,
    signedHeaders,
    payloadHash: contentSha256,
    amzDate: time.amzDate,
    provided: parsed.signature,
    signing,
    presigned: false,
  });
  return {
    principal: { kind: 'account', accountId: key.accountId, accessKeyId: cred.accessKeyId },
    ...payloadBody(ctx.req, mode, { key: signing, amzDate: time.amzDate, scope: cred.scope, seedSignature: signature }),
  };
}

/** x-amz-date wins over Date; the string to sign always uses the ISO 8601 basic form. */
function headerRequestTime(headers: HeaderValues): { date: Date; amzDate: string; raw: string } {
  const noDate = (): S3Error => new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  const amz = firstHeader(headers, 'x-amz-date')?.trim();
  if (amz !== undefined) {
    const date = parseAmzDate(amz);
    if (date === undefined) throw noDate();
    return { date, amzDate: amz, raw: amz };
  }
  const http = firstHeader(headers, 'date')?.trim();
  if (http !== undefined) {
    const t = Date.parse(http);
    if (Number.isNaN(t)) throw noDate();
    const date = new Date(t);
    return { date, amzDate: formatAmzDate(date), raw: http };
  }
  throw noDate();
}

// ---------------------------------------------------------------------------
// SigV4, presigned query

async function authenticateV4Query(ctx: RequestContext): Promise<Authenticated> {
  const q = ctx.query;
  const bad = (message: string): S3Error => new S3Error('AuthorizationQueryParametersError', message);
  const algorithm = q.get('X-Amz-Algorithm');
  const credential = q.get('X-Amz-Credential');
  const amzDate = q.get('X-Amz-Date');
  const expiresRaw = q.get('X-Amz-Expires');
  const signedHeadersRaw = q.get('X-Amz-SignedHeaders');
  const signature = q.get('X-Amz-Signature');
  if (algorithm === undefined || credential === undefined || amzDate === undefined || expiresRaw === undefined || signedHeadersRaw === undefined || signature === undefined) {
    throw bad('Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.');
  }
  if (algorithm === ECDSA_ALGORITHM) throw new S3Error('NotImplemented', 'Signature Version 4A (ECDSA) is not supported');
  if (algorithm !== ALGORITHM) throw bad(`X-Amz-Algorithm only supports "${ALGORITHM}"`);
  const cred = parseCredential(credential);
  if ('error' in cred) throw bad(`Error parsing the X-Amz-Credential parameter; ${cred.error}`);
  const date = parseAmzDate(amzDate);
  if (date === undefined) throw bad('X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
  if (!/^-?\d{1,12}$/.test(expiresRaw)) throw bad('X-Amz-Expires should be a number');
  const expires = Number(expiresRaw);
  if (expires < 0) throw bad('X-Amz-Expires must be non-negative');
  if (expires > MAX_PRESIGNED_EXPIRES_S) throw bad(`X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than ${MAX_PRESIGNED_EXPIRES_S} seconds`);
  const signedHeaders = parseSignedHeaders(signedHeadersRaw);
  if (signedHeaders === undefined) throw bad('Error parsing the X-Amz-SignedHeaders parameter');
  if (cred.date !== amzDate.slice(0, 8)) {
    throw bad(`Error parsing the X-Amz-Credential parameter; Invalid credential date "${cred.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
  }

  const expiresAt = new Date(date.getTime() + expires * 1000);
  // Formatted only for the error document: dates are not free on the hot path.
  const timing = (): Record<string, string> => ({ 'X-Amz-Expires': expiresRaw, Expires: isoSeconds(expiresAt), ServerTime: isoSeconds(ctx.now) });
  if (date.getTime() - ctx.now.getTime() > ctx.maxSkewMs) {
    throw new S3Error('AccessDenied', 'Request is not yet valid', { 'X-Amz-Date': amzDate, ...timing() });
  }
  // Zero seconds is a URL that was never valid: S3 answers it as expired.
  if (expires === 0 || ctx.now.getTime() > expiresAt.getTime()) throw new S3Error('AccessDenied', 'Request has expired', timing());

  // S3 presigned URLs carry no payload hash unless the signer put one in the query
  // (SDK v3 hoists X-Amz-Content-Sha256) or kept it as a header (Go SDK v1).
  const payloadHash = (q.get('X-Amz-Content-Sha256') ?? q.get('x-amz-content-sha256') ?? firstHeader(ctx.headers, 'x-amz-content-sha256') ?? UNSIGNED_PAYLOAD).trim();
  const mode = parsePayloadMode(payloadHash);
  requireSignedHeaders(ctx.headers, signedHeaders);

  const key = await lookupKey(ctx.lookup, cred.accessKeyId);
  const signing = signingKey(key.secretKey, cred.date, cred.region);
  const seed = verifySignature(ctx, { cred, signedHeaders, payloadHash, amzDate, provided: signature, signing, presigned: true });
  return {
    principal: { kind: 'account', accountId: key.accountId, accessKeyId: cred.accessKeyId },
    ...payloadBody(ctx.req, mode, { key: signing, amzDate, scope: cred.scope, seedSignature: seed }),
  };
}

// ---------------------------------------------------------------------------
// SigV2 (header `AWS AKID:signature`, query `AWSAccessKeyId`/`Signature`/`Expires`)

async function authenticateV2(ctx: RequestContext, scheme: 'v2-header' | 'v2-query'): Promise<Authenticated> {
  const amzHeaders = amzHeadersOf(ctx.headers);
  let accessKeyId: string;
  let provided: string;
  let date: string;
  if (scheme === 'v2-header') {
    const authorization = firstHeader(ctx.headers, 'authorization') ?? '';
    const parsed = parseAuthorizationV2(authorization);
    if (parsed === undefined) {
      throw new S3Error('InvalidArgument', 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature', {
        ArgumentName: 'Authorization',
        ArgumentValue: authorization,
      });
    }
    ({ accessKeyId, signature: provided } = parsed);
    const time = headerRequestTimeV2(ctx.headers);
    if (Math.abs(ctx.now.getTime() - time.date.getTime()) > ctx.maxSkewMs) {
      throw new S3Error('RequestTimeTooSkewed', undefined, {
        RequestTime: time.raw,
        ServerTime: isoSeconds(ctx.now),
        MaxAllowedSkewMilliseconds: String(ctx.maxSkewMs),
      });
    }
    // With x-amz-date the Date position is empty: x-amz-date is signed as an amz header.
    date = time.fromAmzDate ? '' : time.raw;
  } else {
    const q = ctx.query;
    const expiresRaw = q.get('Expires');
    accessKeyId = q.get('AWSAccessKeyId') ?? '';
    provided = q.get('Signature') ?? '';
    if (expiresRaw === undefined) {
      throw new S3Error('AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
    }
    if (!/^\d{1,12}$/.test(expiresRaw)) {
      throw new S3Error('AccessDenied', 'Invalid date (should be seconds since epoch): ' + expiresRaw);
    }
    const expiresAt = new Date(Number(expiresRaw) * 1000);
    if (ctx.now.getTime() > expiresAt.getTime()) {
      throw new S3Error('AccessDenied', 'Request has expired', { Expires: isoSeconds(expiresAt), ServerTime: isoSeconds(ctx.now) });
    }
    date = expiresRaw;
    // A presigned URL carries the x-amz-* headers it was signed with as query
    // parameters (boto, the PHP SDK), so that the URL alone reproduces the request.
    for (const [name, value] of ctx.query) {
      const lower = name.toLowerCase();
      if (!lower.startsWith('x-amz-')) continue;
      const values = amzHeaders.get(lower);
      if (values === undefined) amzHeaders.set(lower, [latin1(value)]);
      else values.push(latin1(value));
    }
  }

  const key = await lookupKey(ctx.lookup, accessKeyId);
  const parts = {
    method: ctx.req.method ?? 'GET',
    contentMd5: firstHeader(ctx.headers, 'content-md5') ?? '',
    contentType: firstHeader(ctx.headers, 'content-type') ?? '',
    date,
    amzHeaders,
  };
  const [resource, ...alternatives] = canonicalizedResources(ctx.path, ctx.rawQuery, ctx.hostBucket);
  const toSign = stringToSignV2({ ...parts, resource });
  const matches = (candidate: string): boolean => signaturesEqual(signV2(key.secretKey, candidate), provided);
  if (!matches(toSign) && !alternatives.some((r) => matches(stringToSignV2({ ...parts, resource: r })))) {
    // S3 returns these so clients can diff their string to sign against ours.
    throw new S3Error('SignatureDoesNotMatch', undefined, {
      AWSAccessKeyId: accessKeyId,
      StringToSign: toSign,
      SignatureProvided: provided,
      StringToSignBytes: stringToSignBytes(toSign),
    });
  }
  // SigV2 signs no payload: the body passes through (Content-MD5 is the API layer's).
  return {
    principal: { kind: 'account', accountId: key.accountId, accessKeyId },
    ...payloadBody(ctx.req, { kind: 'unsigned' }, undefined),
  };
}

/**
 * The request time of a SigV2 header-signed request: x-amz-date wins over Date.
 * Both are HTTP dates (RFC 1123 and the other RFC 2616 forms); the ISO 8601 basic
 * form that SigV4 uses is tolerated in x-amz-date.
 */
function headerRequestTimeV2(headers: HeaderValues): { date: Date; raw: string; fromAmzDate: boolean } {
  const noDate = (): S3Error => new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  const amz = firstHeader(headers, 'x-amz-date')?.trim();
  if (amz !== undefined) {
    const date = parseAmzDate(amz) ?? parseHttpDate(amz);
    if (date === undefined) throw noDate();
    return { date, raw: amz, fromAmzDate: true };
  }
  const http = firstHeader(headers, 'date')?.trim();
  if (http === undefined) throw noDate();
  const date = parseHttpDate(http);
  if (date === undefined) throw noDate();
  return { date, raw: http, fromAmzDate: false };
}

/**
 * RFC 1123, RFC 850 and asctime dates (RFC 2616, 3.3.1); asctime carries no zone but means GMT.
 * A date before the Unix epoch is no valid request time (S3: AccessDenied, not RequestTimeTooSkewed).
 */
function parseHttpDate(s: string): Date | undefined {
  const asctime = /^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/.test(s);
  const t = Date.parse(asctime ? `${s} GMT` : s);
  return Number.isNaN(t) || t < 0 ? undefined : new Date(t);
}

/** A decoded (UTF-8) query value as the latin1 byte string the signature covers. */
function latin1(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

// ---------------------------------------------------------------------------
// Shared

async function lookupKey(lookup: SecretLookup, accessKeyId: string): Promise<SigningKey> {
  const key = await lookup(accessKeyId);
  if (key === undefined) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKeyId });
  return key;
}

/**
 * S3 refuses a request whose Host or x-amz-* headers are not covered by the
 * signature (they change what the request does). x-amz-content-sha256 is exempt,
 * as in S3: its value is the canonical request's last line anyway.
 */
function requireSignedHeaders(headers: HeaderValues, signedHeaders: readonly string[]): void {
  const signed = new Set(signedHeaders);
  const notSigned: string[] = [];
  if (!signed.has('host')) notSigned.push('host');
  for (const name of headers.keys()) {
    if (name.startsWith('x-amz-') && name !== 'x-amz-content-sha256' && !signed.has(name)) notSigned.push(name);
  }
  if (notSigned.length > 0) {
    throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', { HeadersNotSigned: notSigned.join(', ') });
  }
}

interface VerifyParams {
  readonly cred: Credential;
  readonly signedHeaders: readonly string[];
  readonly payloadHash: string;
  readonly amzDate: string;
  readonly provided: string;
  readonly signing: Buffer;
  readonly presigned: boolean;
}

/** Recomputes the request signature; returns it (the seed of aws-chunked chains). */
function verifySignature(ctx: RequestContext, p: VerifyParams): string {
  const canonical = canonicalRequest({
    method: ctx.req.method ?? 'GET',
    canonicalUri: canonicalUri(ctx.path),
    canonicalQuery: canonicalQuery(ctx.rawQuery, p.presigned),
    canonicalHeaders: canonicalHeaders(ctx.headers, p.signedHeaders),
    signedHeaders: p.signedHeaders,
    payloadHash: p.payloadHash,
  });
  const toSign = stringToSign(p.amzDate, p.cred.scope, canonical);
  const expected = hmacHex(p.signing, toSign);
  if (!signaturesEqual(expected, p.provided)) {
    // S3 returns these so clients can diff their canonical request against ours.
    throw new S3Error('SignatureDoesNotMatch', undefined, {
      AWSAccessKeyId: p.cred.accessKeyId,
      StringToSign: toSign,
      SignatureProvided: p.provided,
      CanonicalRequest: canonical,
    });
  }
  return expected;
}

function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
