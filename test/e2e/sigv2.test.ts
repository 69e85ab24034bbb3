/**
 * Signature Version 2 against a real server, over raw HTTP: header auth (good,
 * wrong signature, skewed, missing or pre-epoch date), query auth (good, expired, tampered)
 * and virtual-hosted-style requests (`Host: <bucket>.localhost`, server started
 * with `--domain localhost`), signed here as the S3 user guide describes.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ROOT_KEY, startServer, type RunningServer } from './harness.js';

const DOMAIN = 'localhost';
let server: RunningServer;
const bucket = `sigv2-${process.pid}`;

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** One HTTP request to the server's loopback address with exactly these headers. */
function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers: { 'Content-Length': String(Buffer.byteLength(body ?? '')), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function sign(toSign: string, secret = ROOT_KEY.secretAccessKey): string {
  return createHmac('sha1', secret).update(toSign, 'utf8').digest('base64');
}

/** Header auth: `VERB\nContent-MD5\nContent-Type\nDate\n<amz headers><resource>`. */
function headerAuth(method: string, resource: string, opts: { contentType?: string; date?: string; amz?: string; secret?: string } = {}): Record<string, string> {
  const date = opts.date ?? new Date().toUTCString();
  const toSign = `${method}\n\n${opts.contentType ?? ''}\n${date}\n${opts.amz ?? ''}${resource}`;
  return {
    Date: date,
    Authorization: `AWS ${ROOT_KEY.accessKeyId}:${sign(toSign, opts.secret)}`,
    ...(opts.contentType === undefined ? {} : { 'Content-Type': opts.contentType }),
  };
}

/** Query auth: Expires takes the Date's place. */
function presignedPath(method: string, path: string, resource: string, expires: number): string {
  const signature = sign(`${method}\n\n\n${expires}\n${resource}`);
  return `${path}?AWSAccessKeyId=${ROOT_KEY.accessKeyId}&Expires=${expires}&Signature=${encodeURIComponent(signature)}`;
}

function xmlValue(xml: string, tag: string): string | undefined {
  return new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];
}

function expectError(reply: Reply, status: number, code: string): void {
  assert.equal(reply.status, status, reply.body);
  assert.equal(xmlValue(reply.body, 'Code'), code, reply.body);
}

const host = (): string => `127.0.0.1:${server.port}`;
const vhost = (): string => `${bucket}.${DOMAIN}:${server.port}`;

before(async () => {
  server = await startServer({ args: ['--domain', DOMAIN] });
  // A path-style request for the bucket alone is signed as /bucket/ (S3's resource name).
  const created = await send('PUT', `/${bucket}`, { Host: host(), ...headerAuth('PUT', `/${bucket}/`) });
  assert.equal(created.status, 200, created.body);
  const put = await send('PUT', `/${bucket}/hello.txt`, { Host: host(), ...headerAuth('PUT', `/${bucket}/hello.txt`, { contentType: 'text/plain' }) }, 'hello, v2');
  assert.equal(put.status, 200, put.body);
});

after(async () => {
  await server?.stop();
});

describe('SigV2 header auth', () => {
  test('a good signature reads the object', async () => {
    const reply = await send('GET', `/${bucket}/hello.txt`, { Host: host(), ...headerAuth('GET', `/${bucket}/hello.txt`) });
    assert.equal(reply.status, 200, reply.body);
    assert.equal(reply.body, 'hello, v2');
    assert.equal(reply.headers['content-type'], 'text/plain');
  });

  test('sub-resources are signed: list multipart uploads with ?uploads', async () => {
    const reply = await send('GET', `/${bucket}?uploads&max-uploads=10`, { Host: host(), ...headerAuth('GET', `/${bucket}/?uploads`) });
    assert.equal(reply.status, 200, reply.body);
    assert.match(reply.body, /<ListMultipartUploadsResult/);
  });

  test('a wrong signature is SignatureDoesNotMatch, with the StringToSign we used', async () => {
    const date = new Date().toUTCString();
    const reply = await send('GET', `/${bucket}/hello.txt`, { Host: host(), ...headerAuth('GET', `/${bucket}/hello.txt`, { date, secret: 'not-the-secret' }) });
    expectError(reply, 403, 'SignatureDoesNotMatch');
    assert.equal(xmlValue(reply.body, 'StringToSign'), `GET\n\n\n${date}\n/${bucket}/hello.txt`);
    assert.equal(xmlValue(reply.body, 'AWSAccessKeyId'), ROOT_KEY.accessKeyId);
    assert.match(xmlValue(reply.body, 'StringToSignBytes') ?? '', /^47 45 54 0a /);
  });

  test('an unknown access key is InvalidAccessKeyId', async () => {
    const reply = await send('GET', `/${bucket}/hello.txt`, { Host: host(), Date: new Date().toUTCString(), Authorization: 'AWS AKIDNOBODYKNOWS:AAAAAAAAAAAAAAAAAAAAAAAAAAA=' });
    expectError(reply, 403, 'InvalidAccessKeyId');
  });

  test('a Date 20 minutes old is RequestTimeTooSkewed; no Date at all is AccessDenied', async () => {
    const old = new Date(Date.now() - 20 * 60_000).toUTCString();
    expectError(await send('GET', `/${bucket}/hello.txt`, { Host: host(), ...headerAuth('GET', `/${bucket}/hello.txt`, { date: old }) }), 403, 'RequestTimeTooSkewed');
    const signed = headerAuth('GET', `/${bucket}/hello.txt`, { date: '' });
    const reply = await send('GET', `/${bucket}/hello.txt`, { Host: host(), Authorization: signed.Authorization! });
    expectError(reply, 403, 'AccessDenied');
    assert.equal(xmlValue(reply.body, 'Message'), 'AWS authentication requires a valid Date or x-amz-date header');
  });

  test('an x-amz-date before 1970 is AccessDenied (no valid date); one in 9999 is RequestTimeTooSkewed', async () => {
    const at = (amzDate: string): Promise<Reply> => {
      const signed = headerAuth('PUT', `/${bucket}/dated.txt`, { date: '', amz: `x-amz-date:${amzDate}\n` });
      return send('PUT', `/${bucket}/dated.txt`, { Host: host(), 'x-amz-date': amzDate, Authorization: signed.Authorization! }, 'never stored');
    };
    const old = await at('Fri, 07 Jul 1950 21:53:04 GMT');
    expectError(old, 403, 'AccessDenied');
    assert.equal(xmlValue(old.body, 'Message'), 'AWS authentication requires a valid Date or x-amz-date header');
    expectError(await at('Tue, 07 Jul 9999 21:53:04 GMT'), 403, 'RequestTimeTooSkewed');
    const head = await send('HEAD', `/${bucket}/dated.txt`, { Host: host(), ...headerAuth('HEAD', `/${bucket}/dated.txt`) });
    assert.equal(head.status, 404);
  });

  test('x-amz-date instead of Date: empty Date position, x-amz-date signed as an amz header', async () => {
    const now = new Date().toUTCString();
    const signed = headerAuth('GET', `/${bucket}/hello.txt`, { date: '', amz: `x-amz-date:${now}\n` });
    const reply = await send('GET', `/${bucket}/hello.txt`, { Host: host(), 'x-amz-date': now, Authorization: signed.Authorization! });
    assert.equal(reply.status, 200, reply.body);
  });
});

