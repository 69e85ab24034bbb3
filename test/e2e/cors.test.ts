/**
 * Bucket CORS: the configuration operations through @aws-sdk/client-s3
 * (round trip, S3's validation errors, the integrity check S3 requires), and
 * enforcement seen on the wire with raw HTTP: OPTIONS preflights answered
 * without a signature from the first matching rule, and the Access-Control-*
 * headers of actual requests, errors included.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand, DeleteBucketCorsCommand, GetBucketCorsCommand, PutBucketCorsCommand, PutObjectCommand, S3Client,
  type CORSRule,
} from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { checksumOf, md5Base64, rejectsWith, signRequest, uniqueBucket, xmlValue } from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;

interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** One raw HTTP exchange; `signed` signs it as the root account (SigV4). */
async function send(method: string, path: string, headers: Record<string, string> = {}, options: { signed?: boolean; body?: string } = {}): Promise<Answer> {
  const query = path.includes('?') ? Object.fromEntries(new URLSearchParams(path.slice(path.indexOf('?') + 1))) : {};
  const bare = path.split('?')[0]!;
  const all = options.signed ? await signRequest(server, { method, path: bare, query, headers, ...(options.body !== undefined ? { body: options.body } : {}) }) : headers;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers: all }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const preflight = (path: string, origin: string | undefined, method: string | undefined, requestHeaders?: string): Promise<Answer> =>
  send('OPTIONS', path, {
    ...(origin !== undefined ? { Origin: origin } : {}),
    ...(method !== undefined ? { 'Access-Control-Request-Method': method } : {}),
    ...(requestHeaders !== undefined ? { 'Access-Control-Request-Headers': requestHeaders } : {}),
  });

const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';
const NOT_ALLOWED = 'CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource\'s CORS spec.';

/** Only the Access-Control-* and Vary headers of an answer, for whole comparisons. */
function corsHeaders(a: Answer): Record<string, string> {
  return Object.fromEntries(Object.entries(a.headers)
    .filter(([name]) => name.startsWith('access-control-') || name === 'vary')
    .map(([name, value]) => [name, String(value)]));
}

function assertError(a: Answer, status: number, code: string, message?: string): void {
  assert.equal(a.status, status, a.body);
  assert.equal(xmlValue(a.body, 'Code'), code, a.body);
  if (message !== undefined) assert.equal(xmlValue(a.body, 'Message')?.replace(/&apos;/g, '\''), message);
}

before(async () => {
  server = await startServer();
  s3 = s3Client(server);
});
after(async () => {
  s3.destroy();
  await server.stop();
});

