/**
 * `cairn server --memory` as a user starts it from the command line, the
 * environment or a config file: buckets and keys from the settings, every S3
 * path (inline-sized, large, multipart, cold storage and restore) served from
 * memory, and nothing written to disk: the working, temporary and home folders
 * stay empty and the process holds no file open.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, ListBucketsCommand,
  PutObjectCommand, RestoreObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { CAIRN_BIN, ROOT_KEY, runCairn } from './harness.js';
import { bodyBytes, md5Hex, patternBytes, rejectsWith, walk } from './s3-helpers.js';

const MiB = 1024 * 1024;
const folders: string[] = [];
after(() => { for (const f of folders) rmSync(f, { recursive: true, force: true }); });

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-memory-'));
  folders.push(dir);
  return dir;
}

interface MemoryServer {
  readonly endpoint: string;
  readonly pid: number;
  readonly stdout: () => string;
  stop(): Promise<number | null>;
}

/** Starts `cairn server` with these arguments, in `cwd`, with only the given CAIRN_ variables. */
async function start(args: readonly string[], cwd: string, env: Record<string, string>): Promise<MemoryServer> {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAIRN_')) base[k] = v;
  const child = spawn(process.execPath, [CAIRN_BIN, 'server', '--port', '0', '--admin-port', '0', ...args], {
    cwd, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start:\n${stdout}\n${stderr}`)), 30_000);
    child.stdout.on('data', () => {
      const m = /listening on (http\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${stdout}\n${stderr}`));
    });
  });
  return {
    endpoint, pid: child.pid!, stdout: () => stdout,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

function client(endpoint: string, credentials = ROOT_KEY): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
}

/** Files the process has open: every descriptor that names a path, devices aside. */
function openFiles(pid: number): string[] {
  const dir = `/proc/${pid}/fd`;
  return readdirSync(dir).map((fd) => {
    try {
      return readlinkSync(join(dir, fd));
    } catch {
      return '';
    }
  }).filter((target) => target.startsWith('/') && !target.startsWith('/dev/'));
}

test('--memory writes nothing anywhere: objects of every kind, cold storage and restores live in memory', async () => {
  const cwd = folder();
  const temp = folder();
  const home = folder();
  const server = await start(['--memory', '--lifecycle-day-seconds', '1', '--lifecycle-interval', '0.1'], cwd, {
    TMPDIR: temp, HOME: home, CAIRN_BUCKETS: 'first-bucket,second-bucket',
    CAIRN_ROOT_ACCESS_KEY: ROOT_KEY.accessKeyId, CAIRN_ROOT_SECRET_KEY: ROOT_KEY.secretAccessKey,
  });
  const s3 = client(server.endpoint);
  try {
    assert.match(server.stdout(), /Data: in memory, gone at stop \(at most 1073741824 bytes of object data\)/);
    assert.deepEqual((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name), ['first-bucket', 'second-bucket']);
    const small = patternBytes(1000);
    const large = patternBytes(3 * MiB, 3);
    await s3.send(new PutObjectCommand({ Bucket: 'first-bucket', Key: 'small', Body: small }));
    await s3.send(new PutObjectCommand({ Bucket: 'first-bucket', Key: 'large', Body: large }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'second-bucket', Key: 'multi' }));
    const parts = [patternBytes(5 * MiB, 4), patternBytes(MiB, 5)];
    const etags = [];
    for (const [i, body] of parts.entries()) {
      etags.push((await s3.send(new UploadPartCommand({ Bucket: 'second-bucket', Key: 'multi', UploadId, PartNumber: i + 1, Body: body }))).ETag);
    }
    await s3.send(new CompleteMultipartUploadCommand({
      Bucket: 'second-bucket', Key: 'multi', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
    }));
    assert.ok((await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: 'first-bucket', Key: 'small' }))).Body)).equals(small));
    assert.equal(md5Hex(await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: 'first-bucket', Key: 'large' }))).Body)), md5Hex(large));
    assert.equal(md5Hex(await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: 'second-bucket', Key: 'multi' }))).Body)), md5Hex(Buffer.concat(parts)));

    // GLACIER bytes move to (memory) cold storage; a restore brings a readable copy back.
    const archived = patternBytes(100_000, 6);
    await s3.send(new PutObjectCommand({ Bucket: 'first-bucket', Key: 'archived', Body: archived, StorageClass: 'GLACIER' }));
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: 'first-bucket', Key: 'archived' })), 'InvalidObjectState', 403);
    await s3.send(new RestoreObjectCommand({ Bucket: 'first-bucket', Key: 'archived', RestoreRequest: { Days: 1, GlacierJobParameters: { Tier: 'Expedited' } } }));
    const deadline = Date.now() + 15_000;
    let restore = '';
    while (!restore.includes('ongoing-request="false"') && Date.now() < deadline) {
      restore = (await s3.send(new HeadObjectCommand({ Bucket: 'first-bucket', Key: 'archived' }))).Restore ?? '';
      if (!restore.includes('ongoing-request="false"')) await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(restore, /ongoing-request="false"/);
    assert.ok((await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: 'first-bucket', Key: 'archived' }))).Body)).equals(archived));

    assert.deepEqual(openFiles(server.pid), [], 'the server holds no file open');
  } finally {
    s3.destroy();
    assert.equal(await server.stop(), 0);
  }
  for (const dir of [cwd, temp, home]) assert.deepEqual(walk(dir), [], `${dir} stays empty`);
});

