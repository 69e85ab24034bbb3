// Cairn in a Vitest suite, as a user's project would use it: one in-memory server per suite,
// started before the tests and stopped after them; two suites' servers run side by side.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startCairn, type Cairn } from 'cairn';

function suiteWithCairn(bucket: string): { server: () => Cairn; client: () => S3Client } {
  let server: Cairn;
  let client: S3Client;
  beforeAll(async () => {
    server = await startCairn({ buckets: [bucket] });
    client = new S3Client({ endpoint: server.endpoint, region: server.region, credentials: server.credentials, forcePathStyle: true });
  });
  afterAll(async () => {
    client.destroy();
    await server.stop();
  });
  return { server: () => server, client: () => client };
}

describe('uploads', () => {
  const { server, client } = suiteWithCairn('uploads');
  const other = suiteWithCairn('archive');

  test('stores and returns an object', async () => {
    await client().send(new PutObjectCommand({ Bucket: 'uploads', Key: 'notes/today.txt', Body: 'written in Vitest' }));
    const object = await client().send(new GetObjectCommand({ Bucket: 'uploads', Key: 'notes/today.txt' }));
    expect(await object.Body?.transformToString()).toBe('written in Vitest');
    const listed = await client().send(new ListObjectsV2Command({ Bucket: 'uploads', Prefix: 'notes/' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['notes/today.txt']);
  });

  test('a second server runs beside it on another free port, with its own buckets', async () => {
    expect(other.server().port).not.toBe(server().port);
    await expect(other.client().send(new GetObjectCommand({ Bucket: 'uploads', Key: 'notes/today.txt' }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
  });
});
