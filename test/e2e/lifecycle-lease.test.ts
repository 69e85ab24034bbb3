/**
 * The lifecycle pass runs only in the process holding the 'lifecycle' lease: while
 * another holder (a second node sharing the metadata) has it, a due expiration
 * waits; once that holder lets go, the server takes the lease, the object expires,
 * and a clean stop gives the lease back. A node killed while holding it takes it
 * back at once when restarted, rather than waiting for the lease to run out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SqliteMetadata } from '../../src/store/sqlite/metadata.js';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { lifecycleCounts, putLifecycle } from './lifecycle-helpers.js';
import { newBucket, rejectsWith } from './s3-helpers.js';

const LEASE = 'lifecycle';
const OTHER_NODE = 'another-node';
const ARGS = ['--lifecycle-day-seconds', '0.2', '--lifecycle-interval', '0.1'];

async function waitForExpiration(server: RunningServer): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await lifecycleCounts(server)).expirations === 0) {
    assert.ok(Date.now() < deadline, 'the object expires');
    await sleep(100);
  }
}

test('a lifecycle pass waits while another process holds the lease, and runs once it is released', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cairn-lease-'));
  const otherNode = new SqliteMetadata(join(dataDir, 'metadata.sqlite'));
  assert.equal(await otherNode.acquireLease(LEASE, OTHER_NODE, 600_000), true);
  const server = await startServer({ dataDir, args: ARGS });
  const s3 = s3Client(server);
  try {
    const bucket = await newBucket(s3, 'lc-lease');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'due', Body: 'bytes' }));
    await putLifecycle(s3, bucket, [{ ID: 'expire', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }]);

    // Ten lifecycle days and twenty intervals pass: the rule is due, but this server holds no lease.
    await sleep(2000);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'due' }))).$metadata.httpStatusCode, 200);
    assert.equal((await lifecycleCounts(server)).expirations, 0);

    await otherNode.releaseLease(LEASE, OTHER_NODE);
    await waitForExpiration(server);
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'due' })), 'NotFound', 404);
    assert.equal(await otherNode.acquireLease(LEASE, OTHER_NODE, 600_000), false, 'the server holds the lease now');

    await server.stop({ keepData: true });
    assert.equal(await otherNode.acquireLease(LEASE, OTHER_NODE, 600_000), true, 'a stopped server gave the lease back');
  } finally {
    s3.destroy();
    await server.stop();
    await otherNode.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a node killed while holding the lease takes it back at once when it restarts', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cairn-lease-'));
  const first = await startServer({ dataDir, args: ARGS });
  let second: RunningServer | undefined;
  let s3 = s3Client(first);
  const otherNode = new SqliteMetadata(join(dataDir, 'metadata.sqlite'));
  try {
    const bucket = await newBucket(s3, 'lc-lease');
    await putLifecycle(s3, bucket, [{ ID: 'expire', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }]);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'first', Body: 'bytes' }));
    // An expiration proves a pass ran, so the first server holds the lease (asking earlier races its first pass).
    await waitForExpiration(first);
    assert.equal(await otherNode.acquireLease(LEASE, OTHER_NODE, 600_000), false, 'the first server holds the lease');
    s3.destroy();
    await first.kill();
    // Its lease runs for a minute more; the restarted node is its holder and goes on.
    second = await startServer({ dataDir, args: ARGS });
    s3 = s3Client(second);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'due', Body: 'bytes' }));
    await waitForExpiration(second);
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'due' })), 'NotFound', 404);
  } finally {
    // Whatever failed, no server outlives the test (a live child keeps the test file from ending).
    s3.destroy();
    await first.kill();
    await second?.stop();
    await otherNode.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
