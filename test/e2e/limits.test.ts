/**
 * Input limits answer S3's errors and store nothing: key length, metadata size,
 * part numbers and counts, part and object sizes (checked from Content-Length
 * before any byte is read), a missing or lying Content-Length, bad Content-MD5,
 * invalid UTF-8 in keys, malformed ranges and malformed dates.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, HeadObjectCommand,
  ListObjectsV2Command, PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { head, rawExchange, rawSigned as rawSignedTo, type RawResponse, type RawSignedOptions } from './raw-http.js';
import {
  md5Base64, patternBytes, rejectsWith, signRequest, signedFetch, uniqueBucket, walk, xmlValue,
} from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;
const bucket = uniqueBucket('limits');
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

before(async () => {
  // A small configured maximum, so that the object limit is reachable in a test.
  server = await startServer({ args: ['--max-object-size', String(6 * MiB), '--gc-grace', '0'] });
  s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

function rawSigned(method: string, path: string, extra: Record<string, string | number>, body?: Buffer, options: RawSignedOptions = {}): Promise<RawResponse | undefined> {
  return rawSignedTo(server, method, path, extra, body, options);
}

async function absent(key: string): Promise<void> {
  await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })), 'NotFound', 404);
}

function errorCode(res: RawResponse | undefined): string | undefined {
  return res && xmlValue(res.body, 'Code');
}

/** Blob files on disk (not folders). */
function blobFiles(): string[] {
  return walk(`${server.dataDir}/blobs`).filter((p) => p.includes('/'));
}

describe('names and metadata', () => {
  test('a key of 1025 bytes is KeyTooLongError; 1024 bytes is fine', async () => {
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k'.repeat(1025), Body: 'x' })), 'KeyTooLongError', 400);
    await rejectsWith(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'é'.repeat(513) })), 'KeyTooLongError', 400);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k'.repeat(1024), Body: 'x' }));
  });

  test('user metadata over 2 KB is MetadataTooLarge and nothing is stored', async () => {
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta', Body: 'x', Metadata: { big: 'v'.repeat(2046) } })), 'MetadataTooLarge', 400);
    await absent('meta');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta', Body: 'x', Metadata: { ok: 'v'.repeat(2000) } }));
  });

  test('invalid UTF-8 in a key is InvalidURI, for reads and writes', async () => {
    for (const method of ['PUT', 'GET', 'DELETE']) {
      const res = await signedFetch(server, { method, path: `/${bucket}/bad%FF%FEkey`, ...(method === 'PUT' ? { body: 'x' } : {}) });
      assert.equal(res.status, 400, method);
      assert.equal(xmlValue(await res.text(), 'Code'), 'InvalidURI', method);
    }
    // Raw, unencoded non-UTF-8 bytes in the request line are refused too, by the HTTP parser or as InvalidURI.
    const raw = await rawExchange(server.port, { head: Buffer.concat([Buffer.from(`GET /${bucket}/`), Buffer.from([0xff, 0xfe]), Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close')]) });
    assert.ok(raw === undefined || raw.status === 400, `status ${raw?.status}`);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.ok((listed.Contents ?? []).every((o) => !o.Key!.includes('\ufffd')));
  });
});

describe('sizes', () => {
  test('part numbers outside 1..10000 are InvalidArgument', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'parts' }));
    for (const n of [0, 10001]) {
      await rejectsWith(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'parts', UploadId, PartNumber: n, Body: 'x' })), 'InvalidArgument', 400);
    }
    const res = await rawSigned('PUT', `/${bucket}/parts`, { 'Content-Length': 1 }, Buffer.from('x'), { query: { partNumber: '-1', uploadId: UploadId! } });
    assert.equal(res?.status, 400);
    assert.equal(errorCode(res), 'InvalidArgument');
  });

  test('completing with more than 10000 parts is refused', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'too-many' }));
    const parts = Array.from({ length: 10001 }, (_, i) => ({ PartNumber: i + 1, ETag: '"d41d8cd98f00b204e9800998ecf8427e"' }));
    await rejectsWith(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'too-many', UploadId, MultipartUpload: { Parts: parts } })), 'MalformedXML', 400);
    await absent('too-many');
  });

  test('a part over 5 GiB is EntityTooLarge from its Content-Length alone, before any byte is sent', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'huge-part' }));
    const res = await rawSigned('PUT', `/${bucket}/huge-part`, { 'Content-Length': 5 * GiB + 1, Expect: '100-continue' }, undefined, { query: { partNumber: '1', uploadId: UploadId! } });
    assert.equal(res?.status, 400);
    assert.equal(errorCode(res), 'EntityTooLarge');
  });

  test('a single PUT over 5 GiB is EntityTooLarge without sending the body', async () => {
    const res = await rawSigned('PUT', `/${bucket}/huge`, { 'Content-Length': 5 * GiB + 1, Expect: '100-continue' });
    assert.equal(res?.status, 400);
    assert.equal(errorCode(res), 'EntityTooLarge');
    await absent('huge');
  });

  test('--max-object-size bounds PUT, parts, chunked bodies of unknown length and completed uploads', async () => {
    const max = 6 * MiB;
    const put = await rawSigned('PUT', `/${bucket}/over-max`, { 'Content-Length': max + 1, Expect: '100-continue' });
    assert.equal(errorCode(put), 'EntityTooLarge');
    assert.equal(xmlValue(put!.body, 'MaxSizeAllowed'), String(max));
    // A body of unknown length is cut off once it passes the maximum.
    const chunk = patternBytes(MiB, 3);
    const framed = Buffer.concat([...Array.from({ length: 7 }, () => Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])), Buffer.from('0\r\n\r\n')]);
    const chunked = await rawSigned('PUT', `/${bucket}/over-max`, { 'Transfer-Encoding': 'chunked' }, framed);
    assert.equal(chunked?.status, 400);
    assert.equal(errorCode(chunked), 'EntityTooLarge');
    await absent('over-max');
    // Each part fits, the whole does not.
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'over-max' }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'over-max', UploadId, PartNumber: 1, Body: patternBytes(5 * MiB, 1) }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'over-max', UploadId, PartNumber: 2, Body: patternBytes(2 * MiB, 2) }));
    await rejectsWith(s3.send(new CompleteMultipartUploadCommand({
      Bucket: bucket, Key: 'over-max', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag! }, { PartNumber: 2, ETag: p2.ETag! }] },
    })), 'EntityTooLarge', 400);
    await absent('over-max');
    await s3.send(new CompleteMultipartUploadCommand({
      Bucket: bucket, Key: 'over-max', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag! }] },
    }));
    const head1 = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'over-max' }));
    assert.equal(head1.ContentLength, 5 * MiB);
  });
});