test('memory mode from a config file, with accounts; flags win over the file', async () => {
  const cwd = folder();
  const config = join(folder(), 'cairn.json');
  writeFileSync(config, JSON.stringify({
    memory: true, buckets: ['from-file'], 'memory-limit': 2 * MiB,
    accounts: [{ name: 'tester', email: 'tester@example.com', 'access-key': 'TESTERKEY', 'secret-key': 'tester-secret', buckets: ['tester-bucket'] }],
  }));
  const server = await start(['--config', config, '--buckets', 'from-flag,second-flag', '--buckets', 'third-flag', '--root-access-key', ROOT_KEY.accessKeyId], cwd, {
    CAIRN_ROOT_SECRET_KEY: ROOT_KEY.secretAccessKey,
  });
  const root = client(server.endpoint);
  const tester = client(server.endpoint, { accessKeyId: 'TESTERKEY', secretAccessKey: 'tester-secret' });
  try {
    assert.deepEqual((await root.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name), ['from-flag', 'second-flag', 'third-flag']);
    assert.deepEqual((await tester.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name), ['tester-bucket']);
    await rejectsWith(tester.send(new PutObjectCommand({ Bucket: 'tester-bucket', Key: 'big', Body: patternBytes(2 * MiB + 1) })), 'EntityTooLarge', 400);
    await tester.send(new PutObjectCommand({ Bucket: 'tester-bucket', Key: 'fits', Body: patternBytes(2 * MiB) }));
  } finally {
    root.destroy();
    tester.destroy();
    await server.stop();
  }
  assert.deepEqual(walk(cwd), []);
});

test('--memory refuses settings that need a disk or several processes, naming them', async () => {
  const cases: [string[], RegExp][] = [
    [['--memory', '--data', folder()], /--memory writes nothing to disk: it takes no --data/],
    [['--memory', '--workers', '2'], /--memory runs in one process: --workers must be 1/],
    [['--memory', '--root-access-key', 'only-the-id'], /--root-access-key and --root-secret-key go together/],
    [['--memory', '--accounts', '[{"name":"x"}]'], /invalid value .* for --accounts: account 0: "email" must be/],
    [['--memory', '--buckets', 'UPPER'], /bucket "UPPER": The specified bucket is not valid/],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await runCairn(['server', '--port', '0', '--admin-port', '0', ...args]);
    assert.notEqual(code, 0, args.join(' '));
    assert.match(stderr, message);
  }
});
