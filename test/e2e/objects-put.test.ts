/**
 * PutObject through the AWS SDK for JavaScript v3: stored representation
 * headers, user metadata and its 2 KB limit, storage classes, Content-MD5,
 * flexible checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256), sizes around
 * the inline threshold, and the 1024-byte key limit.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsCommand, ListObjectsV2Command,
  PutObjectCommand, type ChecksumAlgorithm, type S3Client, type StorageClass,
} from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import {
  bodyBytes, checksumOf, md5Base64, md5Hex, patternBytes, rejectsWith, uniqueBucket, withHeaders, type ChecksumName,
} from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;
const bucket = uniqueBucket('put');

/** The inline threshold of the store: bodies up to this size live in the metadata row. */
const INLINE_MAX = 32 * 1024;

before(async () => {
  server = await startServer();
  s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

describe('representation headers', () => {
  test('Content-Type defaults to binary/octet-stream when the request has none', async () => {
    // The SDK itself always sends application/octet-stream, so take its header away.
    const put = withHeaders(new PutObjectCommand({ Bucket: bucket, Key: 'no-type', Body: 'abc' }), { 'content-type': null });
    await s3.send(put);
    const got = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'no-type' }));
    assert.equal(got.ContentType, 'binary/octet-stream');
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'no-type' }));
    assert.equal(get.ContentType, 'binary/octet-stream');
    assert.equal((await bodyBytes(get.Body)).toString(), 'abc');
  });

  test('Content-Type, -Encoding, -Disposition, -Language, Cache-Control and Expires are stored and returned', async () => {
    const expires = new Date('2030-01-02T03:04:05Z');
    await s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'headers', Body: 'body',
      ContentType: 'text/plain; charset=utf-8',
      ContentEncoding: 'gzip',
      ContentDisposition: 'attachment; filename="report.txt"',
      ContentLanguage: 'en-GB',
      CacheControl: 'max-age=3600, must-revalidate',
      Expires: expires,
    }));
    for (const out of [
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'headers' })),
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'headers' })),
    ]) {
      assert.equal(out.ContentType, 'text/plain; charset=utf-8');
      assert.equal(out.ContentEncoding, 'gzip');
      assert.equal(out.ContentDisposition, 'attachment; filename="report.txt"');
      assert.equal(out.ContentLanguage, 'en-GB');
      assert.equal(out.CacheControl, 'max-age=3600, must-revalidate');
      assert.equal(out.ExpiresString, 'Wed, 02 Jan 2030 03:04:05 GMT');
      assert.equal(out.Expires?.getTime(), expires.getTime());
    }
  });

  test('a streamed (aws-chunked) upload keeps its Content-Encoding without the aws-chunked framing', async () => {
    const data = patternBytes(INLINE_MAX + 4096, 7);
    // A stream body makes the SDK send aws-chunked with a trailing checksum: Content-Encoding "gzip,aws-chunked".
    await s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'streamed', Body: Readable.from([data]), ContentLength: data.length, ContentEncoding: 'gzip',
    }));
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'streamed' }));
    assert.equal(get.ContentEncoding, 'gzip');
    assert.equal(get.ContentLength, data.length);
    assert.deepEqual(await bodyBytes(get.Body), data);
  });
});

describe('Content-Encoding', () => {
  test('codings are kept as given, less the aws-chunked framing', async () => {
    const cases: [string, string | undefined][] = [
      ['gzip', 'gzip'], ['deflate, gzip', 'deflate, gzip'], ['gzip, aws-chunked', 'gzip'], ['aws-chunked, gzip', 'gzip'],
      ['aws-chunked', undefined], ['aws-chunked, aws-chunked', undefined],
    ];
    for (const [given, stored] of cases) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'encoding', Body: 'x', ContentEncoding: given }));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'encoding' }));
      assert.equal(head.ContentEncoding, stored, `Content-Encoding: ${given}`);
    }
  });
});

describe('user metadata', () => {
  test('x-amz-meta-* round-trips (names lower-cased, values kept)', async () => {
    await s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'meta', Body: 'x',
      Metadata: { color: 'blue', 'Mixed-Case-Name': 'Value With Spaces', digits: '12345' },
    }));
    const expected = { color: 'blue', 'mixed-case-name': 'Value With Spaces', digits: '12345' };
    assert.deepEqual((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta' }))).Metadata, expected);
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'meta' }));
    assert.deepEqual(get.Metadata, expected);
    await bodyBytes(get.Body);
  });

  test('metadata just under 2 KB is accepted', async () => {
    const metadata = { a: 'x'.repeat(900), b: 'y'.repeat(900) };
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta-ok', Body: 'x', Metadata: metadata }));
    assert.deepEqual((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta-ok' }))).Metadata, metadata);
  });

  test('metadata over 2 KB is MetadataTooLarge (400) and nothing is stored', async () => {
    await rejectsWith(s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'meta-big', Body: 'x', Metadata: { big: 'v'.repeat(2100) },
    })), 'MetadataTooLarge', 400);
    // The limit is on the sum of all names and values, not on each header.
    await rejectsWith(s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'meta-big', Body: 'x', Metadata: { one: 'v'.repeat(800), two: 'v'.repeat(800), three: 'v'.repeat(800) },
    })), 'MetadataTooLarge', 400);
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta-big' })), 'NotFound', 404);
  });
});

