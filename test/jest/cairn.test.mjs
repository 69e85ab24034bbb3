// Cairn in a Jest suite (ES modules: Jest runs with --experimental-vm-modules), as a user's
// project would use it: in-memory servers started before the tests and stopped after them.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { GetObjectCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startCairn } from 'cairn';

let first;
let second;
const clients = [];

function clientOf(server) {
  const client = new S3Client({ endpoint: server.endpoint, region: server.region, credentials: server.credentials, forcePathStyle: true });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  [first, second] = await Promise.all([startCairn({ buckets: ['reports'] }), startCairn({ buckets: ['reports'] })]);
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await Promise.all([first.stop(), second.stop()]);
});

test('stores and returns an object', async () => {
  const s3 = clientOf(first);
  await s3.send(new PutObjectCommand({ Bucket: 'reports', Key: '2026/q4.csv', Body: 'quarter,total\nq4,42\n', ContentType: 'text/csv' }));
  const object = await s3.send(new GetObjectCommand({ Bucket: 'reports', Key: '2026/q4.csv' }));
  expect(object.ContentType).toBe('text/csv');
  expect(await object.Body.transformToString()).toBe('quarter,total\nq4,42\n');
});

test('two servers side by side on free ports keep their own objects', async () => {
  expect(second.port).not.toBe(first.port);
  await clientOf(second).send(new HeadBucketCommand({ Bucket: 'reports' }));
  await expect(clientOf(second).send(new GetObjectCommand({ Bucket: 'reports', Key: '2026/q4.csv' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
});
