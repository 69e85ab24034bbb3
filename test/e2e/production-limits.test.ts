/**
 * Connection limits: a client that trickles its headers (slow loris) is cut off
 * while others are served, an upload that stops moving is cut off after
 * --idle-timeout, idle keep-alive connections are closed, and an oversized
 * header block gets an answer instead of a hung worker.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, HeadObjectCommand, ListBucketsCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { rawSigned } from './raw-http.js';
import { rejectsWith } from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;

before(async () => {
  server = await startServer({ args: ['--headers-timeout', '2', '--keep-alive-timeout', '1', '--idle-timeout', '2'] });
  s3 = s3Client(server);
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with what the server sent and how long the socket lived once it closes; rejects after `ms`. */
function closed(socket: Socket, ms: number): Promise<{ received: string; afterMs: number }> {
  const started = Date.now();
  let received = '';
  socket.on('data', (d: Buffer) => { received += d.toString('latin1'); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ received, afterMs: Date.now() - started });
    });
  });
}

test('a slow-loris client is cut off after --headers-timeout while other clients are served', async () => {
  const loris = await open();
  loris.on('error', () => undefined);
  const gone = closed(loris, 15_000);
  const header = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(200);
  let sent = 0;
  const trickle = setInterval(() => {
    if (sent < header.length && !loris.destroyed) loris.write(header[sent++]!);
  }, 50);
  // Meanwhile the server keeps answering others.
  let served = 0;
  const others = (async () => {
    for (let i = 0; i < 10; i++) {
      await s3.send(new ListBucketsCommand({}));
      served++;
      await sleep(100);
    }
  })();
  try {
    const { received, afterMs } = await gone;
    assert.ok(afterMs >= 1500, `cut off after ${afterMs} ms, not before the 2 s allowance`);
    assert.ok(sent < header.length, 'cut off before it finished its headers');
    // Node answers a header timeout with 408 (or just closes); never a 200.
    assert.doesNotMatch(received, /^HTTP\/1\.1 200/);
  } finally {
    clearInterval(trickle);
  }
  await others;
  assert.equal(served, 10);
});

test('an upload that stops sending is cut off after --idle-timeout, stores nothing, and others are served meanwhile', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'stalled' }));
  const started = Date.now();
  // Declares 1 MiB, sends 1000 bytes, then neither sends nor closes.
  const stalled = rawSigned(server, 'PUT', '/stalled/upload', { 'Content-Length': 1024 * 1024 }, Buffer.alloc(1000, 1), { timeoutMs: 20_000 });
  let served = 0;
  for (let i = 0; i < 5; i++) {
    await s3.send(new ListBucketsCommand({}));
    served++;
    await sleep(200);
  }
  await stalled;
  const afterMs = Date.now() - started;
  assert.equal(served, 5);
  assert.ok(afterMs >= 1500 && afterMs < 15_000, `cut off after ${afterMs} ms with a 2 s allowance`);
  await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: 'stalled', Key: 'upload' })), 'NotFound', 404);
});

test('an idle keep-alive connection is closed after --keep-alive-timeout', async () => {
  const socket = await open();
  const gone = closed(socket, 10_000);
  socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  const { received, afterMs } = await gone;
  assert.match(received, /^HTTP\/1\.1 \d{3} /, 'the request was answered first');
  assert.match(received, /Keep-Alive: timeout=1/);
  assert.ok(afterMs < 8_000, `closed after ${afterMs} ms`);
});

test('a header block over 16 KiB is answered with S3\'s error and the connection closed', async () => {
  const socket = await open();
  const gone = closed(socket, 10_000);
  socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'b'.repeat(20 * 1024)}\r\n\r\n`);
  const { received } = await gone;
  assert.match(received, /^HTTP\/1\.1 (400|431) /);
  assert.match(received, /<Code>RequestHeaderSectionTooLarge<\/Code>/);
  // And the server is still there.
  assert.ok((await s3.send(new ListBucketsCommand({}))).Buckets);
});