describe('storage class', () => {
  test('StorageClass is stored, reported by HEAD/GET (x-amz-storage-class) and by both listings', async () => {
    for (const storageClass of ['STANDARD_IA', 'REDUCED_REDUNDANCY', 'ONEZONE_IA', 'INTELLIGENT_TIERING'] as const) {
      const key = `sc/${storageClass}`;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x', StorageClass: storageClass }));
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).StorageClass, storageClass);
      const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(get.StorageClass, storageClass);
      await bodyBytes(get.Body);
    }
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sc/plain', Body: 'x' }));
    // S3 leaves x-amz-storage-class out for STANDARD objects.
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sc/plain' }))).StorageClass, undefined);

    const expected = {
      'sc/INTELLIGENT_TIERING': 'INTELLIGENT_TIERING', 'sc/ONEZONE_IA': 'ONEZONE_IA', 'sc/REDUCED_REDUNDANCY': 'REDUCED_REDUNDANCY',
      'sc/STANDARD_IA': 'STANDARD_IA', 'sc/plain': 'STANDARD',
    };
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'sc/' }));
    assert.deepEqual(Object.fromEntries((v2.Contents ?? []).map((o) => [o.Key, o.StorageClass])), expected);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: 'sc/' }));
    assert.deepEqual(Object.fromEntries((v1.Contents ?? []).map((o) => [o.Key, o.StorageClass])), expected);
  });

  test('an unknown storage class is InvalidStorageClass (400)', async () => {
    // The SDK does not validate enum values, so the header goes out as given.
    await rejectsWith(s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'sc/bogus', Body: 'x', StorageClass: 'SUPER_FAST' as StorageClass,
    })), 'InvalidStorageClass', 400);
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sc/bogus' })), 'NotFound', 404);
  });
});

describe('Content-MD5', () => {
  test('a matching Content-MD5 is accepted', async () => {
    const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5-ok', Body: 'payload', ContentMD5: md5Base64('payload') }));
    assert.equal(out.ETag, `"${md5Hex('payload')}"`);
  });

  test('a well-formed but wrong Content-MD5 is BadDigest (400) and nothing is stored', async () => {
    await rejectsWith(s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'md5-bad', Body: 'payload', ContentMD5: md5Base64('something else'),
    })), 'BadDigest', 400);
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'md5-bad' })), 'NotFound', 404);
  });

  test('a wrong Content-MD5 on a body above the inline threshold is BadDigest too', async () => {
    const data = patternBytes(INLINE_MAX * 2, 3);
    await rejectsWith(s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'md5-bad-big', Body: data, ContentMD5: md5Base64('other'),
    })), 'BadDigest', 400);
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'md5-bad-big' })), 'NotFound', 404);
  });

  test('a malformed Content-MD5 is InvalidDigest (400)', async () => {
    for (const value of ['not base64 at all!', Buffer.alloc(15, 1).toString('base64'), md5Hex('payload')]) {
      await rejectsWith(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5-malformed', Body: 'payload', ContentMD5: value })), 'InvalidDigest', 400)
        .catch((err: unknown) => { throw new Error(`Content-MD5 ${JSON.stringify(value)}: ${String(err)}`); });
    }
  });
});

