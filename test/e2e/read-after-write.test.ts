/**
 * Strong read-after-write consistency across worker processes. Each worker
 * caches the object records it reads; a write committed by one worker must be
 * seen by the very next request to the other, as S3 promises. Every round warms
 * both workers' caches with the old state, changes the object through one
 * client, then reads it over many connections (dealt to both workers).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import {
  CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectAclCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ROOT_KEY, startServer, type RunningServer } from './harness.js';
import { pidByRequestId, waitFor, waitForWorkers } from './production-helpers.js';
import { md5Hex } from './s3-helpers.js';

const BUCKET = 'consistency';
const READERS = 16;
let server: RunningServer;
let writer: S3Client;
let reader: S3Client;

function client(maxSockets: number): S3Client {
  return new S3Client({
    endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: ROOT_KEY, maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets }) }),
  });
}

/**
 * READERS concurrent reads, GETs and HEADs in turn (each kind has its own cache):
 * what each saw (its ETag, or the error code) and its request id.
 */
async function readAll(key: string): Promise<{ seen: string; requestId: string }[]> {
  return Promise.all(Array.from({ length: READERS }, async (_, i) => {
    try {
      if (i % 2 === 1) {
        const out = await reader.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
        return { seen: out.ETag!, requestId: out.$metadata.requestId! };
      }
      const out = await reader.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      const body = Buffer.from(await out.Body!.transformToByteArray());
      assert.equal(out.ETag, `"${md5Hex(body)}"`, 'the body matches its ETag');
      return { seen: out.ETag!, requestId: out.$metadata.requestId! };
    } catch (err) {
      const e = err as { name: string; $metadata?: { requestId?: string } };
      // A HEAD's error has no body: the SDK names a 404 NotFound.
      return { seen: e.name === 'NotFound' ? 'NoSuchKey' : e.name, requestId: e.$metadata?.requestId ?? '' };
    }
  }));
}

/** An unsigned GET's status, as a browser or curl would see it. */
function anonymousStatus(key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.endpoint}/${BUCKET}/${key}`, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  server = await startServer({ args: ['--workers', '2', '--log-level', 'info'] });
  await waitForWorkers(server, 2);
  writer = client(1);
  reader = client(READERS);
  await writer.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

after(async () => {
  writer?.destroy();
  reader?.destroy();
  await server?.stop();
});

test('overwrites and deletes made through one worker are seen at once by both', async () => {
  const key = 'hot-key';
  const readIds: string[] = [];
  for (let round = 0; round < 20; round++) {
    // Every third body is too large to be inline: a blob replaces a body row and back.
    const body = `round ${round} `.repeat(round % 3 === 2 ? 4000 : round + 1);
    await writer.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    const expected = `"${md5Hex(Buffer.from(body))}"`;
    // Twice: the first reads fill both workers' caches, the second must still agree.
    for (let pass = 0; pass < 2; pass++) {
      const seen = await readAll(key);
      assert.deepEqual(seen.map((s) => s.seen), Array(READERS).fill(expected), `round ${round}, pass ${pass}`);
      readIds.push(...seen.map((s) => s.requestId));
    }
    if (round % 5 === 4) {
      await writer.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
      const gone = await readAll(key);
      assert.deepEqual(gone.map((s) => s.seen), Array(READERS).fill('NoSuchKey'), `round ${round} after the delete`);
      await assert.rejects(reader.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })), { name: 'NotFound' });
    }
  }
  // Both workers took part in the reads: each had the record cached when the other wrote.
  const pids = await waitFor('the access lines of the reads', () => {
    const byId = pidByRequestId(server);
    return readIds.every((id) => byId.has(id)) ? new Set(readIds.map((id) => byId.get(id))) : undefined;
  });
  assert.equal(pids.size, 2, 'reads were served by both workers');
});

test('an ACL change made through one worker applies at once on both', async () => {
  const key = 'acl-key';
  await writer.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'shared bytes' }));
  for (let round = 0; round < 6; round++) {
    const acl = round % 2 === 0 ? 'public-read' : 'private';
    await writer.send(new PutObjectAclCommand({ Bucket: BUCKET, Key: key, ACL: acl }));
    // Fresh connections are dealt to both workers in turn.
    const statuses = await Promise.all(Array.from({ length: 8 }, () => anonymousStatus(key)));
    assert.deepEqual(statuses, Array(8).fill(acl === 'public-read' ? 200 : 403), `round ${round} (${acl})`);
    // Signed reads warm the caches with the ACL just set.
    const seen = await readAll(key);
    assert.equal(new Set(seen.map((s) => s.seen)).size, 1);
  }
});