describe('SigV2 query auth', () => {
  test('a presigned GET works until it expires', async () => {
    const expires = Math.floor(Date.now() / 1000) + 300;
    const reply = await send('GET', presignedPath('GET', `/${bucket}/hello.txt`, `/${bucket}/hello.txt`, expires), { Host: host() });
    assert.equal(reply.status, 200, reply.body);
    assert.equal(reply.body, 'hello, v2');
  });

  test('an expired one is AccessDenied "Request has expired"', async () => {
    const expires = Math.floor(Date.now() / 1000) - 1;
    const reply = await send('GET', presignedPath('GET', `/${bucket}/hello.txt`, `/${bucket}/hello.txt`, expires), { Host: host() });
    expectError(reply, 403, 'AccessDenied');
    assert.equal(xmlValue(reply.body, 'Message'), 'Request has expired');
    assert.ok(xmlValue(reply.body, 'Expires'));
    assert.ok(xmlValue(reply.body, 'ServerTime'));
  });

  test('a tampered one is SignatureDoesNotMatch', async () => {
    const expires = Math.floor(Date.now() / 1000) + 300;
    const path = presignedPath('GET', `/${bucket}/hello.txt`, `/${bucket}/hello.txt`, expires).replace(`Expires=${expires}`, `Expires=${expires + 3600}`);
    expectError(await send('GET', path, { Host: host() }), 403, 'SignatureDoesNotMatch');
  });
});

describe('SigV2 virtual-hosted style', () => {
  test('GET object with the bucket in the Host header (signed as /bucket/key)', async () => {
    const reply = await send('GET', '/hello.txt', { Host: vhost(), ...headerAuth('GET', `/${bucket}/hello.txt`) });
    assert.equal(reply.status, 200, reply.body);
    assert.equal(reply.body, 'hello, v2');
  });

  test('list the bucket (signed as /bucket/), put an object, presigned GET', async () => {
    const put = await send('PUT', '/v.txt', { Host: vhost(), ...headerAuth('PUT', `/${bucket}/v.txt`) }, 'virtual');
    assert.equal(put.status, 200, put.body);
    const list = await send('GET', '/?prefix=v', { Host: vhost(), ...headerAuth('GET', `/${bucket}/`) });
    assert.equal(list.status, 200, list.body);
    assert.equal(xmlValue(list.body, 'Key'), 'v.txt');
    const expires = Math.floor(Date.now() / 1000) + 300;
    const get = await send('GET', presignedPath('GET', '/v.txt', `/${bucket}/v.txt`, expires), { Host: vhost() });
    assert.equal(get.status, 200, get.body);
    assert.equal(get.body, 'virtual');
  });

  test('signing the path without the bucket does not match', async () => {
    const reply = await send('GET', '/hello.txt', { Host: vhost(), ...headerAuth('GET', '/hello.txt') });
    expectError(reply, 403, 'SignatureDoesNotMatch');
    assert.match(xmlValue(reply.body, 'StringToSign') ?? '', new RegExp(`\\n/${bucket}/hello\\.txt$`));
  });
});
