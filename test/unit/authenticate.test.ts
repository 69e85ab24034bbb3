// authenticate() end to end: fake IncomingMessages signed by the AWS SDK's own
// SigV4 signer (@smithy/signature-v4) and AWS's published examples, then a real
// node:http server driven by the AWS SDK for JavaScript v3 S3Client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, HttpRequest, SourceData } from '@smithy/types';
import { authenticate, type AuthOptions } from '../../src/auth/authenticate.js';
import type { Authenticated, SecretLookup } from '../../src/auth/types.js';
import { S3Error } from '../../src/errors.js';

const AK = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const ACCOUNT = 'account-1';
const EMPTY = createHash('sha256').digest('hex');
const lookup: SecretLookup = async (id) => (id === AK ? { secretKey: SECRET, accountId: ACCOUNT } : undefined);

const T0 = new Date('2024-03-01T12:00:00Z');
const at = (d: Date, offsetMs = 0): AuthOptions => ({ now: () => new Date(d.getTime() + offsetMs) });
const SOON = at(T0, 60_000);

// ---------------------------------------------------------------------------
// Helpers

/** node:crypto behind the SDK's Checksum interface (sha256, or HMAC when given a secret). */
class NodeSha256 implements Checksum {
  private readonly secret: Buffer | undefined;
  private h: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : toBuffer(secret);
    this.h = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
  update(data: Uint8Array): void {
    this.h.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    this.h = this.fresh();
  }
}

function toBuffer(d: SourceData): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d);
}

/** The SDK's signer, configured as the S3 client configures it (paths are pre-encoded). */
function sdkSigner(secret = SECRET, region = 'us-east-1'): SignatureV4 {
  return new SignatureV4({ service: 's3', region, credentials: { accessKeyId: AK, secretAccessKey: secret }, sha256: NodeSha256, uriEscapePath: false });
}

const rfc3986 = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

interface Spec {
  method: string;
  /** Decoded path, encoded here as the S3 client does. */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
}

function sdkRequest(s: Spec): HttpRequest {
  return {
    method: s.method,
    protocol: 'http:',
    hostname: 'localhost',
    port: 9000,
    path: s.path.split('/').map(rfc3986).join('/'),
    query: s.query ?? {},
    headers: { host: 'localhost:9000', ...s.headers },
    ...(s.body === undefined ? {} : { body: s.body }),
  };
}

async function sign(s: Spec, opts: { secret?: string; region?: string; date?: Date } = {}): Promise<HttpRequest> {
  return sdkSigner(opts.secret, opts.region).sign(sdkRequest(s), { signingDate: opts.date ?? T0 });
}

interface FakeOptions {
  /** Body pieces; pushed when read. */
  body?: Buffer[];
  /** Close the connection (without 'end') once the pieces are sent. */
  abort?: boolean;
  /** Hold the body until release() is called. */
  hold?: Promise<void>;
}

/** A Readable dressed as IncomingMessage: method, url, headers, rawHeaders. */
function fakeRequest(method: string, url: string, headers: [string, string][], opts: FakeOptions = {}): IncomingMessage {
  const pending = [...(opts.body ?? [])];
  let held = opts.hold;
  const stream = new Readable({
    read() {
      if (held !== undefined) {
        const wait = held;
        held = undefined;
        void wait.then(() => this._read(0));
        return;
      }
      const next = pending.shift();
      if (next !== undefined) this.push(next);
      else if (opts.abort) this.destroy();
      else this.push(null);
    },
  });
  const record: Record<string, string> = {};
  for (const [n, v] of headers) {
    const k = n.toLowerCase();
    record[k] = record[k] === undefined ? v : `${record[k]}, ${v}`;
  }
  return Object.assign(stream, { method, url, headers: record, rawHeaders: headers.flat() }) as unknown as IncomingMessage;
}

function fromSigned(r: HttpRequest, opts: FakeOptions = {}, extraHeaders: [string, string][] = []): IncomingMessage {
  const qs = Object.entries(r.query ?? {})
    .flatMap(([k, v]) => (v === null ? [] : Array.isArray(v) ? v : [v]).map((x) => `${rfc3986(k)}=${rfc3986(x)}`))
    .join('&');
  const headers = Object.entries(r.headers).concat(extraHeaders);
  return fakeRequest(r.method, r.path + (qs === '' ? '' : `?${qs}`), headers, opts);
}

