/**
 * The library entry point as a user's test suite meets it: startCairn() in
 * memory or on a data folder, in this process or a child one, driven with the
 * AWS SDK v3, then stop().
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand,
  HeadBucketCommand, HeadObjectCommand, ListBucketsCommand, PutBucketLifecycleConfigurationCommand, PutObjectCommand,
  S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startCairn, type Cairn, type CairnCredentials } from '../../src/index.js';
import { bodyBytes, md5Hex, patternBytes, rejectsWith } from './s3-helpers.js';

const MiB = 1024 * 1024;
const clients: S3Client[] = [];
const folders: string[] = [];

after(() => {
  for (const c of clients) c.destroy();
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

function clientOf(cairn: Cairn, credentials: CairnCredentials = cairn.credentials): S3Client {
  const client = new S3Client({ endpoint: cairn.endpoint, region: cairn.region, credentials, forcePathStyle: true, maxAttempts: 1 });
  clients.push(client);
  return client;
}

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-library-'));
  folders.push(dir);
  return dir;
}

/** Whether anything still accepts connections on the port. */
async function answers(endpoint: string): Promise<boolean> {
  return fetch(endpoint).then(() => true, () => false);
}

test('in memory: buckets and keys from the options, SDK calls, and nothing left after stop()', async () => {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const cairn = await startCairn({ port: 0, buckets: ['uploads'], credentials });
  assert.match(cairn.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(cairn.port, 0);
  assert.equal(cairn.region, 'us-east-1');
  assert.deepEqual(cairn.credentials, credentials);
  assert.equal(cairn.data, undefined);
  assert.equal(cairn.pid, process.pid);
  const s3 = clientOf(cairn);
  const listed = await s3.send(new ListBucketsCommand({}));
  assert.deepEqual(listed.Buckets?.map((b) => b.Name), ['uploads']);
  const put = await s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'hello.txt', Body: 'hello', ContentType: 'text/plain' }));
  assert.equal(put.ETag, `"${md5Hex('hello')}"`);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'uploads', Key: 'hello.txt' }));
  assert.equal(got.ContentType, 'text/plain');
  assert.equal((await bodyBytes(got.Body)).toString(), 'hello');
  await rejectsWith(s3.send(new GetObjectCommand({ Bucket: 'uploads', Key: 'missing' })), 'NoSuchKey', 404);
  await rejectsWith(clientOf(cairn, { accessKeyId: 'test', secretAccessKey: 'wrong' }).send(new ListBucketsCommand({})), 'SignatureDoesNotMatch', 403);

  await cairn.stop();
  await cairn.stop();
  assert.equal(await answers(cairn.endpoint), false, 'the port is closed after stop()');
  // A new instance on the same port starts empty: memory mode keeps nothing.
  const again = await startCairn({ port: cairn.port, credentials });
  try {
    assert.equal(again.port, cairn.port);
    await rejectsWith(clientOf(again).send(new HeadBucketCommand({ Bucket: 'uploads' })), 'NotFound', 404);
  } finally {
    await again.stop();
  }
});

