/**
 * The AWS SDK for JavaScript v2 with `signatureVersion: 'v2'` (path-style), the
 * bucket-level operations it signs with the bucket alone as its resource
 * (`/bucket`, where botocore signs `/bucket/`): CreateBucket, HeadBucket,
 * ListObjects, ListObjectsV2, GetBucketAcl, ListMultipartUploads, DeleteObjects
 * and DeleteBucket, against a real server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import S3 from 'aws-sdk/clients/s3.js';
import { ROOT_KEY, startServer, type RunningServer } from './harness.js';
import { uniqueBucket } from './s3-helpers.js';

// The SDK announces its end of support on stderr once loaded; that note is not this test's output.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1';

let server: RunningServer;
let s3: S3;
const bucket = uniqueBucket('sdkv2');

function v2Client(secretAccessKey = ROOT_KEY.secretAccessKey): S3 {
  return new S3({
    endpoint: server.endpoint, region: 'us-east-1', s3ForcePathStyle: true, signatureVersion: 'v2',
    accessKeyId: ROOT_KEY.accessKeyId, secretAccessKey, maxRetries: 0,
  });
}

/** The S3 error code and HTTP status a rejected SDK v2 request carries. */
async function failure(request: { promise(): Promise<unknown> }): Promise<{ code: string; statusCode: number | undefined }> {
  try {
    await request.promise();
  } catch (err) {
    const { code, statusCode } = err as { code: string; statusCode?: number };
    return { code, statusCode };
  }
  assert.fail('the request succeeded');
}

before(async () => {
  server = await startServer();
  s3 = v2Client();
});

after(async () => {
  await server?.stop();
});

describe('SDK for JavaScript v2, Signature Version 2, bucket-level operations', () => {
  test('CreateBucket, then HeadBucket finds it', async () => {
    await s3.createBucket({ Bucket: bucket }).promise();
    const head = await s3.headBucket({ Bucket: bucket }).promise();
    assert.equal(head.$response.httpResponse.statusCode, 200);
  });

  test('ListObjects and ListObjectsV2 list what was put', async () => {
    await s3.putObject({ Bucket: bucket, Key: 'dir/a.txt', Body: 'a' }).promise();
    await s3.putObject({ Bucket: bucket, Key: 'b.txt', Body: 'bb' }).promise();
    const v1 = await s3.listObjects({ Bucket: bucket }).promise();
    assert.deepEqual(v1.Contents?.map((o) => [o.Key, o.Size]), [['b.txt', 2], ['dir/a.txt', 1]]);
    const v2 = await s3.listObjectsV2({ Bucket: bucket, Delimiter: '/' }).promise();
    assert.deepEqual(v2.Contents?.map((o) => o.Key), ['b.txt']);
    assert.deepEqual(v2.CommonPrefixes?.map((p) => p.Prefix), ['dir/']);
    assert.equal(v2.KeyCount, 2);
  });

  test('GetBucketAcl shows the owner with FULL_CONTROL', async () => {
    const acl = await s3.getBucketAcl({ Bucket: bucket }).promise();
    assert.ok(acl.Owner?.ID, 'an owner id');
    assert.deepEqual(acl.Grants?.map((g) => [g.Grantee?.ID, g.Permission]), [[acl.Owner.ID, 'FULL_CONTROL']]);
  });

  test('ListMultipartUploads lists an upload in progress', async () => {
    const upload = await s3.createMultipartUpload({ Bucket: bucket, Key: 'big.bin' }).promise();
    assert.ok(upload.UploadId);
    const listed = await s3.listMultipartUploads({ Bucket: bucket }).promise();
    assert.deepEqual(listed.Uploads?.map((u) => [u.Key, u.UploadId]), [['big.bin', upload.UploadId]]);
    await s3.abortMultipartUpload({ Bucket: bucket, Key: 'big.bin', UploadId: upload.UploadId }).promise();
    assert.deepEqual((await s3.listMultipartUploads({ Bucket: bucket }).promise()).Uploads, []);
  });

  test('a wrong secret is still SignatureDoesNotMatch on a bucket-level request', async () => {
    const wrong = v2Client('not-the-secret-key-00000000000000000000000');
    assert.deepEqual(await failure(wrong.listObjects({ Bucket: bucket })), { code: 'SignatureDoesNotMatch', statusCode: 403 });
    assert.deepEqual(await failure(wrong.deleteBucket({ Bucket: bucket })), { code: 'SignatureDoesNotMatch', statusCode: 403 });
  });

  test('DeleteObjects empties the bucket, then DeleteBucket removes it', async () => {
    const deleted = await s3.deleteObjects({ Bucket: bucket, Delete: { Objects: [{ Key: 'dir/a.txt' }, { Key: 'b.txt' }] } }).promise();
    assert.deepEqual(deleted.Deleted?.map((d) => d.Key).sort(), ['b.txt', 'dir/a.txt']);
    assert.deepEqual(deleted.Errors, []);
    assert.equal((await s3.listObjectsV2({ Bucket: bucket }).promise()).KeyCount, 0);
    await s3.deleteBucket({ Bucket: bucket }).promise();
    assert.deepEqual(await failure(s3.headBucket({ Bucket: bucket })), { code: 'NotFound', statusCode: 404 });
  });
});
