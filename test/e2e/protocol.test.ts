/**
 * HTTP-level S3 conventions, seen through the AWS SDK for JavaScript v3 and raw
 * HTTP: common response headers on every response, the error document, HEAD
 * errors without a body, quoted ETags, date formats, Expect: 100-continue,
 * keep-alive connection reuse, and a body longer than its Content-Length.
 */
import assert from 'node:assert/strict';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  CopyObjectCommand, CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, DeleteObjectsCommand,
  GetBucketLocationCommand, GetBucketVersioningCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand,
  ListBucketsCommand, ListObjectsCommand, ListObjectsV2Command, ListObjectVersionsCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import type { DeserializeHandler, DeserializeHandlerArguments, DeserializeHandlerOutput } from '@smithy/types';
import { ROOT_KEY, s3Client, startServer, type RunningServer } from './harness.js';
import { head as requestHead, rawExchange as socketExchange } from './raw-http.js';
import { md5Base64, md5Hex, patternBytes, signRequest, signedFetch, uniqueBucket, urlOf, xmlValue, xmlValues } from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;
const bucket = uniqueBucket('protocol');
const BODY = 'protocol test body';

const RFC1123 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const ISO8601_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const QUOTED_MD5 = /^"[0-9a-f]{32}"$/;

before(async () => {
  server = await startServer();
  s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'object', Body: BODY }));
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

interface Seen {
  readonly label: string;
  readonly status: number;
  readonly headers: Record<string, string>;
}

/** A client that records the raw response of every request it makes, errors included. */
function recordingClient(seen: Seen[], credentials = ROOT_KEY): S3Client {
  const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
  client.middlewareStack.add(
    <O extends object>(next: DeserializeHandler<object, O>, context: { commandName?: string }) =>
      async (args: DeserializeHandlerArguments<object>): Promise<DeserializeHandlerOutput<O>> => {
        const out = await next(args);
        const response = out.response as { statusCode: number; headers: Record<string, string> };
        seen.push({ label: context.commandName ?? '?', status: response.statusCode, headers: response.headers });
        return out;
      },
    // Inside the deserializer: sees the raw response before an error is thrown for it.
    { step: 'deserialize', priority: 'low' },
  );
  return client;
}

/** Sends one request on a raw socket and returns every byte the server wrote until it closed. */
function rawExchange(requestText: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(server.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
    socket.write(requestText);
  });
}

async function rawHead(path: string, extra: Record<string, string> = {}): Promise<string> {
  const headers = await signRequest(server, { method: 'HEAD', path });
  return [`HEAD ${path} HTTP/1.1`, ...Object.entries({ ...headers, ...extra }).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
}

async function rawGet(path: string, extra: Record<string, string> = {}): Promise<string> {
  const headers = await signRequest(server, { method: 'GET', path });
  return [`GET ${path} HTTP/1.1`, ...Object.entries({ ...headers, ...extra }).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
}

interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly reusedSocket: boolean;
  readonly socket: Socket;
  readonly sawContinue: boolean;
}

/** A signed request through node:http (so the agent, Expect and socket are under the test's control). */
async function httpRequest(options: {
  method: string; path: string; query?: Record<string, string>; body?: Buffer; agent?: Agent; expectContinue?: boolean;
  credentials?: typeof ROOT_KEY;
}): Promise<RawResponse> {
  const body = options.body ?? Buffer.alloc(0);
  const signed = await signRequest(
    server, { method: options.method, path: options.path, ...(options.query ? { query: options.query } : {}), body },
    { ...(options.credentials ? { credentials: options.credentials } : {}) },
  );
  const target = new URL(urlOf(server, { path: options.path, ...(options.query ? { query: options.query } : {}) }));
  return new Promise((resolve, reject) => {
    let sawContinue = false;
    const req = request({
      host: '127.0.0.1', port: server.port, method: options.method, path: target.pathname + target.search, agent: options.agent ?? false,
      headers: {
        ...signed,
        ...(options.method === 'PUT' ? { 'content-length': String(body.length) } : {}),
        ...(options.expectContinue ? { expect: '100-continue' } : {}),
      },
    });
    req.on('error', reject);
    req.on('continue', () => {
      sawContinue = true;
      req.end(body);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({
        status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), reusedSocket: req.reusedSocket,
        socket: req.socket as Socket, sawContinue,
      }));
    });
    if (!options.expectContinue) req.end(options.method === 'PUT' ? body : undefined);
  });
}