describe('configuration', () => {
  test('PutBucketCors, GetBucketCors and DeleteBucketCors round-trip the rules', async () => {
    const bucket = uniqueBucket('cors-config');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await rejectsWith(s3.send(new GetBucketCorsCommand({ Bucket: bucket })), 'NoSuchCORSConfiguration', 404);
    const rules: CORSRule[] = [
      { ID: 'site', AllowedOrigins: ['https://app.example.com', 'https://*.example.net'], AllowedMethods: ['GET', 'PUT', 'POST'], AllowedHeaders: ['content-type', 'x-amz-meta-*'], ExposeHeaders: ['ETag', 'x-amz-meta-color'], MaxAgeSeconds: 600 },
      { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD', 'DELETE'] },
    ];
    await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules } }));
    const got = await s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
    assert.deepEqual(got.CORSRules, rules);

    // A new configuration replaces the old one whole.
    await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [rules[1]!] } }));
    assert.deepEqual((await s3.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules, [rules[1]]);

    const deleted = await s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    await rejectsWith(s3.send(new GetBucketCorsCommand({ Bucket: bucket })), 'NoSuchCORSConfiguration', 404);
    // Deleting what is not there is still 204, as in S3.
    assert.equal((await s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }))).$metadata.httpStatusCode, 204);
    await rejectsWith(s3.send(new GetBucketCorsCommand({ Bucket: 'cors-no-such-bucket' })), 'NoSuchBucket', 404);
  });

  test('S3\'s validation: MalformedXML and InvalidRequest', async () => {
    const bucket = uniqueBucket('cors-invalid');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const put = (CORSRules: CORSRule[]): Promise<unknown> => s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules } }));
    const ok: CORSRule = { AllowedOrigins: ['*'], AllowedMethods: ['GET'] };

    const unsupported = await rejectsWith(put([{ AllowedOrigins: ['*'], AllowedMethods: ['GET', 'PATCH'] }]), 'InvalidRequest', 400);
    assert.equal(unsupported.message, 'Found unsupported HTTP method in CORS config. Unsupported method is PATCH');
    const origin = await rejectsWith(put([{ AllowedOrigins: ['https://*.example.*'], AllowedMethods: ['GET'] }]), 'InvalidRequest', 400);
    assert.equal(origin.message, 'AllowedOrigin "https://*.example.*" can not have more than one wildcard.');
    const header = await rejectsWith(put([{ ...ok, AllowedHeaders: ['x-*-*'] }]), 'InvalidRequest', 400);
    assert.equal(header.message, 'AllowedHeader "x-*-*" can not have more than one wildcard.');
    const expose = await rejectsWith(put([{ ...ok, ExposeHeaders: ['x-amz-*'] }]), 'InvalidRequest', 400);
    assert.equal(expose.message, 'ExposeHeader "x-amz-*" contains wildcard. We currently do not support wildcard for ExposeHeader.');
    await rejectsWith(put([]), 'MalformedXML', 400);
    await rejectsWith(put([{ AllowedOrigins: [], AllowedMethods: ['GET'] }]), 'MalformedXML', 400);
    await rejectsWith(put([{ AllowedOrigins: ['*'], AllowedMethods: [] }]), 'MalformedXML', 400);
    await rejectsWith(put(Array.from({ length: 101 }, () => ok)), 'MalformedXML', 400);
    await rejectsWith(put([{ ...ok, ID: 'x'.repeat(256) }]), 'InvalidArgument', 400);
    // Nothing was stored by any of them; 100 rules are fine.
    await rejectsWith(s3.send(new GetBucketCorsCommand({ Bucket: bucket })), 'NoSuchCORSConfiguration', 404);
    await put(Array.from({ length: 100 }, (_, i) => ({ ...ok, ID: `rule-${i}` })));
    assert.equal((await s3.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules?.length, 100);
  });

  test('the body must come with Content-MD5 or a checksum that matches it, and be small', async () => {
    const bucket = uniqueBucket('cors-digest');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const xml = '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>';
    const put = (headers: Record<string, string>, body = xml): Promise<Answer> => send('PUT', `/${bucket}?cors`, headers, { signed: true, body });
    assertError(await put({}), 400, 'InvalidRequest', 'Missing required header for this request: Content-MD5');
    assertError(await put({ 'Content-MD5': md5Base64('something else') }), 400, 'BadDigest');
    assertError(await put({ 'x-amz-checksum-crc32': checksumOf('CRC32', Buffer.from('something else')) }), 400, 'BadDigest');
    assertError(await put({ 'Content-MD5': 'not-an-md5' }), 400, 'InvalidDigest');
    assertError(await put({ 'Content-MD5': md5Base64('<x/>') }, '<x/>'), 400, 'MalformedXML');
    assertError(await put({ 'Content-MD5': md5Base64('<CORSConfiguration><CORSRule>') }, '<CORSConfiguration><CORSRule>'), 400, 'MalformedXML');
    const huge = `<CORSConfiguration>${'<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>'.repeat(800)}</CORSConfiguration>`;
    assertError(await put({ 'Content-MD5': md5Base64(huge) }, huge), 400, 'MalformedXML');
    await rejectsWith(s3.send(new GetBucketCorsCommand({ Bucket: bucket })), 'NoSuchCORSConfiguration', 404);

    assert.equal((await put({ 'Content-MD5': md5Base64(xml) })).status, 200);
    assert.equal((await put({ 'x-amz-checksum-sha256': checksumOf('SHA256', Buffer.from(xml)) })).status, 200);
  });

  test('only the bucket owner reads or writes the configuration', async () => {
    const bucket = uniqueBucket('cors-owner');
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ACL: 'public-read-write' }));
    const xml = '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>';
    assertError(await send('PUT', `/${bucket}?cors`, { 'Content-MD5': md5Base64(xml) }, { body: xml }), 403, 'AccessDenied');
    assertError(await send('GET', `/${bucket}?cors`), 403, 'AccessDenied');
    assertError(await send('DELETE', `/${bucket}?cors`), 403, 'AccessDenied');
  });
});