describe('flexible checksums', () => {
  const algorithms: readonly ChecksumName[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];
  const member = (a: ChecksumName): `Checksum${ChecksumName}` => `Checksum${a}`;

  for (const algorithm of algorithms) {
    test(`ChecksumAlgorithm ${algorithm} is stored and returned by PutObject, HeadObject and GetObject`, async () => {
      for (const [label, data] of [['small', Buffer.from('hello, checksums')], ['large', patternBytes(INLINE_MAX + 123, 11)]] as const) {
        const key = `checksum/${algorithm}/${label}`;
        const expected = checksumOf(algorithm, data);
        const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ChecksumAlgorithm: algorithm as ChecksumAlgorithm }));
        assert.equal(put[member(algorithm)], expected, `PutObject ${label}`);
        assert.equal(put.ChecksumType, 'FULL_OBJECT');
        const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
        assert.equal(h[member(algorithm)], expected, `HeadObject ${label}`);
        assert.equal(h.ChecksumType, 'FULL_OBJECT');
        for (const other of algorithms) if (other !== algorithm) assert.equal(h[member(other)], undefined, `no ${other} on HEAD`);
        const g = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
        assert.equal(g[member(algorithm)], expected, `GetObject ${label}`);
        assert.deepEqual(await bodyBytes(g.Body), data);
      }
    });
  }

  test('a streamed upload with a trailing checksum stores that checksum', async () => {
    const data = patternBytes(100_000, 5);
    await s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'checksum/trailer', Body: Readable.from([data.subarray(0, 50_000), data.subarray(50_000)]),
      ContentLength: data.length, ChecksumAlgorithm: 'SHA256',
    }));
    const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'checksum/trailer', ChecksumMode: 'ENABLED' }));
    assert.equal(h.ChecksumSHA256, checksumOf('SHA256', data));
  });

  test('a wrong x-amz-checksum-crc32 is BadDigest (400) and nothing is stored', async () => {
    const wrong = checksumOf('CRC32', Buffer.from('different bytes'));
    await rejectsWith(s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'checksum/wrong', Body: 'the real bytes', ChecksumCRC32: wrong,
    })), 'BadDigest', 400);
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'checksum/wrong' })), 'NotFound', 404);
    // The same above the inline threshold, where the body goes to a file first.
    await rejectsWith(s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'checksum/wrong', Body: patternBytes(INLINE_MAX * 3, 2), ChecksumCRC32: wrong,
    })), 'BadDigest', 400);
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'checksum/wrong' })), 'NotFound', 404);
  });

  test('a wrong x-amz-checksum-sha256 is BadDigest (400)', async () => {
    await rejectsWith(s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'checksum/wrong-sha', Body: 'the real bytes', ChecksumSHA256: checksumOf('SHA256', Buffer.from('nope')),
    })), 'BadDigest', 400);
  });

  test('a checksum value of the wrong shape is InvalidRequest (400)', async () => {
    await rejectsWith(s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'checksum/malformed', Body: 'x', ChecksumCRC32: 'not-a-crc',
    })), 'InvalidRequest', 400);
  });
});

describe('sizes', () => {
  const sizes: ReadonlyArray<readonly [string, number]> = [
    ['empty', 0], ['one byte', 1], ['1 KiB', 1024], ['exactly the inline threshold', INLINE_MAX],
    ['one byte above the threshold', INLINE_MAX + 1], ['40 KiB', 40 * 1024], ['3 MiB', 3 * 1024 * 1024],
  ];
  for (const [label, size] of sizes) {
    test(`${label} (${size} bytes) round-trips with its ETag and length`, async () => {
      const data = patternBytes(size, size + 1);
      const key = `size/${size}`;
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));
      assert.equal(put.ETag, `"${md5Hex(data)}"`);
      const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(h.ContentLength, size);
      assert.equal(h.ETag, `"${md5Hex(data)}"`);
      const g = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(g.ContentLength, size);
      assert.equal(g.ETag, `"${md5Hex(data)}"`);
      assert.deepEqual(await bodyBytes(g.Body), data);
    });
  }

  test('overwriting a large object with a small one (and back) serves the latest bytes', async () => {
    const large = patternBytes(INLINE_MAX * 2, 21);
    const small = Buffer.from('small now');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'size/overwrite', Body: large }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'size/overwrite', Body: small }));
    assert.deepEqual(await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'size/overwrite' }))).Body), small);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'size/overwrite', Body: large }));
    assert.deepEqual(await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'size/overwrite' }))).Body), large);
  });
});

describe('key length', () => {
  test('keys of exactly 1024 UTF-8 bytes are accepted and round-trip', async () => {
    for (const key of ['k'.repeat(1024), '\u00e9'.repeat(512), `dir/${'\u{1F600}'.repeat(255)}`]) {
      assert.equal(Buffer.byteLength(key), 1024);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key.slice(0, 10) }));
      const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal((await bodyBytes(get.Body)).toString(), key.slice(0, 10));
      const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
      assert.deepEqual(list.Contents?.map((o) => o.Key), [key]);
    }
  });

  test('keys of 1025 UTF-8 bytes are KeyTooLongError (400)', async () => {
    for (const key of ['k'.repeat(1025), `a${'\u00e9'.repeat(512)}`]) {
      assert.equal(Buffer.byteLength(key), 1025);
      await rejectsWith(s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' })), 'KeyTooLongError', 400);
    }
  });
});