describe('common response headers', () => {
  test('every response, success or error, has x-amz-request-id, x-amz-id-2, Date and Server', async () => {
    const seen: Seen[] = [];
    const client = recordingClient(seen);
    const stranger = recordingClient(seen, { accessKeyId: 'AKIDOESNOTEXIST00000', secretAccessKey: 'x'.repeat(40) });
    const other = uniqueBucket('protocol-other');
    const attempt = async (p: Promise<unknown>): Promise<void> => { await p.catch(() => undefined); };
    try {
      await attempt(client.send(new ListBucketsCommand({})));
      await attempt(client.send(new CreateBucketCommand({ Bucket: other })));
      await attempt(client.send(new HeadBucketCommand({ Bucket: other })));
      await attempt(client.send(new GetBucketLocationCommand({ Bucket: other })));
      await attempt(client.send(new GetBucketVersioningCommand({ Bucket: other })));
      await attempt(client.send(new PutObjectCommand({ Bucket: other, Key: 'k', Body: 'v' })));
      await attempt(client.send(new HeadObjectCommand({ Bucket: other, Key: 'k' })));
      await attempt(client.send(new GetObjectCommand({ Bucket: other, Key: 'k' }))
        .then((o) => o.Body?.transformToString()));
      await attempt(client.send(new GetObjectCommand({ Bucket: other, Key: 'k', Range: 'bytes=0-0' }))
        .then((o) => o.Body?.transformToString()));
      await attempt(client.send(new CopyObjectCommand({ Bucket: other, Key: 'k2', CopySource: `${other}/k` })));
      await attempt(client.send(new ListObjectsCommand({ Bucket: other })));
      await attempt(client.send(new ListObjectsV2Command({ Bucket: other })));
      await attempt(client.send(new ListObjectVersionsCommand({ Bucket: other })));
      // Errors of each family.
      await attempt(client.send(new GetObjectCommand({ Bucket: other, Key: 'missing' })));
      await attempt(client.send(new HeadObjectCommand({ Bucket: other, Key: 'missing' })));
      await attempt(client.send(new HeadBucketCommand({ Bucket: uniqueBucket('missing') })));
      await attempt(client.send(new GetObjectCommand({ Bucket: other, Key: 'k', IfMatch: '"nope"' })));
      await attempt(client.send(new HeadObjectCommand({ Bucket: other, Key: 'k', IfMatch: '"nope"' })));
      await attempt(client.send(new GetObjectCommand({ Bucket: other, Key: 'k', IfNoneMatch: '*' })));
      await attempt(client.send(new GetObjectCommand({ Bucket: other, Key: 'k', Range: 'bytes=100-' })));
      await attempt(client.send(new DeleteBucketCommand({ Bucket: other })));
      await attempt(client.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })));
      await attempt(stranger.send(new ListBucketsCommand({})));
      await attempt(client.send(new DeleteObjectsCommand({ Bucket: other, Delete: { Objects: [{ Key: 'k' }, { Key: 'k2' }] } })));
      await attempt(client.send(new DeleteObjectCommand({ Bucket: other, Key: 'k' })));
      await attempt(client.send(new DeleteBucketCommand({ Bucket: other })));
    } finally {
      client.destroy();
      stranger.destroy();
    }
    const statuses = new Set(seen.map((s) => s.status));
    for (const status of [200, 204, 206, 304, 400, 403, 404, 409, 412, 416]) assert.ok(statuses.has(status), `a ${status} response was seen`);
    const ids = new Set<string>();
    for (const { label, status, headers } of seen) {
      const where = `${label} (${status})`;
      assert.match(headers['x-amz-request-id'] ?? '', /^[0-9A-Za-z]{8,}$/, `${where} x-amz-request-id`);
      assert.ok((headers['x-amz-id-2'] ?? '').length > 0, `${where} x-amz-id-2`);
      assert.match(headers.date ?? '', RFC1123, `${where} Date`);
      assert.ok((headers.server ?? '').length > 0, `${where} Server`);
      ids.add(headers['x-amz-request-id']!);
    }
    assert.equal(ids.size, seen.length, 'request ids are unique');
  });
});