describe('enforcement', () => {
  const bucket = uniqueBucket('cors-matrix');
  const bare = uniqueBucket('cors-none');
  const APP = 'https://app.example.com';
  const SITE = {
    'access-control-allow-origin': APP,
    'access-control-allow-methods': 'GET, PUT',
    'access-control-expose-headers': 'ETag, x-amz-meta-color',
    'access-control-max-age': '600',
    'access-control-allow-credentials': 'true',
    vary: VARY,
  };

  before(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new CreateBucketCommand({ Bucket: bare }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'photo.jpg', Body: 'pixels', Metadata: { color: 'blue' } }));
    await s3.send(new PutObjectCommand({ Bucket: bare, Key: 'photo.jpg', Body: 'pixels' }));
    await s3.send(new PutBucketCorsCommand({
      Bucket: bucket, CORSConfiguration: {
        CORSRules: [
          { ID: 'app', AllowedOrigins: [APP], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['Content-Type', 'x-amz-meta-*'], ExposeHeaders: ['ETag', 'x-amz-meta-color'], MaxAgeSeconds: 600 },
          { ID: 'org', AllowedOrigins: ['https://*.example.org'], AllowedMethods: ['GET', 'HEAD', 'DELETE'], AllowedHeaders: ['*'] },
          { ID: 'anyone', AllowedOrigins: ['*'], AllowedMethods: ['GET'] },
        ],
      },
    }));
  });

  test('a preflight is answered from the first matching rule, without a signature', async () => {
    const put = await preflight(`/${bucket}/photo.jpg`, APP, 'PUT', 'Content-Type, X-Amz-Meta-Color');
    assert.equal(put.status, 200, put.body);
    assert.deepEqual(corsHeaders(put), { ...SITE, 'access-control-allow-headers': 'content-type, x-amz-meta-color' });

    // GET from the app's origin: the first rule wins over the wildcard one.
    assert.deepEqual(corsHeaders(await preflight(`/${bucket}/photo.jpg`, APP, 'GET')), SITE);

    // One wildcard in an origin; any requested header under AllowedHeader '*'.
    const org = await preflight(`/${bucket}/photo.jpg`, 'https://cdn.eu.example.org', 'DELETE', 'x-whatever,authorization');
    assert.deepEqual(corsHeaders(org), {
      'access-control-allow-origin': 'https://cdn.eu.example.org', 'access-control-allow-methods': 'GET, HEAD, DELETE',
      'access-control-allow-headers': 'x-whatever, authorization', 'access-control-allow-credentials': 'true', vary: VARY,
    });

    // The bare domain does not match `https://*.example.org`, so the wildcard rule answers GET with `*`.
    const anyone = await preflight(`/${bucket}`, 'https://example.org', 'GET');
    assert.deepEqual(corsHeaders(anyone), { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET', vary: VARY });
  });

  test('a preflight that no rule allows is 403 AccessForbidden', async () => {
    const cases: [origin: string, method: string, headers: string | undefined, resource: string][] = [
      [APP, 'PUT', 'x-amz-acl', 'OBJECT'], // a header the app rule does not list
      [APP, 'DELETE', undefined, 'OBJECT'], // a method only other origins get
      ['http://app.example.com', 'PUT', undefined, 'OBJECT'], // another scheme is another origin
      ['https://app.example.com.evil.test', 'PUT', undefined, 'OBJECT'],
      ['https://example.org', 'DELETE', undefined, 'BUCKET'],
      ['https://example.org', 'PATCH', undefined, 'OBJECT'],
    ];
    for (const [origin, method, headers, resource] of cases) {
      const a = await preflight(resource === 'OBJECT' ? `/${bucket}/photo.jpg` : `/${bucket}`, origin, method, headers);
      assertError(a, 403, 'AccessForbidden', NOT_ALLOWED);
      assert.equal(xmlValue(a.body, 'Method'), method);
      assert.equal(xmlValue(a.body, 'ResourceType'), resource);
      assert.equal(a.headers['access-control-allow-origin'], undefined, `${origin} ${method}`);
    }
  });

  test('a preflight needs Origin and a method; a bucket without rules or without existence refuses it', async () => {
    assertError(await preflight(`/${bucket}/photo.jpg`, undefined, 'GET'), 400, 'BadRequest', 'Insufficient information. Origin request header needed.');
    assertError(await preflight(`/${bucket}/photo.jpg`, APP, undefined), 400, 'BadRequest', 'Invalid Access-Control-Request-Method: null');
    const none = await preflight(`/${bare}/photo.jpg`, APP, 'GET');
    assertError(none, 403, 'AccessForbidden', 'CORSResponse: CORS is not enabled for this bucket.');
    assert.equal(none.headers['access-control-allow-origin'], undefined);
    assertError(await preflight('/cors-missing-bucket/photo.jpg', APP, 'GET'), 403, 'AccessForbidden', 'CORSResponse: Bucket not found');
  });

  test('actual requests with a matching Origin get the rule\'s headers, on errors too', async () => {
    const get = await send('GET', `/${bucket}/photo.jpg`, { Origin: APP }, { signed: true });
    assert.equal(get.status, 200);
    assert.equal(get.body, 'pixels');
    assert.deepEqual(corsHeaders(get), SITE);

    const missing = await send('GET', `/${bucket}/no-such-key`, { Origin: APP }, { signed: true });
    assertError(missing, 404, 'NoSuchKey');
    assert.deepEqual(corsHeaders(missing), SITE);

    // Anonymous and not allowed: the 403 still tells the browser it may read the error.
    const denied = await send('GET', `/${bucket}/photo.jpg`, { Origin: 'https://cdn.example.org' });
    assertError(denied, 403, 'AccessDenied');
    assert.equal(denied.headers['access-control-allow-origin'], 'https://cdn.example.org');
    assert.equal(denied.headers['access-control-allow-methods'], 'GET, HEAD, DELETE');

    const head = await send('HEAD', `/${bucket}/photo.jpg`, { Origin: 'https://cdn.example.org' }, { signed: true });
    assert.equal(head.status, 200);
    assert.equal(head.headers['access-control-allow-origin'], 'https://cdn.example.org');

    const wildcard = await send('GET', `/${bucket}?list-type=2`, { Origin: 'https://example.org' }, { signed: true });
    assert.equal(wildcard.status, 200);
    assert.deepEqual(corsHeaders(wildcard), { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET', vary: VARY });
  });

  test('actual requests that no rule matches, or without Origin, get no Access-Control headers', async () => {
    // DELETE from the app's origin matches no rule: only Vary says the answer depends on Origin.
    const put = await send('DELETE', `/${bucket}/nothing-here`, { Origin: APP }, { signed: true });
    assert.equal(put.status, 204);
    assert.deepEqual(corsHeaders(put), { vary: VARY });
    assert.deepEqual(corsHeaders(await send('GET', `/${bucket}/photo.jpg`, {}, { signed: true })), {});
    assert.deepEqual(corsHeaders(await send('GET', `/${bare}/photo.jpg`, { Origin: APP }, { signed: true })), {});
    const noBucket = await send('GET', '/cors-missing-bucket/photo.jpg', { Origin: APP }, { signed: true });
    assertError(noBucket, 404, 'NoSuchBucket');
    assert.deepEqual(corsHeaders(noBucket), {});
  });

  test('removing the configuration takes effect at once', async () => {
    const other = uniqueBucket('cors-removed');
    await s3.send(new CreateBucketCommand({ Bucket: other }));
    await s3.send(new PutBucketCorsCommand({ Bucket: other, CORSConfiguration: { CORSRules: [{ AllowedOrigins: [APP], AllowedMethods: ['GET'] }] } }));
    assert.equal((await preflight(`/${other}/k`, APP, 'GET')).status, 200);
    assert.equal((await send('GET', `/${other}?list-type=2`, { Origin: APP }, { signed: true })).headers['access-control-allow-origin'], APP);
    await s3.send(new DeleteBucketCorsCommand({ Bucket: other }));
    assertError(await preflight(`/${other}/k`, APP, 'GET'), 403, 'AccessForbidden', 'CORSResponse: CORS is not enabled for this bucket.');
    assert.deepEqual(corsHeaders(await send('GET', `/${other}?list-type=2`, { Origin: APP }, { signed: true })), {});
  });
});
