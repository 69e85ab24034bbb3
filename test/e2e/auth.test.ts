/**
 * Authentication errors as the AWS SDK for JavaScript v3 (and a plain HTTP
 * client) meets them: unknown access key, wrong secret, no credentials at all,
 * and a clock too far from the server's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { ROOT_KEY, s3Client, startServer, type RunningServer } from './harness.js';
import { rejectsWith, uniqueBucket, xmlValue } from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;
const bucket = uniqueBucket('auth');

before(async () => {
  server = await startServer();
  s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'private', Body: 'secret bytes' }));
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

/** A client like the harness's, with other credentials or clock. */
function client(options: { credentials?: { accessKeyId: string; secretAccessKey: string }; systemClockOffset?: number }): S3Client {
  return new S3Client({
    endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: options.credentials ?? ROOT_KEY,
    // One attempt: on a skew error the SDK corrects its clock and retries, which would hide the error.
    maxAttempts: 1,
    ...(options.systemClockOffset !== undefined ? { systemClockOffset: options.systemClockOffset } : {}),
  });
}

describe('signed requests with bad credentials', () => {
  test('an unknown access key is 403 InvalidAccessKeyId', async () => {
    const stranger = client({ credentials: { accessKeyId: 'AKIDOESNOTEXIST00000', secretAccessKey: ROOT_KEY.secretAccessKey } });
    try {
      await rejectsWith(stranger.send(new ListBucketsCommand({})), 'InvalidAccessKeyId', 403);
      await rejectsWith(stranger.send(new GetObjectCommand({ Bucket: bucket, Key: 'private' })), 'InvalidAccessKeyId', 403);
    } finally {
      stranger.destroy();
    }
  });

  test('a wrong secret is 403 SignatureDoesNotMatch', async () => {
    const wrong = client({ credentials: { accessKeyId: ROOT_KEY.accessKeyId, secretAccessKey: 'not-the-right-secret-key-000000000000000' } });
    try {
      await rejectsWith(wrong.send(new ListBucketsCommand({})), 'SignatureDoesNotMatch', 403);
      await rejectsWith(wrong.send(new GetObjectCommand({ Bucket: bucket, Key: 'private' })), 'SignatureDoesNotMatch', 403);
      await rejectsWith(wrong.send(new PutObjectCommand({ Bucket: bucket, Key: 'private', Body: 'overwrite' })), 'SignatureDoesNotMatch', 403);
    } finally {
      wrong.destroy();
    }
    // Nothing was overwritten.
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'private' }));
    assert.equal(await got.Body?.transformToString(), 'secret bytes');
  });
});

describe('requests without any authentication', () => {
  const expectAccessDenied = async (response: Response): Promise<void> => {
    const body = await response.text();
    assert.equal(response.status, 403, body);
    assert.equal(xmlValue(body, 'Code'), 'AccessDenied', body);
  };

  test('ListBuckets is 403 AccessDenied', async () => {
    await expectAccessDenied(await fetch(`${server.endpoint}/`));
  });

  test('GET of an object in a private bucket is 403 AccessDenied', async () => {
    await expectAccessDenied(await fetch(`${server.endpoint}/${bucket}/private`));
  });

  test('listing a private bucket is 403 AccessDenied', async () => {
    await expectAccessDenied(await fetch(`${server.endpoint}/${bucket}?list-type=2`));
  });

  test('PUT is 403 AccessDenied and writes nothing', async () => {
    await expectAccessDenied(await fetch(`${server.endpoint}/${bucket}/anonymous-write`, { method: 'PUT', body: 'x' }));
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'anonymous-write' })), 'NoSuchKey', 404);
  });

  test('CreateBucket is 403 AccessDenied', async () => {
    const name = uniqueBucket('anon-create');
    await expectAccessDenied(await fetch(`${server.endpoint}/${name}`, { method: 'PUT' }));
    const list = await s3.send(new ListBucketsCommand({}));
    assert.ok(!(list.Buckets ?? []).some((b) => b.Name === name));
  });
});

describe('clock skew', () => {
  for (const minutes of [-20, 20]) {
    test(`a client clock ${minutes} minutes off is 403 RequestTimeTooSkewed`, async () => {
      const skewed = client({ systemClockOffset: minutes * 60_000 });
      try {
        const err = await rejectsWith(skewed.send(new ListBucketsCommand({})), 'RequestTimeTooSkewed', 403);
        assert.equal(err.$metadata.attempts, 1);
      } finally {
        skewed.destroy();
      }
    });
  }

  test('a client clock 5 minutes off is accepted (S3 allows 15)', async () => {
    const skewed = client({ systemClockOffset: -5 * 60_000 });
    try {
      const out = await skewed.send(new ListBucketsCommand({}));
      assert.equal(out.$metadata.httpStatusCode, 200);
    } finally {
      skewed.destroy();
    }
  });
});