async function readAll(auth: Authenticated): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of auth.body) out.push(c as Buffer);
  return Buffer.concat(out);
}

async function rejects(p: Promise<unknown>, code: string, message?: RegExp): Promise<S3Error> {
  let caught: unknown;
  await p.then(() => undefined, (e: unknown) => { caught = e; });
  assert.ok(caught instanceof S3Error, `expected S3Error ${code}, got ${caught === undefined ? 'success' : String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (message) assert.match(caught.message, message);
  return caught;
}

function authValue(r: HttpRequest): string {
  return r.headers.authorization ?? r.headers.Authorization ?? '';
}

function withAuthorization(r: HttpRequest, edit: (v: string) => string): HttpRequest {
  const headers = { ...r.headers };
  delete headers.Authorization;
  headers.authorization = edit(authValue(r));
  return { ...r, headers };
}

// ---------------------------------------------------------------------------
// Anonymous, schemes

test('no signature at all: anonymous, body is the request itself', async () => {
  const req = fakeRequest('GET', '/bucket/key', [['Host', 'localhost']]);
  const auth = await authenticate(req, lookup);
  assert.deepEqual(auth.principal, { kind: 'anonymous' });
  assert.equal(auth.body, req);
  assert.equal(auth.contentLength, undefined);

  const put = fakeRequest('PUT', '/bucket/key', [['Host', 'localhost'], ['Content-Length', '5']], { body: [Buffer.from('hello')] });
  const a2 = await authenticate(put, lookup);
  assert.equal(a2.contentLength, 5);
  assert.equal((await readAll(a2)).toString(), 'hello');
});

test('SigV2 without a date or past its expiry is refused; unknown schemes and mixtures are refused', async () => {
  const h = (v: string) => fakeRequest('GET', '/b/k', [['Host', 'h'], ['Authorization', v]]);
  await rejects(authenticate(h(`AWS ${AK}:c2lnbmF0dXJl`), lookup), 'AccessDenied', /valid Date or x-amz-date/);
  await rejects(authenticate(fakeRequest('GET', `/b/k?AWSAccessKeyId=${AK}&Expires=1&Signature=x`, [['Host', 'h']]), lookup), 'AccessDenied', /Request has expired/);
  await rejects(authenticate(h('Bearer abc'), lookup), 'InvalidArgument', /Unsupported Authorization Type/);
  await rejects(authenticate(h('AWS4-ECDSA-P256-SHA256 Credential=x'), lookup), 'NotImplemented');
  const both = fakeRequest('GET', '/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256', [['Host', 'h'], ['Authorization', 'AWS4-HMAC-SHA256 Credential=x']]);
  await rejects(authenticate(both, lookup), 'InvalidArgument', /Only one auth mechanism/);
});

// ---------------------------------------------------------------------------
// Header auth

test('AWS example GET Object verifies through authenticate (and fails when a signed header changes)', async () => {
  const headers = (range: string): [string, string][] => [
    ['Host', 'examplebucket.s3.amazonaws.com'],
    ['Range', range],
    ['x-amz-content-sha256', EMPTY],
    ['x-amz-date', '20130524T000000Z'],
    ['Authorization', `AWS4-HMAC-SHA256 Credential=${AK}/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41`],
  ];
  const when = at(new Date('2013-05-24T00:05:00Z'));
  const ok = await authenticate(fakeRequest('GET', '/test.txt', headers('bytes=0-9')), lookup, when);
  assert.deepEqual(ok.principal, { kind: 'account', accountId: ACCOUNT, accessKeyId: AK });
  const err = await rejects(authenticate(fakeRequest('GET', '/test.txt', headers('bytes=0-10')), lookup, when), 'SignatureDoesNotMatch');
  assert.equal(err.details.AWSAccessKeyId, AK);
  assert.match(err.details.CanonicalRequest ?? '', /^GET\n\/test\.txt\n\nhost:examplebucket/);
});

test('SDK-signed GET is accepted; body costs nothing', async () => {
  const signed = await sign({ method: 'GET', path: '/bucket/photos/2024/a.jpg', query: { versionId: 'v 1', 'response-content-type': 'text/plain' }, headers: { range: 'bytes=0-9' } });
  const req = fromSigned(signed);
  const auth = await authenticate(req, lookup, SOON);
  assert.deepEqual(auth.principal, { kind: 'account', accountId: ACCOUNT, accessKeyId: AK });
  assert.equal(auth.body, req);
  // Any region the client picked is accepted.
  const mars = await sign({ method: 'GET', path: '/bucket/k' }, { region: 'mars-north-7' });
  assert.equal((await authenticate(fromSigned(mars), lookup, SOON)).principal.kind, 'account');
});

test('wrong secret, unknown key, tampered request', async () => {
  await rejects(authenticate(fromSigned(await sign({ method: 'GET', path: '/b/k' }, { secret: 'nope' })), lookup, SOON), 'SignatureDoesNotMatch');
  const other = await sdkSigner().sign(sdkRequest({ method: 'GET', path: '/b/k' }), { signingDate: T0 });
  const unknown = withAuthorization(other, (v) => v.replace(AK, 'AKIDUNKNOWN'));
  const e = await rejects(authenticate(fromSigned(unknown), lookup, SOON), 'InvalidAccessKeyId');
  assert.equal(e.details.AWSAccessKeyId, 'AKIDUNKNOWN');
  const signed = await sign({ method: 'GET', path: '/b/k', query: { prefix: 'a' } });
  await rejects(authenticate(fromSigned({ ...signed, path: '/b/k2' }), lookup, SOON), 'SignatureDoesNotMatch');
  await rejects(authenticate(fromSigned({ ...signed, query: { prefix: 'b' } }), lookup, SOON), 'SignatureDoesNotMatch');
  await rejects(authenticate(fromSigned({ ...signed, method: 'DELETE' }), lookup, SOON), 'SignatureDoesNotMatch');
});

test('request time: x-amz-date within 15 minutes, else RequestTimeTooSkewed', async () => {
  const signed = await sign({ method: 'GET', path: '/b/k' });
  assert.equal((await authenticate(fromSigned(signed), lookup, at(T0, 14 * 60_000))).principal.kind, 'account');
  assert.equal((await authenticate(fromSigned(signed), lookup, at(T0, -14 * 60_000))).principal.kind, 'account');
  const late = await rejects(authenticate(fromSigned(signed), lookup, at(T0, 16 * 60_000)), 'RequestTimeTooSkewed');
  assert.equal(late.details.RequestTime, '20240301T120000Z');
  assert.equal(late.details.MaxAllowedSkewMilliseconds, '900000');
  await rejects(authenticate(fromSigned(signed), lookup, at(T0, -16 * 60_000)), 'RequestTimeTooSkewed');
  await rejects(authenticate(fromSigned(signed), lookup, { ...at(T0, 61_000), maxSkewMs: 60_000 }), 'RequestTimeTooSkewed');
});

test('Date header instead of x-amz-date', async () => {
  // Signed by hand (SDKs always send x-amz-date): the string to sign uses the ISO form.
  const date = 'Fri, 01 Mar 2024 12:00:00 GMT';
  const canonical = ['GET', '/b/k', '', 'date:' + date, 'host:h', `x-amz-content-sha256:${EMPTY}`, '', 'date;host;x-amz-content-sha256', EMPTY].join('\n');
  const scope = '20240301/us-east-1/s3/aws4_request';
  const sts = ['AWS4-HMAC-SHA256', '20240301T120000Z', scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const key = ['20240301', 'us-east-1', 's3', 'aws4_request'].reduce<Buffer>((k, p) => createHmac('sha256', k).update(p).digest(), Buffer.from('AWS4' + SECRET));
  const sig = createHmac('sha256', key).update(sts).digest('hex');
  const req = fakeRequest('GET', '/b/k', [['Date', date], ['Host', 'h'], ['x-amz-content-sha256', EMPTY], ['Authorization', `AWS4-HMAC-SHA256 Credential=${AK}/${scope}, SignedHeaders=date;host;x-amz-content-sha256, Signature=${sig}`]]);
  assert.equal((await authenticate(req, lookup, SOON)).principal.kind, 'account');
  const none = fakeRequest('GET', '/b/k', [['Host', 'h'], ['x-amz-content-sha256', EMPTY], ['Authorization', `AWS4-HMAC-SHA256 Credential=${AK}/${scope}, SignedHeaders=host;x-amz-content-sha256, Signature=${sig}`]]);
  await rejects(authenticate(none, lookup, SOON), 'AccessDenied', /valid Date or x-amz-date/);
});

test('malformed Authorization headers', async () => {
  const signed = await sign({ method: 'GET', path: '/b/k' });
  const edited = (edit: (v: string) => string) => authenticate(fromSigned(withAuthorization(signed, edit)), lookup, SOON);
  await rejects(edited((v) => v.replace('20240301/', '20240302/')), 'AuthorizationHeaderMalformed', /Invalid credential date/);
  await rejects(edited((v) => v.replace('/s3/', '/ec2/')), 'AuthorizationHeaderMalformed', /incorrect service "ec2"/);
  await rejects(edited((v) => v.replace('aws4_request', 'aws5_request')), 'AuthorizationHeaderMalformed', /incorrect terminal/);
  await rejects(edited((v) => v.replace(/, Signature=.*/, '')), 'AuthorizationHeaderMalformed', /three components/);
  await rejects(edited((v) => v.replace(`${AK}/`, '')), 'AuthorizationHeaderMalformed', /Credential is mal-formed/);
  await rejects(edited((v) => v.replace(/SignedHeaders=[^,]*/, 'SignedHeaders=')), 'AuthorizationHeaderMalformed');
  await rejects(edited((v) => v.replace(/Signature=(.*)/, 'Signature=$1ab')), 'SignatureDoesNotMatch');
});

test('x-amz-content-sha256 is required and must be a known value', async () => {
  const signed = await sign({ method: 'GET', path: '/b/k' });
  const without = Object.entries(signed.headers).filter(([n]) => n.toLowerCase() !== 'x-amz-content-sha256');
  await rejects(authenticate(fakeRequest('GET', '/b/k', without), lookup, SOON), 'InvalidRequest', /x-amz-content-sha256/);
  const bad = await sign({ method: 'GET', path: '/b/k', headers: { 'x-amz-content-sha256': 'SOMETHING' } });
  const e = await rejects(authenticate(fromSigned(bad), lookup, SOON), 'InvalidArgument');
  assert.equal(e.details.ArgumentName, 'x-amz-content-sha256');
});

test('Host and x-amz-* headers must be signed', async () => {
  const signed = await sign({ method: 'PUT', path: '/b/k', body: '' });
  const e = await rejects(authenticate(fromSigned(signed, {}, [['x-amz-acl', 'public-read']]), lookup, SOON), 'AccessDenied', /not signed/);
  assert.equal(e.details.HeadersNotSigned, 'x-amz-acl');
  // Unsigned ordinary headers are fine (proxies add them).
  assert.equal((await authenticate(fromSigned(signed, {}, [['x-forwarded-for', '1.2.3.4'], ['x-amzn-trace-id', 'x']]), lookup, SOON)).principal.kind, 'account');
});

// ---------------------------------------------------------------------------
// Payload: signed hash

test('signed payload: body verified while streaming; mismatch fails before end', async () => {
  const signed = await sign({ method: 'PUT', path: '/b/k', body: 'hello world', headers: { 'content-length': '11' } });
  const good = await authenticate(fromSigned(signed, { body: [Buffer.from('hello '), Buffer.from('world')] }), lookup, SOON);
  assert.equal(good.contentLength, 11);
  assert.equal((await readAll(good)).toString(), 'hello world');

  const bad = await authenticate(fromSigned(signed, { body: [Buffer.from('hello '), Buffer.from('World')] }), lookup, SOON);
  let ended = false;
  bad.body.on('end', () => { ended = true; });
  const e = await rejects(readAll(bad), 'XAmzContentSHA256Mismatch');
  assert.equal(e.details.S3ComputedContentSHA256, createHash('sha256').update('hello World').digest('hex'));
  assert.equal(ended, false);

  // Fewer bytes than Content-Length (client hung up).
  const cut = await authenticate(fromSigned(signed, { body: [Buffer.from('hello ')], abort: true }), lookup, SOON);
  await rejects(readAll(cut), 'IncompleteBody');
  // A declared digest that cannot match an empty body.
  await rejects(authenticate(fromSigned(await sign({ method: 'PUT', path: '/b/k', headers: { 'x-amz-content-sha256': 'ab'.repeat(32) } })), lookup, SOON), 'XAmzContentSHA256Mismatch');
});

test('authenticate returns before the body arrives', async () => {
  const signed = await sign({ method: 'PUT', path: '/b/k', body: 'late', headers: { 'content-length': '4' } });
  let release = (): void => {};
  const hold = new Promise<void>((r) => { release = r; });
  const auth = await authenticate(fromSigned(signed, { body: [Buffer.from('late')], hold }), lookup, SOON);
  release();
  assert.equal((await readAll(auth)).toString(), 'late');
});

// ---------------------------------------------------------------------------
// Presigned

const PRESIGNED_AWS = '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request'
  + '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host'
  + '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';

test('AWS presigned example: valid for 86400 s, then Request has expired', async () => {
  const req = () => fakeRequest('GET', PRESIGNED_AWS, [['Host', 'examplebucket.s3.amazonaws.com']]);
  const issued = new Date('2013-05-24T00:00:00Z');
  const ok = await authenticate(req(), lookup, at(issued, 3_600_000));
  assert.deepEqual(ok.principal, { kind: 'account', accountId: ACCOUNT, accessKeyId: AK });
  // A presigned URL may be used long after it was signed: no skew check on the past.
  assert.equal((await authenticate(req(), lookup, at(issued, 86_400_000))).principal.kind, 'account');
  const e = await rejects(authenticate(req(), lookup, at(issued, 86_401_000)), 'AccessDenied', /^Request has expired$/);
  assert.equal(e.details['X-Amz-Expires'], '86400');
  assert.equal(e.details.Expires, '2013-05-25T00:00:00Z');
  await rejects(authenticate(fakeRequest('GET', PRESIGNED_AWS.replace('test.txt', 'test2.txt'), [['Host', 'examplebucket.s3.amazonaws.com']]), lookup, at(issued)), 'SignatureDoesNotMatch');
});

test('SDK-presigned PUT: good, tampered, expiry bounds, future date', async () => {
  const presign = (expiresIn: number, date = T0) => sdkSigner().presign(
    sdkRequest({ method: 'PUT', path: '/b/dir/my file+1.txt', headers: { 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD', 'content-type': 'text/plain' } }),
    { signingDate: date, expiresIn, unhoistableHeaders: new Set(['content-type']) },
  );
  const p = await presign(3600);
  assert.equal(p.query?.['X-Amz-Content-Sha256'], 'UNSIGNED-PAYLOAD');
  const body = { body: [Buffer.from('data!')] };
  const auth = await authenticate(fromSigned(p, body, [['content-length', '5']]), lookup, SOON);
  assert.equal(auth.principal.kind, 'account');
  assert.equal((await readAll(auth)).toString(), 'data!');

  await rejects(authenticate(fromSigned({ ...p, query: { ...p.query, 'X-Amz-Expires': '7200' } }), lookup, SOON), 'SignatureDoesNotMatch');
  await rejects(authenticate(fromSigned(p, {}, [['x-amz-acl', 'public-read']]), lookup, SOON), 'AccessDenied', /not signed/);
  await rejects(authenticate(fromSigned(p), lookup, at(T0, 3_601_000)), 'AccessDenied', /expired/);
  await rejects(authenticate(fromSigned({ ...p, query: { ...p.query, 'X-Amz-Expires': '604801' } }), lookup, SOON), 'AuthorizationQueryParametersError', /604800/);
  // Out of range is a malformed URL; zero seconds is one that expired as it was made.
  await rejects(authenticate(fromSigned({ ...p, query: { ...p.query, 'X-Amz-Expires': '-7' } }), lookup, SOON), 'AuthorizationQueryParametersError', /non-negative/);
  await rejects(authenticate(fromSigned({ ...p, query: { ...p.query, 'X-Amz-Expires': '0' } }), lookup, at(T0)), 'AccessDenied', /^Request has expired$/);
  await rejects(authenticate(fromSigned({ ...p, query: { ...p.query, 'X-Amz-Expires': 'soon' } }), lookup, SOON), 'AuthorizationQueryParametersError');
  const week = await presign(604800);
  assert.equal((await authenticate(fromSigned(week), lookup, at(T0, 604_000_000))).principal.kind, 'account');
  // Signed 20 minutes in our future.
  await rejects(authenticate(fromSigned(await presign(3600, new Date(T0.getTime() + 20 * 60_000))), lookup, at(T0)), 'AccessDenied', /not yet valid/);
  const q = { ...p.query };
  delete q['X-Amz-Date'];
  await rejects(authenticate(fromSigned({ ...p, query: q }), lookup, SOON), 'AuthorizationQueryParametersError', /requires/);
  await rejects(authenticate(fromSigned({ ...p, query: { ...p.query, 'X-Amz-Algorithm': 'AWS4-HMAC-SHA1' } }), lookup, SOON), 'AuthorizationQueryParametersError');
  await rejects(authenticate(fromSigned({ ...p, query: { ...p.query, 'X-Amz-Credential': 'x/y' } }), lookup, SOON), 'AuthorizationQueryParametersError', /Credential/);
});

// ---------------------------------------------------------------------------
// Streaming payloads

const hmac = (key: Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
const sha = (d: Buffer | string): string => createHash('sha256').update(d).digest('hex');
const DAY_KEY = ['20240301', 'us-east-1', 's3', 'aws4_request'].reduce<Buffer>((k, p) => hmac(k, p), Buffer.from('AWS4' + SECRET));
const DAY_SCOPE = '20240301/us-east-1/s3/aws4_request';

interface ChunkedSpec {
  mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' | 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
  chunks: Buffer[];
  trailers?: [string, string][];
  decodedLength?: number | null;
  tamperChunk?: number;
}

/** A signed request plus its aws-chunked body, built as the SDKs build them. */
async function chunkedRequest(s: ChunkedSpec, opts: FakeOptions = {}, cutBodyAt?: number): Promise<IncomingMessage> {
  const decoded = s.chunks.reduce((n, c) => n + c.length, 0);
  const headers: Record<string, string> = { 'x-amz-content-sha256': s.mode, 'content-encoding': 'aws-chunked' };
  if (s.decodedLength !== null) headers['x-amz-decoded-content-length'] = String(s.decodedLength ?? decoded);
  if (s.trailers) headers['x-amz-trailer'] = s.trailers.map(([n]) => n).join(',');
  const signed = await sign({ method: 'PUT', path: '/bucket/chunked', headers });
  let prev = /Signature=([0-9a-f]{64})/.exec(authValue(signed))![1]!;
  const signedChunks = s.mode !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
  const parts: Buffer[] = [];
  for (const [i, data] of [...s.chunks, Buffer.alloc(0)].entries()) {
    let head = data.length.toString(16);
    if (signedChunks) {
      prev = hmac(DAY_KEY, ['AWS4-HMAC-SHA256-PAYLOAD', '20240301T120000Z', DAY_SCOPE, prev, sha(''), sha(data)].join('\n')).toString('hex');
      head += `;chunk-signature=${prev}`;
    }
    const sent = i === s.tamperChunk ? Buffer.from(data).fill(0x21, 0, 1) : data;
    parts.push(Buffer.from(head + '\r\n'), sent);
    if (data.length > 0) parts.push(Buffer.from('\r\n'));
  }
  if (s.trailers) {
    const canonical = s.trailers.map(([n, v]) => `${n}:${v}\n`).join('');
    parts.push(Buffer.from(canonical.replace(/\n/g, '\r\n')));
    if (signedChunks) {
      const sig = hmac(DAY_KEY, ['AWS4-HMAC-SHA256-TRAILER', '20240301T120000Z', DAY_SCOPE, prev, sha(canonical)].join('\n')).toString('hex');
      parts.push(Buffer.from(`x-amz-trailer-signature:${sig}\r\n`));
    }
  }
  parts.push(Buffer.from('\r\n'));
  let body = Buffer.concat(parts);
  if (cutBodyAt !== undefined) body = body.subarray(0, cutBodyAt);
  const pieces: Buffer[] = [];
  for (let i = 0; i < body.length; i += 1000) pieces.push(body.subarray(i, i + 1000));
  return fromSigned(signed, { ...opts, body: pieces }, [['transfer-encoding', 'chunked']]);
}

const DATA = [Buffer.alloc(8192, 'x'), Buffer.alloc(8192, 'y'), Buffer.from('tail')];
const DATA_TEXT = Buffer.concat(DATA).toString();

test('STREAMING-AWS4-HMAC-SHA256-PAYLOAD: decoded and verified; a tampered chunk fails', async () => {
  const mode = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
  const auth = await authenticate(await chunkedRequest({ mode, chunks: DATA }), lookup, SOON);
  assert.equal(auth.contentLength, 16388);
  assert.equal((await readAll(auth)).toString(), DATA_TEXT);
  for (const tamperChunk of [0, 2]) {
    const bad = await authenticate(await chunkedRequest({ mode, chunks: DATA, tamperChunk }), lookup, SOON);
    await rejects(readAll(bad), 'SignatureDoesNotMatch');
  }
  await rejects(authenticate(await chunkedRequest({ mode, chunks: DATA, decodedLength: null }), lookup, SOON), 'MissingContentLength');
  const long = await authenticate(await chunkedRequest({ mode, chunks: DATA, decodedLength: 16389 }), lookup, SOON);
  await rejects(readAll(long), 'IncompleteBody');
});

test('aws-chunked: truncated body, client hang-up, oversized chunk header', async () => {
  const mode = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
  const cut = await authenticate(await chunkedRequest({ mode, chunks: DATA }, {}, 9000), lookup, SOON);
  await rejects(readAll(cut), 'IncompleteBody');
  const hangup = await authenticate(await chunkedRequest({ mode, chunks: DATA }, { abort: true }, 9000), lookup, SOON);
  await rejects(readAll(hangup), 'IncompleteBody');
  // A "chunk header" that never ends.
  const signed = await sign({ method: 'PUT', path: '/bucket/chunked', headers: { 'x-amz-content-sha256': mode, 'x-amz-decoded-content-length': '10' } });
  const junk = Array.from({ length: 64 }, () => Buffer.alloc(1024, 'a'));
  const huge = await authenticate(fromSigned(signed, { body: junk }), lookup, SOON);
  await rejects(readAll(huge), 'InvalidRequest', /chunk header too long/);
});

test('STREAMING-UNSIGNED-PAYLOAD-TRAILER: trailers collected, signature of the request still checked', async () => {
  const mode = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
  const trailers: [string, string][] = [['x-amz-checksum-crc32', 'AAAAAA==']];
  const auth = await authenticate(await chunkedRequest({ mode, chunks: DATA, trailers }), lookup, SOON);
  assert.equal(auth.trailers.size, 0); // complete only once the body has ended
  assert.equal((await readAll(auth)).toString(), DATA_TEXT);
  assert.deepEqual([...auth.trailers], trailers);
});

test('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: trailer signature verified', async () => {
  const mode = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
  const trailers: [string, string][] = [['x-amz-checksum-sha256', 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=']];
  const auth = await authenticate(await chunkedRequest({ mode, chunks: DATA, trailers }), lookup, SOON);
  assert.equal((await readAll(auth)).toString(), DATA_TEXT);
  assert.deepEqual([...auth.trailers], trailers);
  const bad = await authenticate(await chunkedRequest({ mode, chunks: DATA, trailers, tamperChunk: 1 }), lookup, SOON);
  await rejects(readAll(bad), 'SignatureDoesNotMatch');
});

test('anonymous requests may send unsigned aws-chunked bodies but not signed ones', async () => {
  const body = Buffer.from('5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n');
  const req = fakeRequest('PUT', '/b/k', [['Host', 'h'], ['x-amz-content-sha256', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'], ['x-amz-decoded-content-length', '5'], ['x-amz-trailer', 'x-amz-checksum-crc32']], { body: [body] });
  const auth = await authenticate(req, lookup);
  assert.equal((await readAll(auth)).toString(), 'hello');
  assert.equal(auth.trailers.get('x-amz-checksum-crc32'), 'NhCmhg==');
  const signedMode = fakeRequest('PUT', '/b/k', [['Host', 'h'], ['x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'], ['x-amz-decoded-content-length', '5']]);
  await rejects(authenticate(signedMode, lookup), 'InvalidRequest');
});

test('a client hanging up mid-body: IncompleteBody, even when noticed late (real socket)', async (t) => {
  let settle: (v: unknown) => void = () => {};
  const outcome = new Promise<unknown>((resolve) => { settle = resolve; });
  let arrived: () => void = () => {};
  const received = new Promise<void>((resolve) => { arrived = resolve; });
  const server = createServer((req, res) => {
    arrived();
    void (async () => {
      const auth = await authenticate(req, lookup);
      // Nobody listens to the body until the connection is gone: must not crash the process.
      if (!req.destroyed) await new Promise((r) => req.once('close', r));
      await new Promise((r) => setTimeout(r, 10));
      settle(await readAll(auth).then(() => 'completed', (e: unknown) => e));
      res.destroy();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write('PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789');
  // Hang up once the server has the request: a fixed delay could fire before it does on a busy machine, and nothing would settle.
  await received;
  socket.destroy();
  const e = await outcome;
  assert.ok(e instanceof S3Error, String(e));
  assert.equal(e.code, 'IncompleteBody');
});

// ---------------------------------------------------------------------------
// The real client

test('a real node:http server accepts what the AWS SDK for JavaScript v3 sends', async (t) => {
  interface Seen { url: string; principal: string; body: string; trailers: Map<string, string>; payload: string }
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const auth = await authenticate(req, lookup);
        const body = (await readAll(auth)).toString();
        seen.push({
          url: req.url ?? '',
          principal: auth.principal.kind === 'account' ? auth.principal.accessKeyId : 'anonymous',
          body,
          trailers: new Map(auth.trailers),
          payload: String(req.headers['x-amz-content-sha256']),
        });
        if ((req.url ?? '').includes('list-type=2')) {
          const xml = '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            + '<Name>bkt</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>';
          res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml) });
          res.end(xml);
          return;
        }
        res.writeHead(200, { ETag: '"d41d8cd98f00b204e9800998ecf8427e"', 'Content-Length': '0' });
        res.end();
      } catch (err) {
        const e = err instanceof S3Error ? err : new S3Error('InternalError', String(err));
        const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${e.code}</Code><Message>${e.message.replace(/[<&]/g, '')}</Message></Error>`;
        res.writeHead(e.status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml), Connection: 'close' });
        res.end(xml);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = (secret: string) => new S3Client({
    endpoint, region: 'eu-cairn-1', forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: AK, secretAccessKey: secret },
  });
  const s3 = client(SECRET);
  const wrong = client('not-the-secret');
  t.after(() => {
    s3.destroy();
    wrong.destroy();
    server.closeAllConnections();
    server.close();
  });

  const key = 'dir/a b+c ü 🙂 (1)&=?#%.txt';
  await s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: key, Body: 'hello world', Metadata: { note: 'x  y' } }));
  let last = seen.at(-1)!;
  assert.equal(last.principal, AK);
  assert.equal(last.body, 'hello world');
  assert.equal(decodeURIComponent(last.url.split('?')[0]!), `/bkt/${key}`);

  await s3.send(new ListObjectsV2Command({ Bucket: 'bkt', Prefix: 'a b+c ü/', StartAfter: 'x=y&z' }));
  last = seen.at(-1)!;
  assert.equal(last.principal, AK);
  assert.match(last.url, /prefix=a%20b%2Bc%20%C3%BC%2F/);

  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'bkt', Key: key, ResponseContentDisposition: 'attachment; filename="a b.txt"' }), { expiresIn: 60 });
  const got = await fetch(url);
  assert.equal(got.status, 200, await got.text());
  assert.equal(seen.at(-1)!.principal, AK);

  // A streamed body of known length: the SDK frames it as aws-chunked with a checksum trailer.
  await s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: key, Body: Readable.from([Buffer.from('streamed '), Buffer.from('body')]), ContentLength: 13 }));
  last = seen.at(-1)!;
  assert.equal(last.body, 'streamed body');
  assert.equal(last.payload, 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32('streamed body'));
  assert.equal(last.trailers.get('x-amz-checksum-crc32'), crc.toString('base64'));

  await assert.rejects(wrong.send(new PutObjectCommand({ Bucket: 'bkt', Key: key, Body: 'x' })), { name: 'SignatureDoesNotMatch' });
});
