/**
 * SIGTERM drains: uploads in flight when the signal arrives complete and are
 * intact after a restart, new connections are refused meanwhile, and an upload
 * still running at --shutdown-timeout is cut off without leaving anything behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { bodyBytes, patternBytes, rejectsWith, walk } from './s3-helpers.js';

const MiB = 1024 * 1024;

/** A PUT to a presigned URL whose body the test feeds by hand. */
interface SlowUpload {
  send(bytes: Buffer): void;
  finish(): void;
  /** The response status, or the error that cut the request off. */
  readonly outcome: Promise<number | Error>;
}

function slowPut(url: string, length: number): SlowUpload {
  const req = request(url, { method: 'PUT', agent: false, headers: { 'Content-Length': length } });
  const outcome = new Promise<number | Error>((resolve) => {
    req.once('response', (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode!));
    });
    req.once('error', (err) => resolve(err));
  });
  return { send: (bytes) => req.write(bytes), finish: () => req.end(), outcome };
}

function exited(server: RunningServer): Promise<number> {
  const started = Date.now();
  return new Promise((resolve) => {
    if (server.child.exitCode !== null) resolve(0);
    else server.child.once('exit', () => resolve(Date.now() - started));
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(true));
  });
}

test('uploads in flight at SIGTERM complete and survive; new connections are refused meanwhile', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cairn-drain-'));
  try {
    let server = await startServer({ dataDir, args: ['--shutdown-timeout', '20'] });
    let s3 = s3Client(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'drain' }));
    const bodies = [0, 1, 2].map((i) => patternBytes(4 * MiB + i * 1000, i + 1));
    const uploads = await Promise.all(bodies.map(async (body, i) => {
      const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'drain', Key: `in-flight-${i}` }), { expiresIn: 300 });
      return slowPut(url, body.length);
    }));
    // Half of each body is on its way when the signal comes.
    for (const [i, upload] of uploads.entries()) upload.send(bodies[i]!.subarray(0, 2 * MiB));
    await sleep(300);
    const gone = exited(server);
    server.child.kill('SIGTERM');
    await sleep(300);
    assert.equal(await refused(server.port), true, 'no new connection is accepted while draining');
    for (const [i, upload] of uploads.entries()) {
      upload.send(bodies[i]!.subarray(2 * MiB));
      upload.finish();
    }
    for (const upload of uploads) assert.equal(await upload.outcome, 200);
    const drainMs = await gone;
    assert.ok(drainMs < 20_000, `exited ${drainMs} ms after SIGTERM`);
    assert.equal(server.child.exitCode, 0);
    s3.destroy();

    server = await startServer({ dataDir });
    s3 = s3Client(server);
    try {
      for (const [i, body] of bodies.entries()) {
        const got = await s3.send(new GetObjectCommand({ Bucket: 'drain', Key: `in-flight-${i}` }));
        assert.equal(got.ETag, `"${createHash('md5').update(body).digest('hex')}"`);
        assert.ok((await bodyBytes(got.Body)).equals(body), `in-flight-${i} is whole`);
      }
    } finally {
      s3.destroy();
      await server.stop({ keepData: true });
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('an upload still running at --shutdown-timeout is cut off and leaves no object and no file', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cairn-drain-'));
  try {
    let server = await startServer({ dataDir, args: ['--shutdown-timeout', '2', '--gc-grace', '0'] });
    let s3 = s3Client(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'cut' }));
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'cut', Key: 'stalled' }), { expiresIn: 300 });
    const upload = slowPut(url, 8 * MiB);
    upload.send(patternBytes(3 * MiB, 9));
    await sleep(300);
    const gone = exited(server);
    server.child.kill('SIGTERM');
    const outcome = await upload.outcome;
    assert.ok(outcome instanceof Error, `the stalled upload was cut off (got ${String(outcome)})`);
    const drainMs = await gone;
    assert.ok(drainMs >= 1500 && drainMs < 10_000, `exited ${drainMs} ms after SIGTERM, at the 2 s timeout`);
    s3.destroy();

    server = await startServer({ dataDir, args: ['--gc-grace', '0'] });
    s3 = s3Client(server);
    try {
      await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: 'cut', Key: 'stalled' })), 'NotFound', 404);
      const blobs = join(dataDir, 'blobs');
      assert.deepEqual(walk(blobs).filter((p) => statSync(join(blobs, p)).isFile()), [], 'no partial blob file is left');
    } finally {
      s3.destroy();
      await server.stop({ keepData: true });
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
