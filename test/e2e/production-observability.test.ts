/**
 * What an operator's monitoring sees: /metrics after known traffic, the health
 * endpoints on the admin port (no auth), and access logs that carry request ids
 * but never secrets, signatures or query strings.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ROOT_KEY, s3Client, startServer, type RunningServer } from './harness.js';
import { adminUrl, fetchText, logLines, sample, waitFor } from './production-helpers.js';
import { bodyBytes, patternBytes, rejectsWith } from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;

before(async () => {
  server = await startServer({ args: ['--log-level', 'trace'] });
  s3 = s3Client(server);
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

test('/metrics counts requests by operation and status, latency, bytes and what each bucket stores', async () => {
  const sizes = [1000, 50_000, 200_000];
  await s3.send(new CreateBucketCommand({ Bucket: 'metered' }));
  for (const [i, size] of sizes.entries()) await s3.send(new PutObjectCommand({ Bucket: 'metered', Key: `k${i}`, Body: patternBytes(size, i) }));
  for (const i of [1, 2]) assert.equal((await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: 'metered', Key: `k${i}` }))).Body)).length, sizes[i]);
  await rejectsWith(s3.send(new GetObjectCommand({ Bucket: 'metered', Key: 'missing' })), 'NoSuchKey', 404);

  const { status, body: metrics, headers } = await fetchText(`${adminUrl(server)}/metrics`);
  assert.equal(status, 200);
  assert.match(String(headers['content-type']), /^text\/plain/);
  assert.equal(sample(metrics, 'cairn_requests_total', { operation: 'PutObject', status: '200' }), 3);
  assert.equal(sample(metrics, 'cairn_requests_total', { operation: 'GetObject', status: '200' }), 2);
  assert.equal(sample(metrics, 'cairn_requests_total', { operation: 'GetObject', status: '404' }), 1);
  assert.equal(sample(metrics, 'cairn_requests_total', { operation: 'CreateBucket', status: '200' }), 1);
  assert.equal(sample(metrics, 'cairn_request_duration_seconds_count', { operation: 'PutObject' }), 3);
  assert.equal(sample(metrics, 'cairn_request_duration_seconds_bucket', { le: '+Inf', operation: 'GetObject' }), 3);
  assert.ok(sample(metrics, 'cairn_request_duration_seconds_sum', { operation: 'GetObject' })! > 0);
  assert.ok(sample(metrics, 'cairn_received_bytes_total')! >= sizes[0]! + sizes[1]! + sizes[2]!);
  assert.ok(sample(metrics, 'cairn_sent_bytes_total')! >= sizes[1]! + sizes[2]!);
  assert.equal(sample(metrics, 'cairn_bucket_objects', { bucket: 'metered' }), 3);
  assert.equal(sample(metrics, 'cairn_bucket_bytes', { bucket: 'metered' }), sizes[0]! + sizes[1]! + sizes[2]!);
  for (const name of ['cairn_lifecycle_expirations_total', 'cairn_lifecycle_aborted_uploads_total', 'cairn_lifecycle_archived_total']) {
    assert.equal(sample(metrics, name), 0, `${name} is exported`);
  }
  assert.match(metrics, /^# TYPE cairn_restores_total counter$/m);
  assert.match(metrics, /^# TYPE cairn_lifecycle_transitions_total counter$/m);
});

test('health endpoints answer without auth on the admin port, and are not part of the S3 namespace', async () => {
  const live = await fetchText(`${adminUrl(server)}/health/live`);
  assert.equal(live.status, 200);
  const ready = await fetchText(`${adminUrl(server)}/health/ready`);
  assert.equal(ready.status, 200);
  // On the S3 port the same path is an anonymous request for bucket "health".
  const s3Side = await fetchText(`${server.endpoint}/health/live`);
  assert.ok(s3Side.status === 403 || s3Side.status === 404, `S3 port answered ${s3Side.status}`);
  assert.match(s3Side.body, /<Error><Code>(AccessDenied|NoSuchBucket)<\/Code>/);
  assert.equal((await fetchText(`${adminUrl(server)}/nothing-here`)).status, 404);
});

test('/health/ready answers 503 while the blob folder is gone (a lost mount) and 200 once it is back', async () => {
  const blobs = join(server.dataDir, 'blobs');
  renameSync(blobs, `${blobs}.away`);
  try {
    const lost = await fetchText(`${adminUrl(server)}/health/ready`);
    assert.equal(lost.status, 503);
    assert.match(lost.body, /^not ready: .*ENOENT/);
    assert.equal((await fetchText(`${adminUrl(server)}/health/live`)).status, 200, 'the process itself is alive');
  } finally {
    renameSync(`${blobs}.away`, blobs);
  }
  assert.equal((await fetchText(`${adminUrl(server)}/health/ready`)).status, 200);
});

test('log lines carry the request id, one access line per request, and never a secret, signature or query string', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'logged' }));
  const put = await s3.send(new PutObjectCommand({ Bucket: 'logged', Key: 'doc', Body: 'hello', Metadata: { note: 'x' } }));
  const requestId = put.$metadata.requestId!;
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'logged', Key: 'doc' }), { expiresIn: 300 });
  const presigned = await fetch(url);
  assert.equal(presigned.status, 200);
  const signature = new URL(url).searchParams.get('X-Amz-Signature')!;
  const presignedId = presigned.headers.get('x-amz-request-id')!;

  // The access line is written when the response closes, which may trail the client by a moment.
  const presignedAccess = await waitFor('the presigned GET\'s access line', () => logLines(server).find((l) => l.requestId === presignedId && l.msg === 'request'));
  assert.equal(presignedAccess.path, '/logged/doc', 'the access line keeps no query string');
  const ofPut = logLines(server).filter((l) => l.requestId === requestId);
  assert.equal(ofPut.filter((l) => l.msg === 'request').length, 1, 'one access line for the PUT');
  const access = ofPut.find((l) => l.msg === 'request')!;
  assert.equal(access.operation, 'PutObject');
  assert.equal(access.status, 200);
  assert.equal(access.path, '/logged/doc');

  const everything = server.logs() + server.output();
  for (const secret of [ROOT_KEY.secretAccessKey, signature, 'X-Amz-Signature', 'X-Amz-Credential', 'Signature=']) {
    assert.equal(everything.includes(secret), false, `logs never contain ${secret}`);
  }
});