test('two instances side by side on free ports are separate stores', async () => {
  const [a, b] = await Promise.all([startCairn({ buckets: ['shared-name'] }), startCairn({ buckets: ['shared-name'] })]);
  try {
    assert.notEqual(a.port, b.port);
    assert.notDeepEqual(a.credentials, b.credentials, 'generated keys differ');
    await clientOf(a).send(new PutObjectCommand({ Bucket: 'shared-name', Key: 'only-in-a', Body: 'a' }));
    await rejectsWith(clientOf(b).send(new GetObjectCommand({ Bucket: 'shared-name', Key: 'only-in-a' })), 'NoSuchKey', 404);
    await rejectsWith(clientOf(b, a.credentials).send(new ListBucketsCommand({})), 'InvalidAccessKeyId', 403);
    await clientOf(b).send(new CreateBucketCommand({ Bucket: 'only-in-b' }));
    await rejectsWith(clientOf(a).send(new HeadBucketCommand({ Bucket: 'only-in-b' })), 'NotFound', 404);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('accounts from the options: each has its key and its buckets, private to it', async () => {
  const cairn = await startCairn({
    buckets: ['root-bucket'],
    accounts: [
      { name: 'alice', buckets: ['alice-bucket'], credentials: { accessKeyId: 'ALICEKEY', secretAccessKey: 'alice-secret' } },
      { name: 'bob', email: 'bob@example.com' },
    ],
  });
  try {
    assert.deepEqual(cairn.accounts.map((a) => [a.name, a.email]), [['alice', 'alice@cairn.local'], ['bob', 'bob@example.com']]);
    assert.equal(cairn.accounts[0]!.credentials.accessKeyId, 'ALICEKEY');
    const alice = clientOf(cairn, cairn.accounts[0]!.credentials);
    const bob = clientOf(cairn, cairn.accounts[1]!.credentials);
    assert.deepEqual((await alice.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name), ['alice-bucket']);
    assert.deepEqual((await bob.send(new ListBucketsCommand({}))).Buckets ?? [], []);
    await alice.send(new PutObjectCommand({ Bucket: 'alice-bucket', Key: 'k', Body: 'x' }));
    await rejectsWith(bob.send(new GetObjectCommand({ Bucket: 'alice-bucket', Key: 'k' })), 'AccessDenied', 403);
    await rejectsWith(bob.send(new CreateBucketCommand({ Bucket: 'root-bucket' })), 'BucketAlreadyExists', 409);
  } finally {
    await cairn.stop();
  }
});

test('bad options are refused with an error naming them', async () => {
  await assert.rejects(startCairn({ port: 70000 }), (err: Error) => err instanceof TypeError && /for port: expected a whole number/.test(err.message));
  await assert.rejects(startCairn({ buckets: ['Not_A_Bucket'] }), /bucket "Not_A_Bucket"/);
  await assert.rejects(startCairn({ lifecycleDaySeconds: -1 }), /lifecycleDaySeconds/);
  await assert.rejects(startCairn({ prot: 1 } as never), /unknown option prot/);
  await assert.rejects(startCairn({ accounts: [{ name: 'a', credentials: { accessKeyId: 'same', secretAccessKey: 's' } }], credentials: { accessKeyId: 'same', secretAccessKey: 's' } }),
    /access key same belongs to another account/);
});

test('memory mode holds object data up to memoryLimit: a larger object is EntityTooLarge, a write past the total InsufficientStorage', async () => {
  const cairn = await startCairn({ buckets: ['mem'], memoryLimit: 8 * MiB });
  try {
    const s3 = clientOf(cairn);
    const err = await rejectsWith(s3.send(new PutObjectCommand({ Bucket: 'mem', Key: 'huge', Body: patternBytes(8 * MiB + 1) })), 'EntityTooLarge', 400);
    assert.equal(err.MaxSizeAllowed, String(8 * MiB));
    await s3.send(new PutObjectCommand({ Bucket: 'mem', Key: 'first', Body: patternBytes(5 * MiB) }));
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: 'mem', Key: 'second', Body: patternBytes(5 * MiB, 2) })), 'InsufficientStorage', 507);
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: 'mem', Key: 'second' })), 'NotFound', 404);
    // Parts count too.
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mem', Key: 'multi' }));
    await s3.send(new UploadPartCommand({ Bucket: 'mem', Key: 'multi', UploadId, PartNumber: 1, Body: patternBytes(2 * MiB) }));
    await rejectsWith(s3.send(new UploadPartCommand({ Bucket: 'mem', Key: 'multi', UploadId, PartNumber: 2, Body: patternBytes(2 * MiB) })), 'InsufficientStorage', 507);
    const first = await s3.send(new GetObjectCommand({ Bucket: 'mem', Key: 'first' }));
    assert.ok((await bodyBytes(first.Body)).equals(patternBytes(5 * MiB)), 'what was stored is intact');
    // Deleting frees the memory again.
    await s3.send(new DeleteObjectCommand({ Bucket: 'mem', Key: 'first' }));
    const body = patternBytes(5 * MiB, 2);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const stored = await s3.send(new PutObjectCommand({ Bucket: 'mem', Key: 'second', Body: body })).then(() => true, (e: Error) => {
        if (e.name !== 'InsufficientStorage' || Date.now() > deadline) throw e;
        return false;
      });
      if (stored) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const parts = await s3.send(new CompleteMultipartUploadCommand({
      Bucket: 'mem', Key: 'multi', UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: `"${md5Hex(patternBytes(2 * MiB))}"` }] },
    }));
    assert.match(parts.ETag ?? '', /-1"$/);
  } finally {
    await cairn.stop();
  }
});

