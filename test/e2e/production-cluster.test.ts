/**
 * `--workers 2`: requests are spread over both worker processes (the access
 * log's pid, matched to the x-amz-request-id each response carries), /metrics
 * on the primary adds both workers up, and a SIGKILLed worker is replaced while
 * another client keeps a stream of concurrent requests going.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ROOT_KEY, startServer, type RunningServer } from './harness.js';
import { adminUrl, fetchText, pidByRequestId, sample, waitFor, waitForWorkers } from './production-helpers.js';

const BUCKET = 'spread';
let server: RunningServer;

function client(options: { keepAlive: boolean; maxSockets: number; maxAttempts: number }): S3Client {
  return new S3Client({
    endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: ROOT_KEY, maxAttempts: options.maxAttempts,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: options.keepAlive, maxSockets: options.maxSockets }) }),
  });
}


function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  server = await startServer({ args: ['--workers', '2', '--log-level', 'info'] });
  // The endpoint is announced when the first worker listens; the test is about both.
  await waitForWorkers(server, 2);
  const s3 = client({ keepAlive: false, maxSockets: 4, maxAttempts: 1 });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  s3.destroy();
});

after(async () => {
  await server?.stop();
});

let workers: number[] = [];

test('requests are served by both workers, never by the primary', async () => {
  // New connections are dealt round-robin to the workers.
  const s3 = client({ keepAlive: false, maxSockets: 8, maxAttempts: 1 });
  const ids = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
    const out = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `k${i}`, Body: `body ${i}` }));
    return out.$metadata.requestId!;
  }));
  s3.destroy();
  const byId = await waitFor('the 40 access-log lines', () => {
    const map = pidByRequestId(server);
    return ids.every((id) => map.has(id)) ? map : undefined;
  });
  const pids = new Set(ids.map((id) => byId.get(id)!));
  assert.equal(pids.size, 2, `requests served by ${[...pids].join(', ')}`);
  assert.ok(!pids.has(server.child.pid!), 'the primary serves no request');
  workers = [...pids];
});

test('/metrics on the admin port adds up the requests of both workers', async () => {
  const metrics = await fetchText(`${adminUrl(server)}/metrics`);
  assert.equal(metrics.status, 200);
  // 40 PUTs, spread over two processes, counted once each.
  assert.equal(sample(metrics.body, 'cairn_requests_total', { operation: 'PutObject', status: '200' }), 40);
  assert.equal(sample(metrics.body, 'cairn_request_duration_seconds_count', { operation: 'PutObject' }), 40);
  // Storage totals come from the shared store: reported once, not once per worker.
  assert.equal(sample(metrics.body, 'cairn_bucket_objects', { bucket: BUCKET }), 40);
});

test('a SIGKILLed worker is replaced while another client keeps its requests succeeding', async (t) => {
  assert.equal(workers.length, 2);
  const [victim] = workers as [number, number];
  const stream = client({ keepAlive: true, maxSockets: 4, maxAttempts: 3 });
  let stop = false;
  let done = 0;
  let retried = 0;
  const failures: unknown[] = [];
  const loop = async (n: number): Promise<void> => {
    for (let i = 0; !stop && i < 10_000; i++) {
      try {
        const key = `stream-${n}-${i}`;
        const put = await stream.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
        const got = await stream.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
        assert.equal(await got.Body!.transformToString(), key);
        retried += (put.$metadata.attempts ?? 1) - 1 + (got.$metadata.attempts ?? 1) - 1;
        done++;
      } catch (err) {
        failures.push(err);
      }
    }
  };
  const loops = Array.from({ length: 4 }, (_, n) => loop(n));
  await waitFor('the stream to get going', () => (done >= 20 ? true : undefined));
  process.kill(victim, 'SIGKILL');
  await waitFor('the worker to die', () => (alive(victim) ? undefined : true));
  await waitFor('the primary to notice', () => (server.logs().includes('worker died; starting another') ? true : undefined));
  const atKill = done;
  await waitFor('the stream to go on after the kill', () => (done >= atKill + 40 ? true : undefined));
  stop = true;
  await Promise.all(loops);
  stream.destroy();
  t.diagnostic(`${done} PUT+GET pairs, ${atKill} before the kill; ${retried} SDK retries`);
  assert.deepEqual(failures.map(String), [], 'no request of the stream failed');
  // Only requests that were on the killed worker's connections may have needed the SDK's retry.
  assert.ok(retried <= 4, `${retried} retries, more than the 4 connections the stream had`);

  // New connections reach the replacement as well as the survivor, once it listens (it was forked
  // when the primary noticed, and opens the store before it takes connections).
  const pids = await waitForWorkers(server, 2);
  assert.ok(!pids.has(victim));
  const replacement = [...pids].find((p) => !workers.includes(p));
  assert.ok(replacement !== undefined, 'a new worker serves requests');
  assert.equal((await fetchText(`${adminUrl(server)}/health/ready`)).status, 200);

  // SIGTERM to the primary takes its workers down too.
  const live = [...pids];
  await server.stop();
  for (const pid of live) assert.ok(!alive(pid), `worker ${pid} exited with the primary`);
});
