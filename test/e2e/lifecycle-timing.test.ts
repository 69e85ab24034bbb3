/**
 * A shortened lifecycle day shortens the whole lifecycle machinery: with a 0.8 s
 * day and the default --lifecycle-interval (60 s), an object polled through the
 * AWS SDK for JavaScript v3 moves through each of its rule's steps within a
 * fraction of a day of when the step is due, in order, none skipped.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { putLifecycle } from './lifecycle-helpers.js';
import { newBucket } from './s3-helpers.js';

const DAY_MS = 800;
/** How late a step may take effect: S3 promises no more than a day; Cairn's worker looks 24 times a day. */
const LATE_MS = DAY_MS / 4;

let server: RunningServer;
let s3: S3Client;

before(async () => {
  // No --lifecycle-interval: its 60 s default must not hold back a short day.
  server = await startServer({ args: ['--lifecycle-day-seconds', String(DAY_MS / 1000)] });
  s3 = s3Client(server);
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

test('each transition and the expiration take effect within a quarter of a shortened day of being due', async () => {
  const bucket = await newBucket(s3, 'lc-timing');
  await putLifecycle(s3, bucket, [{
    ID: 'tiers', Status: 'Enabled', Filter: { Prefix: '' },
    Transitions: [{ Days: 2, StorageClass: 'GLACIER_IR' }, { Days: 4, StorageClass: 'GLACIER' }],
    Expiration: { Days: 6 },
  }]);
  // Listings show LastModified to the second, as S3 does: the PUT's round trip bounds the creation time better.
  const putSent = Date.now();
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tiered', Body: 'x' }));
  const putAnswered = Date.now();

  // What a client sees, polled every 20 ms: the storage class (or absence) and when it first showed.
  const seen: { state: string; at: number }[] = [];
  const deadline = Date.now() + 12 * DAY_MS;
  while (Date.now() < deadline) {
    const object = (await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.[0];
    const at = Date.now();
    const state = object?.StorageClass ?? 'gone';
    if (seen[seen.length - 1]?.state !== state) seen.push({ state, at });
    if (state === 'gone') break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.deepEqual(seen.map((s) => s.state), ['STANDARD', 'GLACIER_IR', 'GLACIER', 'gone'], JSON.stringify(seen));
  const dueDays = { GLACIER_IR: 2, GLACIER: 4, gone: 6 };
  for (const { state, at } of seen.slice(1)) {
    const dueMs = dueDays[state as keyof typeof dueDays] * DAY_MS;
    // The poll that saw the change answered at `at`; it may have started up to one poll earlier.
    const timeline = JSON.stringify(seen.map((x) => ({ ...x, at: x.at - putSent })));
    assert.ok(at >= putSent + dueMs, `${state} seen before it was due: ${timeline}`);
    assert.ok(at <= putAnswered + dueMs + LATE_MS, `${state} seen more than ${LATE_MS} ms after it was due: ${timeline}`);
  }
});
