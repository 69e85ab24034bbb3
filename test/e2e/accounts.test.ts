/**
 * Accounts and keys managed with `cairn admin` while a server runs on the same
 * data folder, the isolation between accounts, and the root credentials the
 * server generates on first start.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CopyObjectCommand, CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, DeleteObjectsCommand,
  GetBucketLocationCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListBucketsCommand,
  ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException,
} from '@aws-sdk/client-s3';
import { ROOT_KEY, runCairn, s3Client, startServer, type RunningServer } from './harness.js';

interface Key { accessKeyId: string; secretAccessKey: string }

const ALICE = { id: 'a'.repeat(64), name: 'Alice', email: 'alice@example.com' };
const BOB = { id: 'b'.repeat(64), name: 'Bob', email: 'bob@example.com' };
const ALICE_KEY: Key = { accessKeyId: 'ALICEKEY000000000001', secretAccessKey: 'alice-secret-0000000000000000000000000000' };

/** Runs `cairn admin …` on a data folder and insists it succeeds. */
async function admin(dataDir: string, ...args: string[]): Promise<string> {
  const r = await runCairn(['admin', ...args, '--data', dataDir]);
  assert.equal(r.code, 0, `cairn admin ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** The keys `cairn admin` printed. */
function printedKey(stdout: string): Key {
  const accessKeyId = /^access key: (\S+)$/m.exec(stdout)?.[1];
  const secretAccessKey = /^secret key: (\S+)$/m.exec(stdout)?.[1];
  assert.ok(accessKeyId && secretAccessKey, `no keys in ${JSON.stringify(stdout)}`);
  return { accessKeyId, secretAccessKey };
}

/** Asserts that a request fails with this S3 error code and HTTP status. */
async function rejects(p: Promise<unknown>, code: string, status: number): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof S3ServiceException, `not an S3 error: ${String(err)}`);
    assert.equal(err.$metadata.httpStatusCode, status, `${err.name}: ${err.message}`);
    // HEAD answers have no body, so the SDK cannot know the code.
    if (code !== '') assert.equal(err.name, code);
    return true;
  });
}

/** Waits until the server has printed something matching `pattern` (the banner comes in several writes). */
async function outputMatching(server: RunningServer, pattern: RegExp): Promise<string> {
  for (let i = 0; i < 200 && !pattern.test(server.output()); i++) await new Promise((r) => setTimeout(r, 25));
  return server.output();
}

/** A client for these keys (the SDK decorates the credentials object it is given, so it gets a copy). */
function clientFor(server: RunningServer, key: Key): S3Client {
  return s3Client(server, { ...key });
}

async function bucketNames(client: S3Client): Promise<string[]> {
  const r = await client.send(new ListBucketsCommand({}));
  return (r.Buckets ?? []).map((b) => b.Name!);
}

describe('accounts managed by cairn admin', () => {
  let dataDir: string;
  let server: RunningServer;
  let alice: S3Client;
  let bob: S3Client;
  let root: S3Client;
  let bobKey: Key;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cairn-accounts-'));
    server = await startServer({ dataDir });
    // One account with chosen keys, one with generated keys: both while the server runs.
    const a = await admin(dataDir, 'account', 'create', '--id', ALICE.id, '--name', ALICE.name, '--email', ALICE.email,
      '--access-key', ALICE_KEY.accessKeyId, '--secret-key', ALICE_KEY.secretAccessKey);
    assert.deepEqual(printedKey(a), ALICE_KEY);
    bobKey = printedKey(await admin(dataDir, 'account', 'create', '--id', BOB.id, '--name', BOB.name, '--email', BOB.email));
    alice = clientFor(server, ALICE_KEY);
    bob = clientFor(server, bobKey);
    root = s3Client(server);

    await alice.send(new CreateBucketCommand({ Bucket: 'alice-bucket' }));
    await alice.send(new PutObjectCommand({ Bucket: 'alice-bucket', Key: 'secret.txt', Body: 'alice only' }));
    await bob.send(new CreateBucketCommand({ Bucket: 'bob-bucket' }));
    await bob.send(new PutObjectCommand({ Bucket: 'bob-bucket', Key: 'mine.txt', Body: 'bob only' }));
  });

  after(async () => {
    alice?.destroy();
    bob?.destroy();
    root?.destroy();
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('account list shows every account with its keys', async () => {
    const lines = (await admin(dataDir, 'account', 'list')).trim().split('\n').map((l) => l.split('\t'));
    const byId = new Map(lines.map((l) => [l[0], l]));
    assert.deepEqual(byId.get(ALICE.id), [ALICE.id, ALICE.name, ALICE.email, ALICE_KEY.accessKeyId]);
    assert.deepEqual(byId.get(BOB.id), [BOB.id, BOB.name, BOB.email, bobKey.accessKeyId]);
    const root = lines.find((l) => l[1] === 'root');
    assert.ok(root, 'the root account is listed');
    assert.match(root[0]!, /^[0-9a-f]{64}$/);
    assert.ok(root[3]!.split(',').includes(ROOT_KEY.accessKeyId));
    assert.equal(lines.length, 3);
  });

  test('admin refuses duplicates and unknown accounts', async () => {
    let r = await runCairn(['admin', 'account', 'create', '--data', dataDir, '--id', ALICE.id, '--name', 'x', '--email', 'x@example.com']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /exists/);
    r = await runCairn(['admin', 'account', 'create', '--data', dataDir, '--id', 'c'.repeat(64), '--name', 'x', '--email', ALICE.email]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /e-mail/);
    r = await runCairn(['admin', 'key', 'add', '--data', dataDir, '--account', 'f'.repeat(64)]);
    assert.notEqual(r.code, 0);
    r = await runCairn(['admin', 'key', 'add', '--data', dataDir, '--account', BOB.id, '--access-key', ALICE_KEY.accessKeyId, '--secret-key', 'x'.repeat(40)]);
    assert.notEqual(r.code, 0, 'an access key id belongs to one account only');
    r = await runCairn(['admin', 'key', 'revoke', '--data', dataDir, '--access-key', 'NOSUCHKEY00000000000']);
    assert.notEqual(r.code, 0);
    // None of that changed anything.
    assert.equal((await admin(dataDir, 'account', 'list')).trim().split('\n').length, 3);
    assert.deepEqual(await bucketNames(alice), ['alice-bucket']);
  });

  test('each account lists only its own buckets', async () => {
    assert.deepEqual(await bucketNames(alice), ['alice-bucket']);
    assert.deepEqual(await bucketNames(bob), ['bob-bucket']);
    assert.deepEqual(await bucketNames(root), []);
    const owner = (await alice.send(new ListBucketsCommand({}))).Owner;
    assert.deepEqual(owner, { ID: ALICE.id, DisplayName: ALICE.name });
  });

  test("another account's bucket and objects are AccessDenied for every operation", async () => {
    const b = { Bucket: 'alice-bucket' };
    const o = { Bucket: 'alice-bucket', Key: 'secret.txt' };
    await rejects(bob.send(new GetObjectCommand(o)), 'AccessDenied', 403);
    await rejects(bob.send(new HeadObjectCommand(o)), '', 403);
    await rejects(bob.send(new GetObjectCommand({ Bucket: 'alice-bucket', Key: 'not-there' })), 'AccessDenied', 403);
    await rejects(bob.send(new ListObjectsV2Command(b)), 'AccessDenied', 403);
    await rejects(bob.send(new HeadBucketCommand(b)), '', 403);
    await rejects(bob.send(new GetBucketLocationCommand(b)), 'AccessDenied', 403);
    await rejects(bob.send(new PutObjectCommand({ ...o, Body: 'overwritten by bob' })), 'AccessDenied', 403);
    await rejects(bob.send(new PutObjectCommand({ Bucket: 'alice-bucket', Key: 'new-from-bob', Body: 'x' })), 'AccessDenied', 403);
    await rejects(bob.send(new DeleteObjectCommand(o)), 'AccessDenied', 403);
    await rejects(bob.send(new DeleteObjectsCommand({ ...b, Delete: { Objects: [{ Key: 'secret.txt' }] } })), 'AccessDenied', 403);
    await rejects(bob.send(new DeleteBucketCommand(b)), 'AccessDenied', 403);
    // Copying out of it (source not readable) and into it (destination not writable).
    await rejects(bob.send(new CopyObjectCommand({ Bucket: 'bob-bucket', Key: 'stolen', CopySource: 'alice-bucket/secret.txt' })), 'AccessDenied', 403);
    await rejects(bob.send(new CopyObjectCommand({ ...o, CopySource: 'bob-bucket/mine.txt' })), 'AccessDenied', 403);

    // Nothing happened to Alice's data, and nothing leaked into Bob's bucket.
    const got = await alice.send(new GetObjectCommand(o));
    assert.equal(await got.Body!.transformToString(), 'alice only');
    const listed = await alice.send(new ListObjectsV2Command(b));
    assert.deepEqual(listed.Contents?.map((c) => c.Key), ['secret.txt']);
    const bobs = await bob.send(new ListObjectsV2Command({ Bucket: 'bob-bucket' }));
    assert.deepEqual(bobs.Contents?.map((c) => c.Key), ['mine.txt']);
    // And the other way round.
    await rejects(alice.send(new GetObjectCommand({ Bucket: 'bob-bucket', Key: 'mine.txt' })), 'AccessDenied', 403);
    await rejects(alice.send(new ListObjectsV2Command({ Bucket: 'bob-bucket' })), 'AccessDenied', 403);
    // The root account is an account like the others here: no access to their buckets.
    await rejects(root.send(new GetObjectCommand(o)), 'AccessDenied', 403);
  });

  test("a bucket name taken by another account is BucketAlreadyExists; one's own is 200", async () => {
    await rejects(bob.send(new CreateBucketCommand({ Bucket: 'alice-bucket' })), 'BucketAlreadyExists', 409);
    const again = await alice.send(new CreateBucketCommand({ Bucket: 'alice-bucket' }));
    assert.equal(again.$metadata.httpStatusCode, 200);
    // Re-creating did not empty it or change its owner.
    assert.deepEqual((await alice.send(new ListObjectsV2Command({ Bucket: 'alice-bucket' }))).Contents?.map((c) => c.Key), ['secret.txt']);
    assert.deepEqual(await bucketNames(bob), ['bob-bucket']);
  });

  test('a key added while the server runs works at once, a revoked one is InvalidAccessKeyId', async () => {
    const chosen: Key = { accessKeyId: 'BOBSECONDKEY00000001', secretAccessKey: 'bob-second-secret-00000000000000000000000' };
    const bob2 = clientFor(server, chosen);
    // Asked before it exists (the server may remember the miss)…
    await rejects(bob2.send(new ListBucketsCommand({})), 'InvalidAccessKeyId', 403);
    const out = await admin(dataDir, 'key', 'add', '--account', BOB.id, '--access-key', chosen.accessKeyId, '--secret-key', chosen.secretAccessKey);
    assert.deepEqual(printedKey(out), chosen);
    // …it works as soon as `cairn admin` returns.
    assert.deepEqual(await bucketNames(bob2), ['bob-bucket']);
    const generated = printedKey(await admin(dataDir, 'key', 'add', '--account', BOB.id));
    assert.match(generated.accessKeyId, /^[A-Z0-9]{16,}$/);
    const bob3 = clientFor(server, generated);
    assert.deepEqual(await bucketNames(bob3), ['bob-bucket']);
    const list = await admin(dataDir, 'account', 'list');
    const bobLine = list.split('\n').find((l) => l.startsWith(BOB.id))!;
    assert.deepEqual(bobLine.split('\t')[3]!.split(',').sort(), [bobKey.accessKeyId, chosen.accessKeyId, generated.accessKeyId].sort());

    // The first key worked a moment ago (so a server may have it cached)…
    assert.deepEqual(await bucketNames(bob), ['bob-bucket']);
    assert.match(await admin(dataDir, 'key', 'revoke', '--access-key', bobKey.accessKeyId), /revoked/);
    // …and is refused as soon as `cairn admin` returns.
    await rejects(bob.send(new ListBucketsCommand({})), 'InvalidAccessKeyId', 403);
    await rejects(bob.send(new GetObjectCommand({ Bucket: 'bob-bucket', Key: 'mine.txt' })), 'InvalidAccessKeyId', 403);
    // Bob's other keys still work.
    const got = await bob2.send(new GetObjectCommand({ Bucket: 'bob-bucket', Key: 'mine.txt' }));
    assert.equal(await got.Body!.transformToString(), 'bob only');
    bob2.destroy();
    bob3.destroy();
  });

  test('an account that owns buckets cannot be deleted; once it owns none, it goes with its keys', async () => {
    const carol = { id: 'c'.repeat(64), name: 'Carol', email: 'carol@example.com' };
    const key = printedKey(await admin(dataDir, 'account', 'create', '--id', carol.id, '--name', carol.name, '--email', carol.email));
    const client = clientFor(server, key);
    await client.send(new CreateBucketCommand({ Bucket: 'carol-bucket' }));

    const refused = await runCairn(['admin', 'account', 'delete', '--data', dataDir, '--id', carol.id]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /owns buckets/);
    assert.deepEqual(await bucketNames(client), ['carol-bucket']);

    await client.send(new DeleteBucketCommand({ Bucket: 'carol-bucket' }));
    assert.match(await admin(dataDir, 'account', 'delete', '--id', carol.id), /deleted/);
    assert.ok(!(await admin(dataDir, 'account', 'list')).includes(carol.id));
    await rejects(client.send(new ListBucketsCommand({})), 'InvalidAccessKeyId', 403);
    // The freed name can be taken by someone else.
    await alice.send(new CreateBucketCommand({ Bucket: 'carol-bucket' }));
    assert.deepEqual(await bucketNames(alice), ['alice-bucket', 'carol-bucket']);
    client.destroy();
  });
});

describe('generated root credentials', () => {
  test('printed once with a ready-to-paste line, kept with mode 0600, still valid after a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cairn-root-'));
    try {
      const first = await startServer({ dataDir, generatedRoot: true });
      let key: Key;
      try {
        const out = await outputMatching(first, / s3 ls$/m);
        const accessKeyId = /^\s*AWS_ACCESS_KEY_ID=(\S+)$/m.exec(out)?.[1];
        const secretAccessKey = /^\s*AWS_SECRET_ACCESS_KEY=(\S+)$/m.exec(out)?.[1];
        assert.ok(accessKeyId && secretAccessKey, `no generated keys in:\n${out}`);
        key = { accessKeyId, secretAccessKey };
        const paste = out.split('\n').find((l) => l.includes(' s3 ls'));
        assert.equal(paste?.trim(),
          `AWS_ACCESS_KEY_ID=${accessKeyId} AWS_SECRET_ACCESS_KEY=${secretAccessKey} aws --endpoint-url ${first.endpoint} s3 ls`);

        const file = join(dataDir, 'root-credentials.json');
        assert.equal(statSync(file).mode & 0o777, 0o600);
        const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
        assert.equal(saved.accessKeyId, accessKeyId);
        assert.equal(saved.secretKey, secretAccessKey);
        assert.match(saved.accountId!, /^[0-9a-f]{64}$/);

        const client = clientFor(first, key);
        await client.send(new CreateBucketCommand({ Bucket: 'root-bucket' }));
        const listed = await client.send(new ListBucketsCommand({}));
        assert.deepEqual(listed.Buckets?.map((b) => b.Name), ['root-bucket']);
        assert.deepEqual(listed.Owner, { ID: saved.accountId, DisplayName: 'root' });
        client.destroy();
      } finally {
        await first.stop();
      }

      const second = await startServer({ dataDir, generatedRoot: true });
      try {
        const out = await outputMatching(second, /^Root access key: /m);
        assert.ok(!out.includes(key.secretAccessKey), `the secret was printed again:\n${out}`);
        assert.ok(!/AWS_SECRET_ACCESS_KEY/.test(out));
        assert.match(out, new RegExp(`Root access key: ${key.accessKeyId}`));
        assert.equal(statSync(join(dataDir, 'root-credentials.json')).mode & 0o777, 0o600);
        const client = clientFor(second, key);
        assert.deepEqual(await bucketNames(client), ['root-bucket']);
        client.destroy();
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