describe('error documents', () => {
  test('an error has Code, Message, Resource and RequestId (matching x-amz-request-id), as application/xml', async () => {
    const response = await signedFetch(server, { method: 'GET', path: `/${bucket}/no/such/key` });
    const body = await response.text();
    assert.equal(response.status, 404);
    assert.equal(response.headers.get('content-type'), 'application/xml');
    assert.match(body, /^<\?xml version="1.0" encoding="UTF-8"\?>\s*<Error>/);
    assert.equal(xmlValue(body, 'Code'), 'NoSuchKey');
    assert.ok((xmlValue(body, 'Message') ?? '').length > 0, 'Message');
    assert.equal(xmlValue(body, 'Key'), 'no/such/key');
    assert.equal(xmlValue(body, 'Resource'), `/${bucket}/no/such/key`);
    assert.equal(xmlValue(body, 'RequestId'), response.headers.get('x-amz-request-id'));
    assert.equal(Number(response.headers.get('content-length')), Buffer.byteLength(body));
  });

  test('errors raised before routing or authentication have the same shape', async () => {
    for (const [response, code, status] of [
      [await fetch(`${server.endpoint}/${bucket}/object`), 'AccessDenied', 403],
      [await signedFetch(server, { method: 'GET', path: `/${uniqueBucket('nobucket')}/k` }), 'NoSuchBucket', 404],
      [await signedFetch(server, { method: 'GET', path: `/${bucket}/object`, headers: { range: 'bytes=999-' } }), 'InvalidRange', 416],
    ] as const) {
      const body = await response.text();
      assert.equal(response.status, status, body);
      assert.equal(xmlValue(body, 'Code'), code);
      for (const element of ['Message', 'Resource', 'RequestId']) assert.ok(xmlValue(body, element) !== undefined, `${code} has ${element}`);
      assert.equal(xmlValue(body, 'RequestId'), response.headers.get('x-amz-request-id'));
    }
  });

  test('HEAD errors have no body: a pipelined request after one is answered cleanly', async () => {
    // Two requests on one connection: if the 404 to HEAD carried a body, its bytes
    // would sit where the second response must begin.
    const requests = (await rawHead(`/${bucket}/missing`)) + (await rawGet(`/${bucket}/object`, { connection: 'close' }));
    const bytes = (await rawExchange(requests)).toString('latin1');
    const firstEnd = bytes.indexOf('\r\n\r\n');
    assert.match(bytes.slice(0, firstEnd), /^HTTP\/1\.1 404 /);
    const rest = bytes.slice(firstEnd + 4);
    assert.match(rest, /^HTTP\/1\.1 200 /, 'the next response starts right after the HEAD headers');
    const secondEnd = rest.indexOf('\r\n\r\n');
    assert.equal(rest.slice(secondEnd + 4), BODY);
    const head404 = bytes.slice(0, firstEnd).toLowerCase();
    assert.match(head404, /\r\nx-amz-request-id: /);
    assert.doesNotMatch(head404, /\r\ntransfer-encoding: chunked/);
  });
});

describe('ETag and dates', () => {
  test('ETags are the quoted hex MD5 everywhere', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'etag', Body: 'etag body' }));
    const expected = `"${md5Hex('etag body')}"`;
    assert.equal(put.ETag, expected);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'etag' }))).ETag, expected);
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'etag' }));
    await get.Body?.transformToString();
    assert.equal(get.ETag, expected);
    const copy = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'etag-copy', CopySource: `${bucket}/etag` }));
    assert.equal(copy.CopyObjectResult?.ETag, expected);
    const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'etag' }));
    for (const o of list.Contents ?? []) assert.equal(o.ETag, expected);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'etag' }));
    for (const v of versions.Versions ?? []) assert.match(v.ETag ?? '', QUOTED_MD5);
    // And on the wire, in the header.
    const raw = await signedFetch(server, { method: 'HEAD', path: `/${bucket}/etag` });
    assert.equal(raw.headers.get('etag'), expected);
  });

  test('Last-Modified is RFC 1123 in headers; XML dates are ISO 8601 with milliseconds, at the same second', async () => {
    const head = await signedFetch(server, { method: 'HEAD', path: `/${bucket}/object` });
    const lastModified = head.headers.get('last-modified') ?? '';
    assert.match(lastModified, RFC1123);
    assert.match(head.headers.get('date') ?? '', RFC1123);
    const list = await signedFetch(server, { method: 'GET', path: `/${bucket}`, query: { 'list-type': '2', prefix: 'object' } });
    const listed = xmlValue(await list.text(), 'LastModified') ?? '';
    assert.match(listed, ISO8601_MS);
    // S3 keeps whole seconds: the listing and HEAD tell the same time.
    assert.equal(Date.parse(listed), Date.parse(lastModified));
    const buckets = await signedFetch(server, { method: 'GET', path: '/' });
    for (const created of xmlValues(await buckets.text(), 'CreationDate')) assert.match(created, ISO8601_MS);
  });

  test('through the SDK, HEAD and the listings report the same LastModified', async () => {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'object' }));
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'object' }));
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: 'object' }));
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'object' }));
    assert.equal(v2.Contents?.[0]?.LastModified?.getTime(), head.LastModified?.getTime());
    assert.equal(v1.Contents?.[0]?.LastModified?.getTime(), head.LastModified?.getTime());
    assert.equal(versions.Versions?.[0]?.LastModified?.getTime(), head.LastModified?.getTime());
  });
});

