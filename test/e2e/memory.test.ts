/**
 * Invariant 7, memory per request is bounded: the server's resident set stays
 * under 200 MiB while it takes one 5 GiB multipart upload (lib-storage Upload,
 * 64 MiB parts, two in flight, body generated on the fly) and then streams the
 * 5 GiB object back (hashed by the client as it arrives, never buffered).
 * The server's RSS is sampled from /proc/<pid>/status (VmRSS) every 100 ms, and
 * its high-water mark (VmHWM) read at the end catches any peak between samples.
 * Should the server run worker processes, their RSS is added in (sampled) and
 * each one's VmHWM is checked, so the measure is always the whole server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { s3Client, startServer, type RunningServer } from './harness.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TOTAL = 5 * GiB;
const PART_SIZE = 64 * MiB;
const CHUNK = 4 * MiB;
const RSS_LIMIT = 200 * MiB;
/** The object, plus room for part files in flight and the rest of the machine. */
const DISK_NEEDED = 12 * GiB;

/** A `/proc/<pid>/status` field in bytes (the kernel reports kB). */
async function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** A process and its descendants (a clustered server's workers), from /proc/<pid>/stat. */
async function processTree(root: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // The command name may hold spaces and parentheses: fields resume after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (Number.isInteger(ppid)) parents.set(Number(name), ppid);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parents) if (ppid === tree[i]) tree.push(pid);
  }
  return tree;
}

/** RSS of the whole server (its processes, listed once up front); one that exited counts 0. */
async function serverRss(pids: readonly number[]): Promise<number> {
  const sizes = await Promise.all(pids.map((pid) => procStatus(pid, 'VmRSS').catch(() => 0)));
  return sizes.reduce((a, b) => a + b, 0);
}

/** Samples the server's RSS every 100 ms until stopped; keeps the largest. */
function sampleRss(pids: readonly number[]): { stop(): Promise<{ peak: number; samples: number }> } {
  let peak = 0;
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await serverRss(pids));
      samples++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { peak, samples };
    },
  };
}

/** 5 GiB of deterministic pseudo-random bytes (AES-CTR keystream), hashed (MD5) as generated. */
function* generate(total: number, md5: ReturnType<typeof createHash>): Generator<Buffer> {
  const cipher = createCipheriv('aes-128-ctr', createHash('sha256').update('memory').digest().subarray(0, 16), Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK);
  for (let sent = 0; sent < total; sent += CHUNK) {
    const chunk = cipher.update(zeros.subarray(0, Math.min(CHUNK, total - sent)));
    md5.update(chunk);
    yield chunk;
  }
}

const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;

async function skipReason(): Promise<string | undefined> {
  if (!existsSync('/proc/self/status')) return 'needs /proc/<pid>/status (Linux) to read the server\'s RSS';
  const fsInfo = await statfs(tmpdir());
  const free = fsInfo.bavail * fsInfo.bsize;
  if (free < DISK_NEEDED) return `needs ${DISK_NEEDED / GiB} GiB free in ${tmpdir()} for a 5 GiB object; only ${(free / GiB).toFixed(1)} GiB free`;
  return undefined;
}

const skip = await skipReason();
let server: RunningServer | undefined;
let s3: S3Client | undefined;

before(async () => {
  if (skip) return;
  server = await startServer();
  s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'memory' }));
});
after(async () => {
  s3?.destroy();
  await server?.stop();
});

test(`the server's RSS stays under ${RSS_LIMIT / MiB} MiB through a 5 GiB upload and download`, { skip: skip ?? false }, async (t) => {
  const tree = await processTree(server!.child.pid!);
  const client = s3!;
  t.diagnostic(`server RSS at rest: ${mib(await serverRss(tree))} (${tree.length === 1 ? 'one process' : `pids ${tree.join(', ')}`})`);

  const sentMd5 = createHash('md5');
  const uploadSampler = sampleRss(tree);
  const result = await new Upload({
    client,
    params: { Bucket: 'memory', Key: 'five-gib', Body: Readable.from(generate(TOTAL, sentMd5)) },
    partSize: PART_SIZE,
    queueSize: 2,
  }).done();
  const upload = await uploadSampler.stop();
  assert.match(String(result.ETag), new RegExp(`-${TOTAL / PART_SIZE}"$`));
  const head = await client.send(new HeadObjectCommand({ Bucket: 'memory', Key: 'five-gib' }));
  assert.equal(head.ContentLength, TOTAL);

  const downloadSampler = sampleRss(tree);
  const got = await client.send(new GetObjectCommand({ Bucket: 'memory', Key: 'five-gib' }));
  const receivedMd5 = createHash('md5');
  let received = 0;
  for await (const chunk of got.Body as Readable) {
    receivedMd5.update(chunk as Buffer);
    received += (chunk as Buffer).length;
  }
  const download = await downloadSampler.stop();
  const hwms = await Promise.all(tree.map((p) => procStatus(p, 'VmHWM')));
  const hwm = Math.max(...hwms);

  t.diagnostic(`server peak VmRSS during upload: ${mib(upload.peak)} (${upload.samples} samples)`);
  t.diagnostic(`server peak VmRSS during download: ${mib(download.peak)} (${download.samples} samples)`);
  t.diagnostic(`server VmHWM at the end: ${hwms.map(mib).join(', ')}`);
  assert.equal(received, TOTAL);
  assert.equal(receivedMd5.digest('hex'), sentMd5.digest('hex'));
  assert.ok(upload.samples > 0 && download.samples > 0);
  assert.ok(upload.peak < RSS_LIMIT, `peak RSS during upload ${mib(upload.peak)}`);
  assert.ok(download.peak < RSS_LIMIT, `peak RSS during download ${mib(download.peak)}`);
  assert.ok(hwm < RSS_LIMIT, `VmHWM ${mib(hwm)}`);
});