describe('Content-Length', () => {
  test('a PUT without Content-Length (and not chunked) is MissingContentLength 411', async () => {
    const res = await rawSigned('PUT', `/${bucket}/no-length`, {});
    assert.equal(res?.status, 411);
    assert.equal(errorCode(res), 'MissingContentLength');
    await absent('no-length');
  });

  test('a client that sends fewer bytes than it declared and goes away leaves no object and no file', async () => {
    const before = new Set(blobFiles());
    for (const [key, declared, sent] of [['short-inline', 20_000, 5_000], ['short-blob', 3 * MiB, MiB]] as const) {
      await rawSigned('PUT', `/${bucket}/${key}`, { 'Content-Length': declared }, patternBytes(sent, 7), { abort: true });
      await absent(key);
    }
    // The server notices the reset, discards what it wrote, and keeps serving.
    let extra: string[] = [];
    for (let i = 0; i < 100; i++) {
      extra = blobFiles().filter((f) => !before.has(f));
      if (extra.length === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(extra, []);
  });

  test('a body that ends early (the client half-closes) is IncompleteBody or a dropped connection, never an object', async () => {
    for (const [key, declared] of [['lying', 100], ['lying-blob', 2 * MiB]] as const) {
      const res = await rawSigned('PUT', `/${bucket}/${key}`, { 'Content-Length': declared }, patternBytes(40_000 > declared ? 40 : 40_000, 9), { halfClose: true });
      if (res) {
        assert.equal(res.status, 400, res.body);
        assert.equal(errorCode(res), 'IncompleteBody');
      }
      await absent(key);
    }
    await absent('lying');
  });
});

describe('XML bodies', () => {
  test('an XML body over 2 MiB is MalformedXML (400), for DeleteObjects and CreateBucket, and changes nothing', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kept-by-delete', Body: 'kept' }));
    const huge = (root: string, inner: string): Buffer => Buffer.from(`<${root}>${inner.repeat(Math.ceil((2 * MiB + 1) / inner.length))}</${root}>`);
    const deletes = huge('Delete', '<Object><Key>kept-by-delete</Key></Object>');
    const del = await rawSigned('POST', `/${bucket}`, { 'Content-Length': deletes.length, 'Content-MD5': md5Base64(deletes) }, deletes, { query: { delete: '' } });
    assert.equal(del?.status, 400);
    assert.equal(errorCode(del), 'MalformedXML');
    assert.ok((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kept-by-delete' }))).ETag);
    const config = huge('CreateBucketConfiguration', '<LocationConstraint>eu-west-1</LocationConstraint>');
    const created = await rawSigned('PUT', `/${bucket}-huge`, { 'Content-Length': config.length }, config);
    assert.equal(created?.status, 400);
    assert.equal(errorCode(created), 'MalformedXML');
    await rejectsWith(s3.send(new ListObjectsV2Command({ Bucket: `${bucket}-huge` })), 'NoSuchBucket', 404);
  });
});

describe('Content-MD5', () => {
  test('a malformed Content-MD5 is InvalidDigest; a wrong one is BadDigest; neither stores anything', async () => {
    const body = patternBytes(100_000, 5);
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5', Body: body, ContentMD5: 'not-base64!' })), 'InvalidDigest', 400);
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5', Body: body, ContentMD5: md5Base64('other') })), 'BadDigest', 400);
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5', Body: 'small', ContentMD5: md5Base64('other') })), 'BadDigest', 400);
    await absent('md5');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'md5-part' }));
    await rejectsWith(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'md5-part', UploadId, PartNumber: 1, Body: body, ContentMD5: md5Base64('x') })), 'BadDigest', 400);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5', Body: body, ContentMD5: md5Base64(body) }));
  });
});

