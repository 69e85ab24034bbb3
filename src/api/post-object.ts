/**
 * POST Object: an upload from a browser's HTML form (multipart/form-data)
 * signed with a POST policy, or anonymous where the bucket's ACL lets anyone
 * write. The file streams into storage through PutObject's write path.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { finished } from 'node:stream/promises';
import { privateAcl } from '../auth/acl.js';
import { authorize } from '../auth/authorize.js';
import { requestKeys } from '../auth/request-keys.js';
import { authenticateForm, checkPolicy, parsePolicy } from '../auth/post-policy.js';
import { uriEncode } from '../auth/sigv4.js';
import { S3Error } from '../errors.js';
import { quoteEtag, sendEmpty } from '../http/respond.js';
import { renderXml } from '../xml.js';
import { aclFromHeaders } from './acl.js';
import { bucketOf, type RequestContext } from './context.js';
import { validateKey } from './object-headers.js';
import { limitedFile, readFormHead } from './post-form.js';
import { refuseEncryption } from './encryption.js';
import { MAX_PUT_SIZE, objectWriteFrom, storeObject, type ObjectWrite } from './put.js';
import { parseTagging } from './tag-set.js';

/**
 * Form fields that become the object's headers as the same-named request headers would in PutObject
 * (Content-MD5 included: S3 checks the file against it).
 */
const HEADER_FIELDS = new Set([
  'cache-control', 'content-type', 'content-disposition', 'content-encoding', 'content-language', 'content-md5', 'expires', 'x-amz-storage-class',
]);

function isHeaderField(name: string): boolean {
  return HEADER_FIELDS.has(name) || name.startsWith('x-amz-meta-') || name.startsWith('x-amz-checksum-') || name.startsWith('x-amz-grant-');
}

/** The form's fields as the request headers PutObject would have read them from; `acl` is x-amz-acl. */
function headersOf(fields: ReadonlyMap<string, string>): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of fields) if (isHeaderField(name)) headers[name] = value;
  const acl = fields.get('acl');
  if (acl !== undefined) headers['x-amz-acl'] = acl;
  return headers;
}

/** Where the new object can be fetched, in the addressing style the form was posted with. */
function objectUrl(ctx: RequestContext, bucket: string, key: string): string {
  const scheme = 'encrypted' in ctx.req.socket ? 'https' : 'http';
  const base = ctx.target.path === '/' ? '' : `/${uriEncode(bucket)}`;
  return `${scheme}://${ctx.req.headers.host ?? ''}${base}/${uriEncode(key, true)}`;
}

/** An absolute http(s) URL, or undefined for anything S3 would not redirect to. */
function redirectUrl(value: string | undefined): URL | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Bodies up to this size are read to their end before an error is answered: a
 * browser still sending its form would otherwise see the connection reset
 * instead of S3's error. Larger ones are cut off (the connection closes).
 */
const DRAIN_LIMIT = 16 * 1024 * 1024;

async function discardSmallRest(ctx: RequestContext): Promise<void> {
  if (ctx.req.complete || !(Number(ctx.req.headers['content-length']) <= DRAIN_LIMIT)) return;
  const body = ctx.body();
  body.unpipe();
  body.resume();
  await finished(body).catch(() => undefined);
}

export async function postObject(ctx: RequestContext): Promise<void> {
  const contentType = String(ctx.req.headers['content-type'] ?? '');
  if (!/^multipart\/form-data\s*;/i.test(contentType)) {
    throw new S3Error('PreconditionFailed', undefined, { Condition: 'Bucket POST must be of the enclosure-type multipart/form-data' });
  }
  try {
    await uploadForm(ctx);
  } catch (err) {
    await discardSmallRest(ctx);
    throw err;
  }
}

async function uploadForm(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const form = await readFormHead(ctx.body(), ctx.req.headers);
  const { file } = form;
  const rawKey = form.fields.get('key');
  if (rawKey === undefined) {
    throw new S3Error('InvalidArgument', 'Bucket POST must contain a field named \'key\'.  If it is specified, please check the order of the fields.', {
      ArgumentName: 'key', ArgumentValue: '',
    });
  }
  if (!file) throw new S3Error('InvalidArgument', 'POST requires exactly one file upload per request.', { ArgumentName: 'file', ArgumentValue: '0' });
  // ${filename} stands for the file's name in every field, and the policy sees the fields so expanded.
  const expand = (value: string): string => value.replaceAll('${filename}', file.filename);
  const fields = new Map([...form.fields].map(([name, value]) => [name, expand(value)]));
  const key = expand(rawKey);
  if (key === '') throw new S3Error('InvalidArgument', 'User key must have a length greater than 0.', { ArgumentName: 'key', ArgumentValue: '' });
  validateKey(key);

  const principal = await authenticateForm(fields, ctx.lookup);
  const policy = fields.get('policy');
  const range = policy === undefined ? undefined : checkPolicy(parsePolicy(policy), fields, bucket.name, key, new Date());
  authorize('bucket:WRITE', { principal, action: 's3:PutObject', keys: requestKeys(ctx.req, ctx.target.query, principal) }, bucket, key);
  // A form asking for encryption is refused as a PUT asking for it would be, never stored in the clear.
  refuseEncryption('PutObject', true, Object.fromEntries(fields));

  const headers = headersOf(fields);
  // The form's `tagging` field is a <Tagging> document, not the header's query string.
  const tagging = fields.get('tagging');
  const write: ObjectWrite = { ...objectWriteFrom(headers), tags: tagging === undefined ? [] : parseTagging(tagging) };
  const owner = principal.kind === 'account' ? principal.accountId : bucket.owner;
  const acl = (await aclFromHeaders(ctx.store.metadata, headers, owner, bucket.owner)) ?? privateAcl(owner);

  const body = limitedFile(file.stream, range?.min ?? 0, Math.min(range?.max ?? MAX_PUT_SIZE, MAX_PUT_SIZE), form.complete);
  const { record } = await storeObject(ctx, { bucket, key, write, acl }, body, undefined, new Map());

  const etag = quoteEtag(record.etag);
  const location = objectUrl(ctx, bucket.name, key);
  const redirect = redirectUrl(fields.get('success_action_redirect') ?? fields.get('redirect'));
  if (redirect) {
    redirect.searchParams.append('bucket', bucket.name);
    redirect.searchParams.append('key', key);
    redirect.searchParams.append('etag', etag);
    sendEmpty(ctx.res, 303, { Location: redirect.toString(), ETag: etag });
    return;
  }
  const status = fields.get('success_action_status');
  if (status === '201') {
    const body = Buffer.from(renderXml('PostResponse', { Location: location, Bucket: bucket.name, Key: key, ETag: etag }, null), 'utf8');
    ctx.res.writeHead(201, { ETag: etag, Location: location, 'Content-Type': 'application/xml', 'Content-Length': body.length });
    ctx.res.end(body);
    return;
  }
  sendEmpty(ctx.res, status === '200' ? 200 : 204, { ETag: etag, Location: location });
}
