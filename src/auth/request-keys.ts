/**
 * The condition keys S3 evaluates for a request (aws:SourceIp, aws:SecureTransport,
 * s3:prefix, s3:x-amz-acl, …), gathered once at the edge from the request itself.
 * Keys are lower-cased: condition keys compare case-insensitively.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { TagPair } from '../store/types.js';
import type { Principal } from './types.js';

export type RequestKeys = ReadonlyMap<string, readonly string[]>;

function sourceIp(req: IncomingMessage): string | undefined {
  const address = req.socket.remoteAddress;
  // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d; policies name it as a.b.c.d.
  return address?.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}

/** How the request was authenticated: s3:authType and s3:signatureversion. */
function authKeys(req: IncomingMessage, query: URLSearchParams, keys: Map<string, string[]>): void {
  const authorization = req.headers.authorization ?? '';
  if (authorization.startsWith('AWS4-HMAC-SHA256')) keys.set('s3:signatureversion', ['AWS4-HMAC-SHA256']).set('s3:authtype', ['REST-HEADER']);
  else if (authorization.startsWith('AWS ')) keys.set('s3:signatureversion', ['AWS']).set('s3:authtype', ['REST-HEADER']);
  else if (query.has('X-Amz-Algorithm')) keys.set('s3:signatureversion', ['AWS4-HMAC-SHA256']).set('s3:authtype', ['REST-QUERY-STRING']);
  else if (query.has('Signature')) keys.set('s3:signatureversion', ['AWS']).set('s3:authtype', ['REST-QUERY-STRING']);
}

function requestTags(value: string, keys: Map<string, string[]>): void {
  const tags = new URLSearchParams(value);
  keys.set('s3:requestobjecttagkeys', [...tags.keys()]);
  for (const [k, v] of tags) keys.set(`s3:requestobjecttag/${k.toLowerCase()}`, [v]);
}

export function requestKeys(req: IncomingMessage, query: URLSearchParams, principal: Principal, now = new Date()): RequestKeys {
  const keys = new Map<string, string[]>();
  const ip = sourceIp(req);
  if (ip !== undefined) keys.set('aws:sourceip', [ip]);
  keys.set('aws:securetransport', [(req.socket as Partial<TLSSocket>).encrypted === true ? 'true' : 'false']);
  keys.set('aws:currenttime', [now.toISOString()]);
  keys.set('aws:epochtime', [String(Math.floor(now.getTime() / 1000))]);
  keys.set('aws:principaltype', [principal.kind === 'account' ? 'Account' : 'Anonymous']);
  if (principal.kind === 'account') keys.set('aws:principalaccount', [principal.accountId]);
  const { referer, 'user-agent': userAgent } = req.headers;
  if (referer !== undefined) keys.set('aws:referer', [referer]);
  if (userAgent !== undefined) keys.set('aws:useragent', [userAgent]);
  for (const name of ['prefix', 'delimiter', 'max-keys']) {
    const value = query.get(name);
    if (value !== null) keys.set(`s3:${name}`, [value]);
  }
  const versionId = query.get('versionId');
  if (versionId !== null) keys.set('s3:versionid', [versionId]);
  authKeys(req, query, keys);
  // Request headers S3 exposes as s3:x-amz-… keys (x-amz-acl, x-amz-grant-*, x-amz-copy-source, x-amz-metadata-directive, …).
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith('x-amz-') || value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : value;
    keys.set(`s3:${name}`, [name === 'x-amz-copy-source' ? copySourceKey(text) : text]);
  }
  const tagging = req.headers['x-amz-tagging'];
  if (typeof tagging === 'string') requestTags(tagging, keys);
  return keys;
}

/** s3:x-amz-copy-source is `bucket/key`, decoded, without the optional leading slash or version. */
function copySourceKey(value: string): string {
  const path = value.split('?')[0]!;
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // An undecodable source is refused by CopyObject itself; the policy sees it raw.
  }
  return decoded.startsWith('/') ? decoded.slice(1) : decoded;
}

/** The request's keys plus those of the object it addresses (s3:ExistingObjectTag/<key>). */
export function withObjectTags(keys: RequestKeys, tags: readonly TagPair[]): RequestKeys {
  const all = new Map(keys);
  for (const t of tags) all.set(`s3:existingobjecttag/${t.key.toLowerCase()}`, [t.value]);
  return all;
}