describe('ranges and dates', () => {
  const body = Buffer.from('0123456789');

  before(async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ten', Body: body }));
  });

  async function get(headers: Record<string, string>): Promise<Response> {
    return signedFetch(server, { method: 'GET', path: `/${bucket}/ten`, headers });
  }

  test('malformed and multiple ranges are ignored (200, whole object); a range past the end is 416', async () => {
    for (const range of ['bytes=abc', 'bytes=5-2', 'bytes=0-1,3-4', 'items=0-1', 'bytes=--1', 'bytes=', 'bytes=99999999999999999999999-']) {
      const res = await get({ range });
      if (res.status === 416) {
        assert.equal(range, 'bytes=99999999999999999999999-', `${range} answered 416`);
        assert.equal(xmlValue(await res.text(), 'Code'), 'InvalidRange');
        continue;
      }
      assert.equal(res.status, 200, range);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), body, range);
    }
    const past = await get({ range: 'bytes=10-' });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get('content-range'), 'bytes */10');
    assert.equal(xmlValue(await past.text(), 'Code'), 'InvalidRange');
  });

  test('malformed dates in conditional headers are ignored', async () => {
    for (const name of ['if-modified-since', 'if-unmodified-since']) {
      for (const value of ['yesterday', 'Mon, 99 Foo 2020 99:99:99 GMT', '', '2020-13-45T25:61:61Z']) {
        const res = await get({ [name]: value });
        assert.equal(res.status, 200, `${name}: ${value}`);
        assert.deepEqual(Buffer.from(await res.arrayBuffer()), body);
      }
    }
  });

  test('a malformed x-amz-date is an authentication error (403 AccessDenied), never a 5xx', async () => {
    for (const date of ['20201301T000000Z', 'not-a-date', '2020-01-01T00:00:00Z', '']) {
      const signed = await signRequest(server, { method: 'GET', path: `/${bucket}/ten` });
      const res = await rawExchange(server.port, { head: head('GET', `/${bucket}/ten`, { ...signed, 'x-amz-date': date, Connection: 'close' }) });
      assert.ok(res, `answer for ${date}`);
      assert.equal(res.status, 403, `x-amz-date ${JSON.stringify(date)}: ${res.body}`);
      assert.match(errorCode(res) ?? '', /^(AccessDenied|SignatureDoesNotMatch)$/);
    }
  });
});
