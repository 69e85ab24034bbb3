/**
 * SIGKILL at random points under concurrent load, hundreds of times over one
 * data folder. Clients run PutObject (inline and blob sizes), multipart uploads
 * ending in CompleteMultipartUpload, DeleteObjects and CopyObject on a small
 * pool of keys; after a random delay the server is killed and restarted, and
 * every key is checked: an acknowledged write is there, whole, with its ETag;
 * an acknowledged delete stays deleted; a write cut off by the kill is either
 * absent or whole (never part of a body, never a mix).
 *
 * The lifecycle worker is not exercised here (it lives on another branch).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectsCommand,
  GetObjectCommand, ListObjectsV2Command, PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { bodyBytes, md5Hex, patternBytes } from './s3-helpers.js';

const CYCLES = Number(process.env.KILL_CYCLES ?? 200);
const SEED = Number(process.env.KILL_SEED ?? 8);
const CLIENTS = 4;
const KEYS = Array.from({ length: 16 }, (_, i) => `key-${i}`);
const MiB = 1024 * 1024;
const bucket = 'kill-cycles';
const ABSENT = 'absent';

const dataDir = mkdtempSync(join(tmpdir(), 'cairn-kill-'));
let server: RunningServer | undefined;

after(async () => {
  await server?.stop({ keepData: true });
  rmSync(dataDir, { recursive: true, force: true });
});

/** mulberry32, so that a failing run reproduces with KILL_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);
const int = (n: number): number => Math.floor(random() * n);

/**
 * What each key may hold: the MD5 of its body, or ABSENT. One state once a
 * write or delete is acknowledged (or observed after a restart); two while an
 * operation on it is in flight or was cut off by a kill.
 */
const possible = new Map<string, Set<string>>(KEYS.map((k) => [k, new Set([ABSENT])]));
/** Keys an operation is working on: one operation per key at a time, so that acknowledgements are unambiguous. */
const busy = new Set<string>();
const stats = { acknowledged: 0, cut: 0, put: 0, multipart: 0, deleteObjects: 0, copy: 0 };

function freeKeys(n: number): string[] | undefined {
  const free = KEYS.filter((k) => !busy.has(k));
  if (free.length < n) return undefined;
  const chosen: string[] = [];
  while (chosen.length < n) {
    const k = free.splice(int(free.length), 1)[0]!;
    chosen.push(k);
  }
  return chosen;
}

/** Runs one operation on `keys`, each of which will hold `outcome` once it is acknowledged. */
async function operate(keys: readonly string[], outcome: string, run: () => Promise<void>): Promise<void> {
  for (const k of keys) {
    busy.add(k);
    possible.get(k)!.add(outcome);
  }
  try {
    await run();
    for (const k of keys) possible.set(k, new Set([outcome]));
    stats.acknowledged++;
  } catch {
    // Killed mid-way (or refused): either state may be what the disk holds.
    stats.cut++;
  } finally {
    for (const k of keys) busy.delete(k);
  }
}

async function oneOperation(s3: S3Client, tag: number): Promise<void> {
  const kind = int(10);
  if (kind < 4) {
    const [key] = freeKeys(1) ?? [];
    if (!key) return;
    const body = patternBytes(int(2) === 0 ? 1 + int(30_000) : 40_000 + int(400_000), tag);
    stats.put++;
    await operate([key], md5Hex(body), async () => {
      const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      assert.equal(out.ETag, `"${md5Hex(body)}"`);
    });
  } else if (kind < 6) {
    const [key] = freeKeys(1) ?? [];
    if (!key) return;
    // Mostly one small part (allowed as the last part); now and then a 5 MiB part first.
    const parts = int(6) === 0 ? [patternBytes(5 * MiB, tag), patternBytes(1 + int(100_000), tag + 1)] : [patternBytes(1 + int(200_000), tag)];
    stats.multipart++;
    await operate([key], md5Hex(Buffer.concat(parts)), async () => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      const etags: string[] = [];
      for (const [i, part] of parts.entries()) {
        etags.push((await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: part }))).ETag!);
      }
      await s3.send(new CompleteMultipartUploadCommand({
        Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) },
      }));
    });
  } else if (kind < 8) {
    const keys = freeKeys(1 + int(3));
    if (!keys) return;
    stats.deleteObjects++;
    await operate(keys, ABSENT, async () => {
      const out = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
      assert.equal(out.Errors?.length ?? 0, 0);
    });
  } else {
    // Copy from a key whose content is settled.
    const source = KEYS.find((k) => !busy.has(k) && possible.get(k)!.size === 1 && !possible.get(k)!.has(ABSENT));
    if (!source) return;
    busy.add(source);
    const [target] = freeKeys(1) ?? [];
    if (!target) {
      busy.delete(source);
      return;
    }
    const content = [...possible.get(source)!][0]!;
    stats.copy++;
    try {
      await operate([target], content, async () => {
        await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: target, CopySource: `${bucket}/${source}` }));
      });
    } finally {
      busy.delete(source);
    }
  }
}

/** After a restart: every key holds one of its possible states, whole; that state is now settled. */
async function checkConsistency(s3: S3Client, cycle: number): Promise<void> {
  const present = new Map<string, number>();
  for (const key of KEYS) {
    let state = ABSENT;
    try {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = await bodyBytes(got.Body);
      assert.equal(bytes.length, got.ContentLength, `cycle ${cycle}: ${key} delivered its whole length`);
      state = md5Hex(bytes);
      if (!got.ETag!.includes('-')) assert.equal(got.ETag, `"${state}"`, `cycle ${cycle}: ETag of ${key} matches its bytes`);
      present.set(key, bytes.length);
    } catch (err) {
      if ((err as { name?: string }).name !== 'NoSuchKey') throw err;
    }
    const allowed = possible.get(key)!;
    assert.ok(allowed.has(state), `cycle ${cycle} (seed ${SEED}): ${key} holds ${state}, expected one of ${[...allowed].join(', ')}`);
    possible.set(key, new Set([state]));
  }
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  assert.deepEqual(new Map((listed.Contents ?? []).map((o) => [o.Key!, o.Size!])), present, `cycle ${cycle}: the listing agrees with GET`);
}

test(`${CYCLES} SIGKILL/restart cycles under concurrent load keep every acknowledged write and nothing partial`, async () => {
  server = await startServer({ dataDir, args: ['--gc-grace', '0'] });
  let s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  let tag = 1;
  const started = Date.now();
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    let stop = false;
    const clients = Array.from({ length: CLIENTS }, async () => {
      while (!stop) await oneOperation(s3, tag++);
    });
    await new Promise((r) => setTimeout(r, int(300)));
    // No new operations; those in flight are cut off by the kill.
    stop = true;
    await server.kill();
    await Promise.all(clients);
    s3.destroy();
    server = await startServer({ dataDir, args: ['--gc-grace', '0'] });
    s3 = s3Client(server);
    await checkConsistency(s3, cycle);
  }
  s3.destroy();
  console.log(`${CYCLES} kill cycles in ${((Date.now() - started) / 1000).toFixed(0)} s, seed ${SEED}: ${JSON.stringify(stats)}`);
  assert.ok(stats.acknowledged > CYCLES, 'the load did real work between kills');
  assert.ok(stats.cut > 0, 'kills cut operations off');
  for (const counter of [stats.put, stats.multipart, stats.deleteObjects, stats.copy]) assert.ok(counter > 0);
});
