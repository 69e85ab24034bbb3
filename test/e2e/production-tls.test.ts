/**
 * HTTPS: a throwaway CA and a server certificate for 127.0.0.1 made with the
 * openssl CLI; SDK v3 trusting that CA does a bucket/object round trip over
 * HTTPS on a port picked by the OS, a client that does not trust it is refused,
 * and after SIGHUP new connections get the new certificate.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ROOT_KEY, startServer, type RunningServer } from './harness.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpsUrl, logLines, makeCa, makeServerCert, waitFor } from './production-helpers.js';

let dir: string;
let server: RunningServer;
let endpoint: string;
let firstCa: { cert: string; key: string };
let secondCa: { cert: string; key: string };
let certFile: string;
let keyFile: string;

function clientTrusting(caFile: string): S3Client {
  const agent = new Agent({ ca: readFileSync(caFile), keepAlive: true });
  return new S3Client({
    endpoint, region: 'us-east-1', forcePathStyle: true, credentials: ROOT_KEY, maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpsAgent: agent }),
  });
}

/** The serial number of the certificate a fresh connection is served (or the TLS error). */
function servedSerial(caFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${endpoint}/`, { ca: readFileSync(caFile), agent: false }, (res) => {
      const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
      res.resume();
      res.on('end', () => resolve(serial));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-tls-'));
  firstCa = makeCa(dir, 'first');
  secondCa = makeCa(dir, 'second');
  const cert = makeServerCert(dir, firstCa, 'server1');
  certFile = join(dir, 'live.pem');
  keyFile = join(dir, 'live.key');
  copyFileSync(cert.cert, certFile);
  copyFileSync(cert.key, keyFile);
  server = await startServer({ args: ['--tls-cert', certFile, '--tls-key', keyFile, '--tls-port', '0', '--log-level', 'info'] });
  endpoint = httpsUrl(server);
});

after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('--tls-port 0 serves HTTPS on a port the OS picks, printed next to the HTTP endpoint', () => {
  assert.match(endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(new URL(endpoint).port, '0');
  assert.notEqual(new URL(endpoint).port, String(server.port));
});

test('SDK v3 trusting the test CA does a bucket and object round trip over HTTPS', async () => {
  const s3 = clientTrusting(firstCa.cert);
  await s3.send(new CreateBucketCommand({ Bucket: 'tls-bucket' }));
  const body = Buffer.from('over TLS '.repeat(1000));
  await s3.send(new PutObjectCommand({ Bucket: 'tls-bucket', Key: 'k', Body: body }));
  const got = await s3.send(new GetObjectCommand({ Bucket: 'tls-bucket', Key: 'k' }));
  assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);
  const list = await s3.send(new ListBucketsCommand({}));
  assert.ok(list.Buckets?.some((b) => b.Name === 'tls-bucket'));
  await s3.send(new DeleteObjectCommand({ Bucket: 'tls-bucket', Key: 'k' }));
  await s3.send(new DeleteBucketCommand({ Bucket: 'tls-bucket' }));
  s3.destroy();
});

test('a client that does not trust the CA is refused before any request is sent', async () => {
  const served = (): number => logLines(server).filter((l) => l.msg === 'request').length;
  await sleep(300); // pino writes asynchronously: let the previous test's lines land
  const before = served();
  const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: ROOT_KEY, maxAttempts: 1 });
  await assert.rejects(s3.send(new ListBucketsCommand({})), (err: NodeJS.ErrnoException) => {
    assert.match(String(err.code ?? err.message), /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/);
    return true;
  });
  s3.destroy();
  // Nothing reached the S3 layer: no access-log line for that attempt.
  await sleep(200);
  assert.equal(served(), before, 'no request was logged');
});

test('SIGHUP reloads the certificate: new connections get the new one, trusted by the new CA only', async () => {
  const before = await servedSerial(firstCa.cert);
  const replacement = makeServerCert(dir, secondCa, 'server2');
  copyFileSync(replacement.cert, certFile);
  copyFileSync(replacement.key, keyFile);
  server.child.kill('SIGHUP');
  const after = await waitFor('the new certificate', () => servedSerial(secondCa.cert).catch(() => undefined));
  assert.notEqual(after, before);
  await waitFor('the reload in the log', () => (server.logs().includes('TLS certificate reloaded') ? true : undefined));
  // The old CA no longer validates what new connections are served.
  await assert.rejects(servedSerial(firstCa.cert), /certificate|UNABLE|SELF_SIGNED/i);
  const s3 = clientTrusting(secondCa.cert);
  await s3.send(new CreateBucketCommand({ Bucket: 'after-reload' }));
  s3.destroy();
});

test('a broken certificate file on SIGHUP keeps the previous certificate and logs the failure', async () => {
  const current = await servedSerial(secondCa.cert);
  copyFileSync(join(dir, 'server2.csr'), certFile);
  server.child.kill('SIGHUP');
  await waitFor('the reload failure in the log', () => (server.logs().includes('TLS certificate reload failed') ? true : undefined));
  assert.equal(await servedSerial(secondCa.cert), current);
});