describe('Expect: 100-continue', () => {
  test('a PUT waits for 100 Continue, sends its body, and is stored', async () => {
    const data = patternBytes(64 * 1024, 31);
    const response = await httpRequest({ method: 'PUT', path: `/${bucket}/continued`, body: data, expectContinue: true });
    assert.equal(response.status, 200, response.body.toString());
    assert.ok(response.sawContinue, 'the server sent 100 Continue');
    assert.equal(response.headers.etag, `"${md5Hex(data)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'continued' }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), data);
  });

  test('a PUT that will fail gets its error without 100 Continue, and no body is stored', async () => {
    const data = Buffer.from('never sent');
    const badKey = { accessKeyId: ROOT_KEY.accessKeyId, secretAccessKey: 'wrong-secret-key-000000000000000000000000' };
    const denied = await httpRequest({ method: 'PUT', path: `/${bucket}/not-continued`, body: data, expectContinue: true, credentials: badKey });
    assert.equal(denied.status, 403);
    assert.equal(denied.sawContinue, false);
    assert.equal(xmlValue(denied.body.toString(), 'Code'), 'SignatureDoesNotMatch');
    const noBucket = await httpRequest({ method: 'PUT', path: `/${uniqueBucket('gone')}/k`, body: data, expectContinue: true });
    assert.equal(noBucket.status, 404);
    assert.equal(noBucket.sawContinue, false);
    const head = await signedFetch(server, { method: 'HEAD', path: `/${bucket}/not-continued` });
    assert.equal(head.status, 404);
  });
});

describe('keep-alive', () => {
  test('sequential requests reuse one socket, across successes and errors', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const responses: RawResponse[] = [];
      responses.push(await httpRequest({ method: 'GET', path: `/${bucket}/object`, agent }));
      responses.push(await httpRequest({ method: 'HEAD', path: `/${bucket}/object`, agent }));
      responses.push(await httpRequest({ method: 'GET', path: `/${bucket}/missing`, agent }));
      responses.push(await httpRequest({ method: 'HEAD', path: `/${bucket}/missing`, agent }));
      responses.push(await httpRequest({ method: 'PUT', path: `/${bucket}/kept-alive`, body: Buffer.from('x'), agent }));
      responses.push(await httpRequest({ method: 'GET', path: `/${bucket}`, query: { 'list-type': '2' }, agent }));
      assert.deepEqual(responses.map((r) => r.status), [200, 200, 404, 404, 200, 200]);
      assert.deepEqual(responses.map((r) => r.reusedSocket), [false, true, true, true, true, true]);
      assert.equal(new Set(responses.map((r) => r.socket)).size, 1, 'one socket');
      for (const r of responses) assert.notEqual(r.headers.connection, 'close');
    } finally {
      agent.destroy();
    }
  });

  test('the SDK client reuses its connection too', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let sockets = 0;
    const createConnection = agent.createConnection.bind(agent);
    agent.createConnection = ((...args: Parameters<typeof createConnection>) => {
      sockets++;
      return createConnection(...args);
    }) as typeof agent.createConnection;
    const client = new S3Client({
      endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: ROOT_KEY, maxAttempts: 1,
      requestHandler: { httpAgent: agent },
    });
    try {
      for (let i = 0; i < 5; i++) {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: `sdk-keepalive-${i}`, Body: `v${i}` }));
        const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `sdk-keepalive-${i}` }));
        assert.equal(await got.Body?.transformToString(), `v${i}`);
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'missing' })).catch(() => undefined);
      }
      assert.equal(sockets, 1, 'fifteen requests, one connection');
    } finally {
      client.destroy();
      agent.destroy();
    }
  });
});

describe('a body longer than its Content-Length', () => {
  test('the request is answered (BadDigest for the cut body), then the connection closes; nothing is stored', async () => {
    const sent = Buffer.from('bar and then some more bytes');
    const path = `/${bucket}/longer-than-declared`;
    const signed = await signRequest(server, { method: 'PUT', path }, { unsignedPayload: true });
    // No Connection: close from the client: closing is the server's decision once the framing broke.
    const response = await socketExchange(server.port, {
      head: requestHead('PUT', path, { ...signed, 'Content-Length': 3, 'Content-MD5': md5Base64(sent) }),
      body: sent,
    });
    assert.ok(response, 'an answer arrived before the connection closed');
    assert.equal(response.status, 400, response.body);
    assert.equal(xmlValue(response.body, 'Code'), 'BadDigest', response.body);
    assert.equal(response.headers.connection, 'close');
    const stored = await signedFetch(server, { method: 'HEAD', path });
    assert.equal(stored.status, 404);
  });
});