test('memory mode streams a 48 MiB object in and out intact, ranges across its pieces included', async () => {
  const cairn = await startCairn({ buckets: ['big'] });
  try {
    const s3 = clientOf(cairn);
    const body = patternBytes(48 * MiB, 7);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'big', Key: 'object', Body: body }));
    assert.equal(put.ETag, `"${md5Hex(body)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'big', Key: 'object' }));
    assert.equal(got.ContentLength, body.length);
    assert.equal(md5Hex(await bodyBytes(got.Body)), md5Hex(body));
    const from = MiB - 10;
    const to = 3 * MiB + 10;
    const ranged = await s3.send(new GetObjectCommand({ Bucket: 'big', Key: 'object', Range: `bytes=${from}-${to}` }));
    assert.equal(ranged.ContentRange, `bytes ${from}-${to}/${body.length}`);
    assert.ok((await bodyBytes(ranged.Body)).equals(body.subarray(from, to + 1)));
  } finally {
    await cairn.stop();
  }
});

test('lifecycleDaySeconds shortens the lifecycle day: a 1-day expiration rule acts within seconds', async () => {
  const cairn = await startCairn({ buckets: ['aging'], lifecycleDaySeconds: 0.5, lifecycleInterval: 0.1 });
  try {
    const s3 = clientOf(cairn);
    await s3.send(new PutObjectCommand({ Bucket: 'aging', Key: 'old', Body: 'x' }));
    await s3.send(new PutBucketLifecycleConfigurationCommand({
      Bucket: 'aging',
      LifecycleConfiguration: { Rules: [{ ID: 'expire', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } }] },
    }));
    const deadline = Date.now() + 15_000;
    let gone = false;
    while (!gone && Date.now() < deadline) {
      gone = await s3.send(new HeadObjectCommand({ Bucket: 'aging', Key: 'old' })).then(() => false, (e: Error) => e.name === 'NotFound');
      if (!gone) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(gone, 'the object expired');
  } finally {
    await cairn.stop();
  }
});

test('child process on a data folder: objects and keys survive a restart; logs only when asked', async () => {
  const data = folder();
  const credentials = { accessKeyId: 'CHILDKEY', secretAccessKey: 'child-secret' };
  const written: string[] = [];
  const write = process.stderr.write;
  const first = await startCairn({ mode: 'child', data, buckets: ['kept'], credentials });
  try {
    assert.notEqual(first.pid, process.pid);
    assert.equal(first.data, data);
    process.stderr.write = ((chunk: string | Uint8Array) => { written.push(String(chunk)); return true; }) as typeof process.stderr.write;
    await clientOf(first).send(new PutObjectCommand({ Bucket: 'kept', Key: 'k', Body: 'persisted' }));
  } finally {
    process.stderr.write = write;
    await first.stop();
  }
  assert.equal(written.join(''), '', 'quiet by default');
  assert.equal(await answers(first.endpoint), false);
  const second = await startCairn({ mode: 'child', data, credentials, logLevel: 'info' });
  try {
    process.stderr.write = ((chunk: string | Uint8Array) => { written.push(String(chunk)); return true; }) as typeof process.stderr.write;
    const got = await clientOf(second).send(new GetObjectCommand({ Bucket: 'kept', Key: 'k' }));
    assert.equal((await bodyBytes(got.Body)).toString(), 'persisted');
    const deadline = Date.now() + 5000;
    while (!written.join('').includes('"GetObject"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  } finally {
    process.stderr.write = write;
    await second.stop();
  }
  assert.match(written.join(''), /"GetObject"/, 'with logLevel info the access log reaches stderr');
});

test('in-process on a data folder, and a child in memory, speak the same S3', async () => {
  const data = folder();
  const local = await startCairn({ data, buckets: ['here'] });
  const child = await startCairn({ mode: 'child', buckets: ['there'] }).catch(async (err: unknown) => {
    await local.stop();
    throw err;
  });
  try {
    assert.equal(child.data, undefined);
    await clientOf(local).send(new PutObjectCommand({ Bucket: 'here', Key: 'k', Body: 'on disk' }));
    await clientOf(child).send(new PutObjectCommand({ Bucket: 'there', Key: 'k', Body: 'in memory' }));
    assert.equal((await bodyBytes((await clientOf(local).send(new GetObjectCommand({ Bucket: 'here', Key: 'k' }))).Body)).toString(), 'on disk');
    assert.equal((await bodyBytes((await clientOf(child).send(new GetObjectCommand({ Bucket: 'there', Key: 'k' }))).Body)).toString(), 'in memory');
  } finally {
    await Promise.all([local.stop(), child.stop()]);
  }
});
