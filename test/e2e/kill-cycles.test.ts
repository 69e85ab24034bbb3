/**
 * SIGKILL at random points under concurrent load, hundreds of times over one
 * data folder. Four clients run PutObject (inline and blob sizes), multipart
 * uploads ending in CompleteMultipartUpload, DeleteObjects and CopyObject on a
 * small pool of keys; a sixth writes versions into a versioned bucket with
 * Object Lock (some under GOVERNANCE retention), makes delete markers, deletes
 * versions by id and tries to delete locked ones; a fifth writes, deletes and restores objects under the
 * prefixes of a bucket lifecycle configuration that the lifecycle worker (with
 * 20 ms days) applies all along: lc/ objects go to STANDARD_IA and then GLACIER
 * (their bytes move to cold storage), exp/ objects expire, stale uploads are
 * aborted. Half the kills come after a random delay; the others wait until an
 * operation of one kind is on the wire, or a lifecycle pass has its cursor
 * saved, so that every kind is cut many times. Which operations each kill cut
 * is read from the wire (requests sent and not answered) and, for the worker,
 * from the cursor it left in the metadata.
 *
 * After each restart: an acknowledged write is there, whole, with its ETag; an
 * acknowledged delete stays deleted; a write cut off is absent or whole. A
 * lifecycle object is absent only if deleted or old enough to have expired,
 * holds a storage class its rule allows at its age (never moving back up), and
 * once GLACIER has exactly one cold file with its bytes, always the same one,
 * and no hot copy; an acknowledged restore is in progress or complete, and a
 * completed one stays so. No blob file, hot or cold, from before the restart
 * is left unreferenced once the start-up sweeps and collection have run.
 * In the versioned bucket no acknowledged version or delete marker is lost, a
 * version whose delete was acknowledged stays gone, one that appeared from a
 * cut-off write is whole, a locked version is never removed, and each key's
 * current version is its newest.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import type Database from 'better-sqlite3';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, DeleteObjectsCommand,
  GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand, PutBucketLifecycleConfigurationCommand, PutObjectCommand,
  RestoreObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { openMetadata, readMetadata, readStoredFile, referencedBlobs, storedFiles } from './data-folder.js';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { bodyBytes, md5Hex, patternBytes } from './s3-helpers.js';
import { WireRequests, type WireOperation } from './wire-requests.js';

const CYCLES = Number(process.env.KILL_CYCLES ?? 200);
const SEED = Number(process.env.KILL_SEED ?? 8);
const CLIENTS = 4;
const KEYS = Array.from({ length: 16 }, (_, i) => `key-${i}`);
const LC_KEYS = Array.from({ length: 16 }, (_, i) => `lc/${i}`);
const EXP_KEYS = Array.from({ length: 12 }, (_, i) => `exp/${i}`);
const LIFECYCLE_KEYS = [...LC_KEYS, ...EXP_KEYS];
const MiB = 1024 * 1024;
const bucket = 'kill-cycles';
const ABSENT = 'absent';

// Lifecycle days of 20 ms: lc/ objects reach STANDARD_IA after 0.6 s and GLACIER after 1.2 s, exp/ ones expire after 0.9 s.
const DAY_MS = 20;
const IA_DAYS = 30;
const GLACIER_DAYS = 60;
const EXPIRE_DAYS = 45;
const ABORT_DAYS = 50;
/** A Standard restore takes 15 days (0.3 s); an Expedited one, 5 minutes of a full day, is done at once. */
const STANDARD_RESTORE_DAYS = 15;
/** Restored copies outlive the test. */
const RESTORE_DAYS = 100_000;
const SERVER_ARGS = [
  '--gc-grace', '0', '--lifecycle-day-seconds', String(DAY_MS / 1000), '--lifecycle-interval', '0.05',
  '--restore-standard-seconds', String(STANDARD_RESTORE_DAYS * 86_400),
];
const RANK: Readonly<Record<string, number>> = { STANDARD: 0, STANDARD_IA: 1, GLACIER: 2 };

/** What kills must land inside, each at least MIN_CUTS times. */
const TARGETS = ['PutObject', 'CompleteMultipartUpload', 'DeleteObjects', 'CopyObject', 'DeleteObject', 'lifecycle'] as const;
type Target = (typeof TARGETS)[number];
const MIN_CUTS = Math.max(1, Math.floor(CYCLES / 40));

const dataDir = mkdtempSync(join(tmpdir(), 'cairn-kill-'));
const coldDir = join(dataDir, 'cold');
const wire = new WireRequests();
let server: RunningServer | undefined;

after(async () => {
  wire.close();
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

/** A write as the test sent it: when (a lower bound of its Last-Modified) and, for lifecycle keys, the ETag it gives. */
interface Write {
  readonly sentAt: number;
  readonly etag?: string;
}
const NO_WRITE: Write = { sentAt: 0 };

/**
 * What each key may hold: the MD5 of its body, or ABSENT. One state once a
 * write or delete is acknowledged (or observed after a restart); more while an
 * operation on it is in flight or was cut off by a kill.
 */
const possible = new Map<string, Map<string, Write>>([...KEYS, ...LIFECYCLE_KEYS].map((k) => [k, new Map([[ABSENT, NO_WRITE]])]));
/** Keys an operation is working on: one operation per key at a time, so that acknowledgements are unambiguous. */
const busy = new Set<string>();
/** What the last check saw of each present lifecycle object. */
interface Seen {
  readonly md5: string;
  readonly rank: number;
  readonly cold: string | undefined;
  readonly restored: boolean;
}
const seen = new Map<string, Seen>();
/** Lifecycle keys whose current object (by MD5) has an acknowledged restore. */
const restoreAsked = new Map<string, string>();
/** Requests that failed for a reason other than a kill. */
const unexpected: string[] = [];
const stats = { acknowledged: 0, failed: 0, put: 0, multipart: 0, deleteObjects: 0, copy: 0, restore: 0, archiveCut: 0 };
const cuts: Record<Target, number> = { PutObject: 0, CompleteMultipartUpload: 0, DeleteObjects: 0, CopyObject: 0, DeleteObject: 0, lifecycle: 0 };
/** Lifecycle work seen done, by key@md5. */
const done = { movedToIA: new Set<string>(), archived: new Set<string>(), restored: new Set<string>(), expired: new Set<string>() };

function freeKeys(pool: readonly string[], n: number): string[] | undefined {
  const free = pool.filter((k) => !busy.has(k));
  if (free.length < n) return undefined;
  const chosen: string[] = [];
  while (chosen.length < n) chosen.push(free.splice(int(free.length), 1)[0]!);
  return chosen;
}

/** The one state a key is known to hold, if it is settled. */
function settledState(key: string): string | undefined {
  const states = possible.get(key)!;
  return states.size === 1 ? [...states.keys()][0] : undefined;
}

/** S3 errors a request may legitimately get here: the lifecycle aborts uploads left open for 50 days (1 s). */
const EXPECTED_ERRORS = new Set(['NoSuchUpload']);

/** Failures are expected from kills (no response, or a cut one); anything else is a finding. */
function noteFailure(what: string, err: unknown): void {
  stats.failed++;
  if (err instanceof assert.AssertionError) {
    unexpected.push(`${what}: ${err.message}`);
    return;
  }
  const { name, $metadata } = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = $metadata?.httpStatusCode;
  if (status !== undefined && status >= 300 && !EXPECTED_ERRORS.has(name ?? '')) unexpected.push(`${what}: ${status} ${name}`);
}

/** Runs one operation on `keys`, each of which will hold `outcome` once it is acknowledged. */
async function operate(what: string, keys: readonly string[], outcome: string, etag: string | undefined, run: () => Promise<void>): Promise<void> {
  const write: Write = { sentAt: Date.now(), ...(etag !== undefined ? { etag } : {}) };
  for (const k of keys) {
    busy.add(k);
    if (!possible.get(k)!.has(outcome)) possible.get(k)!.set(outcome, write);
  }
  try {
    await run();
    for (const k of keys) possible.set(k, new Map([[outcome, write]]));
    stats.acknowledged++;
  } catch (err) {
    // Killed mid-way (or refused): either state may be what the disk holds.
    noteFailure(`${what} ${keys.join(',')}`, err);
  } finally {
    for (const k of keys) busy.delete(k);
  }
}

async function putObject(s3: S3Client, key: string, body: Buffer): Promise<void> {
  stats.put++;
  await operate('PutObject', [key], md5Hex(body), md5Hex(body), async () => {
    const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    assert.equal(out.ETag, `"${md5Hex(body)}"`);
  });
}

/** S3's ETag of a multipart object: the MD5 of its parts' MD5s, and their count. */
function multipartEtag(parts: readonly Buffer[]): string {
  const md5s = parts.map((p) => createHash('md5').update(p).digest());
  return `${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${parts.length}`;
}

async function multipartUpload(s3: S3Client, key: string, parts: readonly Buffer[]): Promise<void> {
  stats.multipart++;
  await operate('multipart upload', [key], md5Hex(Buffer.concat(parts)), multipartEtag(parts), async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const etags: string[] = [];
    for (const [i, part] of parts.entries()) {
      etags.push((await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: part }))).ETag!);
    }
    const out = await s3.send(new CompleteMultipartUploadCommand({
      Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) },
    }));
    assert.equal(out.ETag, `"${multipartEtag(parts)}"`);
  });
}

async function deleteObjects(s3: S3Client, keys: readonly string[]): Promise<void> {
  stats.deleteObjects++;
  await operate('DeleteObjects', keys, ABSENT, undefined, async () => {
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
    assert.equal(out.Errors?.length ?? 0, 0);
  });
}

/** Small bodies live inline in the metadata row, larger ones in blob files: both kinds go through every path. */
function someBody(tag: number, largest = 400_000): Buffer {
  return patternBytes(int(2) === 0 ? 1 + int(30_000) : 40_000 + int(largest - 40_000), tag);
}

async function clientOperation(s3: S3Client, tag: number): Promise<void> {
  const kind = int(10);
  if (kind < 4) {
    const [key] = freeKeys(KEYS, 1) ?? [];
    if (key) await putObject(s3, key, someBody(tag));
  } else if (kind < 6) {
    const [key] = freeKeys(KEYS, 1) ?? [];
    // Mostly one small part (allowed as the last part); now and then a 5 MiB part first.
    if (key) await multipartUpload(s3, key, int(6) === 0 ? [patternBytes(5 * MiB, tag), patternBytes(1 + int(100_000), tag + 1)] : [patternBytes(1 + int(200_000), tag)]);
  } else if (kind < 8) {
    const keys = freeKeys(KEYS, 1 + int(3));
    if (keys) await deleteObjects(s3, keys);
  } else {
    // Copy from a key whose content is settled.
    const source = KEYS.find((k) => !busy.has(k) && settledState(k) !== undefined && settledState(k) !== ABSENT);
    if (!source) return;
    busy.add(source);
    try {
      const [target] = freeKeys(KEYS, 1) ?? [];
      if (!target) return;
      stats.copy++;
      await operate('CopyObject', [target], settledState(source)!, undefined, async () => {
        await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: target, CopySource: `${bucket}/${source}` }));
      });
    } finally {
      busy.delete(source);
    }
  }
}

/** Asks for a restore of an object the last check saw archived, not yet asked for. */
async function restoreObject(s3: S3Client): Promise<void> {
  const candidates = LC_KEYS.filter((k) => {
    const state = settledState(k);
    return !busy.has(k) && state !== undefined && seen.get(k)?.md5 === state && seen.get(k)?.rank === RANK.GLACIER && restoreAsked.get(k) !== state;
  });
  const key = candidates[int(candidates.length)];
  if (!key) return;
  const md5 = settledState(key)!;
  busy.add(key);
  stats.restore++;
  try {
    const Tier = int(2) === 0 ? 'Expedited' : 'Standard';
    await s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: key, RestoreRequest: { Days: RESTORE_DAYS, GlacierJobParameters: { Tier } } }));
    restoreAsked.set(key, md5);
    stats.acknowledged++;
  } catch (err) {
    // A restore that a cut-off request of ours started is just as acknowledged.
    if ((err as { name?: string }).name === 'RestoreAlreadyInProgress') restoreAsked.set(key, md5);
    else noteFailure(`RestoreObject ${key}`, err);
  } finally {
    busy.delete(key);
  }
}

/** The fifth client: keeps the lifecycle prefixes supplied with objects, and restores archived ones. */
async function lifecycleOperation(s3: S3Client, tag: number): Promise<void> {
  const kind = int(20);
  if (kind < 8) {
    const [key] = freeKeys(LC_KEYS, 1) ?? [];
    if (key) await putObject(s3, key, someBody(tag, 200_000));
  } else if (kind < 11) {
    const [key] = freeKeys(LC_KEYS, 1) ?? [];
    if (key) await multipartUpload(s3, key, [patternBytes(1 + int(100_000), tag)]);
  } else if (kind < 16) {
    const [key] = freeKeys(EXP_KEYS, 1) ?? [];
    if (key) await putObject(s3, key, someBody(tag, 100_000));
  } else if (kind < 18) {
    await restoreObject(s3);
  } else {
    const keys = freeKeys(LIFECYCLE_KEYS, 1 + int(2));
    if (keys) await deleteObjects(s3, keys);
  }
}

const versionedBucket = 'kill-cycles-versions';
const VERSIONED_KEYS = Array.from({ length: 6 }, (_, i) => `v-${i}`);
const LOCK_UNTIL = new Date(Date.UTC(2099, 0, 1));
/** A version (or delete marker) of the versioned bucket, as the test knows it. */
interface KnownVersion {
  readonly key: string;
  /** MD5 of the bytes; undefined for a delete marker. */
  readonly md5: string | undefined;
  readonly locked: boolean;
  /** 'live' once its write was acknowledged or it was seen; 'deleted' once its delete was; 'maybe' while a delete of it was cut off. */
  state: 'live' | 'deleted' | 'maybe';
}
const versions = new Map<string, KnownVersion>();
/** Writes cut off by a kill, whose version may or may not have been committed: key and MD5 (undefined: a delete marker). */
const cutWrites: { key: string; md5: string | undefined; locked: boolean }[] = [];
const versionStats = { puts: 0, locked: 0, markers: 0, versionDeletes: 0, lockedRefused: 0, adopted: 0 };

/** The sixth client: versions, delete markers, deletes by id, and refused deletes of locked versions. */
async function versionedOperation(s3: S3Client, tag: number): Promise<void> {
  const kind = int(10);
  const [key] = freeKeys(VERSIONED_KEYS, 1) ?? [];
  if (!key) return;
  busy.add(key);
  try {
    if (kind < 4) {
      const body = someBody(tag, 120_000);
      const locked = int(4) === 0;
      const pending = { key, md5: md5Hex(body), locked };
      cutWrites.push(pending);
      try {
        const out = await s3.send(new PutObjectCommand({
          Bucket: versionedBucket, Key: key, Body: body, ...(locked ? { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: LOCK_UNTIL } : {}),
        }));
        versions.set(out.VersionId!, { key, md5: pending.md5, locked, state: 'live' });
        versionStats.puts++;
        if (locked) versionStats.locked++;
        stats.acknowledged++;
      } catch (err) {
        noteFailure(`versioned PutObject ${key}`, err);
        return;
      }
      cutWrites.splice(cutWrites.indexOf(pending), 1);
    } else if (kind < 6) {
      const pending = { key, md5: undefined, locked: false };
      cutWrites.push(pending);
      try {
        const out = await s3.send(new DeleteObjectCommand({ Bucket: versionedBucket, Key: key }));
        assert.equal(out.DeleteMarker, true);
        versions.set(out.VersionId!, { key, md5: undefined, locked: false, state: 'live' });
        versionStats.markers++;
        stats.acknowledged++;
      } catch (err) {
        noteFailure(`versioned DeleteObject ${key}`, err);
        return;
      }
      cutWrites.splice(cutWrites.indexOf(pending), 1);
    } else {
      // Delete one version of the key by id: an unlocked one usually, a locked one now and then (refused).
      const wantLocked = int(5) === 0;
      const candidates = [...versions].filter(([, v]) => v.key === key && v.state === 'live' && v.locked === wantLocked);
      const chosen = candidates[int(candidates.length)];
      if (!chosen) return;
      const [versionId, version] = chosen;
      if (!version.locked) version.state = 'maybe';
      try {
        await s3.send(new DeleteObjectCommand({ Bucket: versionedBucket, Key: key, VersionId: versionId }));
        assert.ok(!version.locked, `a locked version ${key}@${versionId} was deleted`);
        version.state = 'deleted';
        versionStats.versionDeletes++;
        stats.acknowledged++;
      } catch (err) {
        const { name } = err as { name?: string };
        if (version.locked && name === 'AccessDenied') {
          versionStats.lockedRefused++;
          stats.acknowledged++;
        } else {
          noteFailure(`versioned DeleteObject ${key}?versionId=${versionId}`, err);
        }
      }
    }
  } finally {
    busy.delete(key);
  }
}

/**
 * After a restart: every version listed is known (or came from a cut-off write, and is whole),
 * none whose delete was acknowledged is back, none acknowledged (or locked) is missing, and a
 * key's current version is its newest listed one.
 */
async function checkVersionedKeys(s3: S3Client, where: string): Promise<void> {
  const listed: { key: string; versionId: string; isLatest: boolean; marker: boolean; etag?: string }[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const out = await s3.send(new ListObjectVersionsCommand({
      Bucket: versionedBucket, ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}), ...(versionIdMarker !== undefined ? { VersionIdMarker: versionIdMarker } : {}),
    }));
    for (const v of out.Versions ?? []) listed.push({ key: v.Key!, versionId: v.VersionId!, isLatest: v.IsLatest!, marker: false, etag: v.ETag! });
    for (const m of out.DeleteMarkers ?? []) listed.push({ key: m.Key!, versionId: m.VersionId!, isLatest: m.IsLatest!, marker: true });
    if (!out.IsTruncated) break;
    keyMarker = out.NextKeyMarker;
    versionIdMarker = out.NextVersionIdMarker;
  }
  const present = new Set(listed.map((v) => v.versionId));
  for (const v of listed) {
    const name = `${where}: ${v.key}@${v.versionId}`;
    let known = versions.get(v.versionId);
    if (!known) {
      // Only a cut-off write of this key can have made it; it must be whole.
      let md5: string | undefined;
      if (!v.marker) {
        const got = await s3.send(new GetObjectCommand({ Bucket: versionedBucket, Key: v.key, VersionId: v.versionId }));
        md5 = md5Hex(await bodyBytes(got.Body));
        assert.equal(v.etag, `"${md5}"`, `${name}: a version from a cut-off write is whole`);
      }
      const origin = cutWrites.find((w) => w.key === v.key && w.md5 === md5);
      assert.ok(origin, `${name}: a version nobody wrote (${v.marker ? 'delete marker' : md5})`);
      known = { key: v.key, md5, locked: origin.locked, state: 'live' };
      versions.set(v.versionId, known);
      versionStats.adopted++;
    }
    assert.notEqual(known.state, 'deleted', `${name}: its acknowledged delete was undone`);
    assert.equal(known.key, v.key, name);
    if (!v.marker) assert.equal(v.etag, `"${known.md5}"`, `${name}: ETag`);
    known.state = 'live';
  }
  for (const [versionId, v] of versions) {
    if (present.has(versionId)) continue;
    assert.ok(!v.locked, `${where}: locked version ${v.key}@${versionId} was removed`);
    assert.notEqual(v.state, 'live', `${where}: acknowledged ${v.md5 === undefined ? 'delete marker' : 'version'} ${v.key}@${versionId} was lost`);
    versions.delete(versionId);
  }
  cutWrites.length = 0;
  for (const key of VERSIONED_KEYS) {
    const ofKey = listed.filter((v) => v.key === key);
    assert.deepEqual(ofKey.filter((v) => v.isLatest).length, ofKey.length > 0 ? 1 : 0, `${where}: ${key} has one current version`);
    const latest = ofKey.find((v) => v.isLatest);
    try {
      const head = await s3.send(new HeadObjectCommand({ Bucket: versionedBucket, Key: key }));
      assert.equal(head.VersionId, latest?.versionId, `${where}: HEAD ${key} is its current version`);
      assert.ok(latest && !latest.marker, `${where}: ${key} reads as present though its current version is a marker`);
    } catch (err) {
      if ((err as { name?: string }).name !== 'NotFound') throw err;
      assert.ok(!latest || latest.marker, `${where}: ${key} reads as deleted though its current version is ${latest?.versionId}`);
    }
  }
}

/** After a restart: every client key holds one of its possible states, whole; that state is now settled. */
async function checkClientKeys(s3: S3Client, where: string): Promise<void> {
  const present = new Map<string, number>();
  for (const key of KEYS) {
    let state = ABSENT;
    try {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = await bodyBytes(got.Body);
      assert.equal(bytes.length, got.ContentLength, `${where}: ${key} delivered its whole length`);
      state = md5Hex(bytes);
      if (!got.ETag!.includes('-')) assert.equal(got.ETag, `"${state}"`, `${where}: ETag of ${key} matches its bytes`);
      present.set(key, bytes.length);
    } catch (err) {
      if ((err as { name?: string }).name !== 'NoSuchKey') throw err;
    }
    const allowed = possible.get(key)!;
    assert.ok(allowed.has(state), `${where}: ${key} holds ${state}, expected one of ${[...allowed.keys()].join(', ')}`);
    possible.set(key, new Map([[state, allowed.get(state)!]]));
  }
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'key-' }));
  assert.deepEqual(new Map((listed.Contents ?? []).map((o) => [o.Key!, o.Size!])), present, `${where}: the listing agrees with GET`);
}

interface ObjectRow {
  readonly etag: string;
  readonly size: number;
  readonly last_modified: number;
  readonly storage_class: string;
  readonly cold: string | null;
  readonly has_inline: number;
  readonly extents: string | null;
}

/** The storage class furthest down the rules allow for an object of this age. */
function maxRank(key: string, ageMs: number): number {
  if (!key.startsWith('lc/')) return RANK.STANDARD;
  if (ageMs >= GLACIER_DAYS * DAY_MS) return RANK.GLACIER;
  return ageMs >= IA_DAYS * DAY_MS ? RANK.STANDARD_IA : RANK.STANDARD;
}

function settle(key: string, md5: string, write: Write, now?: Omit<Seen, 'md5'>): void {
  possible.set(key, new Map([[md5, write]]));
  if (now) seen.set(key, { md5, ...now });
  else seen.delete(key);
  if (restoreAsked.get(key) !== md5) restoreAsked.delete(key);
}

/**
 * Checks one lifecycle key against what was written and what its rule allows
 * at its age. The worker runs meanwhile, so a state it is about to leave (an
 * object about to move to cold storage, or changed between the metadata read
 * and the request) is reported, to be looked at again.
 */
async function checkLifecycleKey(s3: S3Client, db: Database.Database, key: string, where: string, final: boolean): Promise<string | undefined> {
  const row = db.prepare(`SELECT etag, size, last_modified, storage_class, cold, b.id IS NOT NULL AS has_inline, extents
    FROM objects o LEFT JOIN object_bodies b ON b.id = o.id WHERE o.bucket = ? AND o.key = ?`)
    .get(bucket, key) as ObjectRow | undefined;
  const readAt = Date.now();
  const allowed = possible.get(key)!;
  const states = [...allowed].map(([md5, w]) => `${md5} (sent ${readAt - w.sentAt} ms ago)`).join(', ');
  if (!row) {
    const expirable = key.startsWith('exp/') ? [...allowed].find(([md5, w]) => md5 !== ABSENT && w.sentAt + EXPIRE_DAYS * DAY_MS <= readAt) : undefined;
    assert.ok(allowed.has(ABSENT) || expirable, `${where}: ${key} is gone, though not deleted nor old enough to expire; expected ${states}`);
    if (!allowed.has(ABSENT)) done.expired.add(`${key}@${expirable![0]}`);
    settle(key, ABSENT, NO_WRITE);
    return undefined;
  }
  const match = [...allowed].find(([md5, w]) => md5 !== ABSENT && w.etag === row.etag);
  assert.ok(match, `${where}: ${key} holds ETag ${row.etag}, expected one of ${states}`);
  const [md5, write] = match;
  const name = `${where}: ${key}@${md5}`;
  assert.ok(row.last_modified >= write.sentAt, `${name}: Last-Modified is not before the write was sent`);
  const rank = RANK[row.storage_class];
  assert.ok(rank !== undefined, `${name}: storage class ${row.storage_class}`);
  const age = (readAt - row.last_modified) / DAY_MS;
  assert.ok(rank <= maxRank(key, readAt - row.last_modified), `${name} is ${row.storage_class} at ${age.toFixed(1)} days`);
  const before = seen.get(key)?.md5 === md5 ? seen.get(key) : undefined;
  assert.ok(rank >= (before?.rank ?? 0), `${name} moved back up from rank ${before?.rank} to ${row.storage_class}`);
  if (rank !== RANK.GLACIER) {
    let got;
    try {
      got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (err) {
      const moved = (err as { name?: string }).name === (key.startsWith('lc/') ? 'InvalidObjectState' : 'NoSuchKey');
      if (moved) return 'changed by the worker while checked';
      throw err;
    }
    assert.equal(got.ETag, `"${row.etag}"`, name);
    assert.equal(md5Hex(await bodyBytes(got.Body)), md5, `${name}: bytes`);
    const served = RANK[got.StorageClass ?? 'STANDARD'];
    assert.ok(served >= rank && served <= maxRank(key, Date.now() - row.last_modified), `${name}: GET says ${got.StorageClass}`);
    if (served === RANK.STANDARD_IA) done.movedToIA.add(`${key}@${md5}`);
    settle(key, md5, write, { rank: served, cold: undefined, restored: false });
    return undefined;
  }
  if (row.cold === null) return 'waiting for its move to cold storage';
  if (before?.cold !== undefined) assert.equal(row.cold, before.cold, `${name}: archived once, to the same cold file`);
  assert.equal(row.has_inline, 0, `${name}: no inline copy left`);
  assert.equal(row.extents, null, `${name}: no hot blob left`);
  const cold = readStoredFile(coldDir, row.cold);
  assert.equal(cold.length, row.size, `${name}: cold file size`);
  assert.equal(md5Hex(cold), md5, `${name}: cold file bytes`);
  done.archived.add(`${key}@${md5}`);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  assert.equal(head.StorageClass, 'GLACIER', name);
  assert.equal(head.ETag, `"${row.etag}"`, name);
  const restored = head.Restore?.startsWith('ongoing-request="false"') ?? false;
  if (restoreAsked.get(key) === md5) {
    assert.match(head.Restore ?? '', /^ongoing-request="(true|false)"/, `${name}: an acknowledged restore is in progress or done`);
    if (final && !restored) return 'waiting for its restore';
  }
  if (before?.restored) assert.ok(restored, `${name}: a completed restore stays completed`);
  if (restored) {
    assert.equal(md5Hex(await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body)), md5, `${name}: restored bytes`);
    done.restored.add(`${key}@${md5}`);
  }
  settle(key, md5, write, { rank, cold: row.cold, restored });
  return undefined;
}

/** Polls `probe` until it reports nothing left to wait for; fails with what it last reported. */
async function until(what: string, probe: () => Promise<string | undefined> | string | undefined, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const waiting = await probe();
    if (waiting === undefined) return;
    if (Date.now() > deadline) assert.fail(`${what}: still ${waiting}`);
    await sleep(20);
  }
}

async function checkLifecycleKeys(s3: S3Client, where: string, final = false): Promise<void> {
  const db = openMetadata(dataDir);
  try {
    for (const key of LIFECYCLE_KEYS) await until(`${where}: ${key}`, () => checkLifecycleKey(s3, db, key, where, final));
  } finally {
    db.close();
  }
}

/**
 * What is wrong with the blob files: a cold file shared or missing, or a file
 * (hot or cold) written before `bornBefore` that no metadata refers to.
 */
function fileProblems(bornBefore: number): string | undefined {
  const referenced = readMetadata(dataDir, referencedBlobs);
  const cold = new Set(referenced.cold);
  if (cold.size !== referenced.cold.length) return 'a cold file shared by two objects';
  const coldFiles = storedFiles(coldDir);
  const onDisk = new Set(coldFiles.map((f) => f.id));
  const missing = referenced.cold.filter((id) => !onDisk.has(id));
  if (missing.length > 0) return `cold files of archived objects missing: ${missing.join(', ')}`;
  const stray = [
    ...coldFiles.filter((f) => f.mtimeMs < bornBefore && !cold.has(f.id)).map((f) => `cold ${f.id}`),
    ...storedFiles(join(dataDir, 'blobs')).filter((f) => f.mtimeMs < bornBefore && !referenced.hot.has(f.id)).map((f) => `hot ${f.id}`),
  ];
  return stray.length > 0 ? `unreferenced files: ${stray.join(', ')}` : undefined;
}

/** What the dead server left: whether the worker was mid-pass (its cursor saved), and cold files written but not committed. */
function inspectAfterKill(): void {
  readMetadata(dataDir, (db) => {
    if (db.prepare('SELECT 1 FROM lifecycle_cursor').get() !== undefined) cuts.lifecycle++;
    const known = db.prepare('SELECT 1 FROM blobs WHERE id = ?');
    if (storedFiles(coldDir).some((f) => known.get(f.id) === undefined)) stats.archiveCut++;
  });
}

/**
 * When to kill: even cycles after a random delay; odd ones as soon as a
 * request of the targeted kind is on the wire (or a lifecycle pass has saved
 * its cursor), plus a few milliseconds so the kill lands at varied points in it.
 */
async function killMoment(cycle: number): Promise<void> {
  if (cycle % 2 === 0) {
    await sleep(int(300));
    return;
  }
  const target = TARGETS[(cycle >> 1) % TARGETS.length]!;
  const deadline = Date.now() + 2000;
  if (target === 'lifecycle') {
    const db = openMetadata(dataDir);
    try {
      const cursor = db.prepare('SELECT 1 FROM lifecycle_cursor');
      while (Date.now() < deadline && cursor.get() === undefined) await sleep(2);
    } finally {
      db.close();
    }
    await sleep(int(20));
  } else {
    while (Date.now() < deadline && !wire.inFlight().some((r) => r.operation === target)) await sleep(1);
    await sleep(int(5));
  }
}

function isTarget(operation: WireOperation): operation is Exclude<Target, 'lifecycle'> {
  return (TARGETS as readonly string[]).includes(operation);
}

/** Everything a check after a restart looks at. */
async function checkAll(s3: S3Client, where: string, bornBefore: number, final = false): Promise<void> {
  await checkClientKeys(s3, where);
  await checkVersionedKeys(s3, where);
  await checkLifecycleKeys(s3, where, final);
  await until(`${where}: blob files`, () => fileProblems(bornBefore));
}

test(`${CYCLES} SIGKILL/restart cycles under concurrent load and a running lifecycle keep every acknowledged write and nothing partial`, async () => {
  server = await startServer({ dataDir, args: SERVER_ARGS });
  let s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new CreateBucketCommand({ Bucket: versionedBucket, ObjectLockEnabledForBucket: true }));
  await s3.send(new PutBucketLifecycleConfigurationCommand({
    Bucket: bucket,
    LifecycleConfiguration: {
      Rules: [
        { ID: 'tier', Status: 'Enabled', Filter: { Prefix: 'lc/' }, Transitions: [{ Days: IA_DAYS, StorageClass: 'STANDARD_IA' }, { Days: GLACIER_DAYS, StorageClass: 'GLACIER' }] },
        { ID: 'expire', Status: 'Enabled', Filter: { Prefix: 'exp/' }, Expiration: { Days: EXPIRE_DAYS } },
        { ID: 'abort', Status: 'Enabled', Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: ABORT_DAYS } },
      ],
    },
  }));
  let tag = 1;
  const started = Date.now();
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    let stop = false;
    const clients = Array.from({ length: CLIENTS }, async () => {
      while (!stop) await clientOperation(s3, tag++);
    });
    clients.push((async () => {
      while (!stop) await lifecycleOperation(s3, tag++);
    })(), (async () => {
      while (!stop) await versionedOperation(s3, tag++);
    })());
    await killMoment(cycle);
    // No new operations; those in flight are cut off by the kill.
    stop = true;
    const inFlight = wire.inFlight();
    await server.kill();
    await Promise.all(clients);
    for (const r of inFlight) if (!r.answered && isTarget(r.operation)) cuts[r.operation]++;
    inspectAfterKill();
    s3.destroy();
    const bornBefore = Date.now();
    server = await startServer({ dataDir, args: SERVER_ARGS });
    s3 = s3Client(server);
    await checkAll(s3, `cycle ${cycle} (seed ${SEED})`, bornBefore);
  }
  // With the load stopped, the worker catches up: all lc/ objects archived, exp/ ones expired, restores done, stale uploads aborted.
  await until('the lifecycle to catch up', () => readMetadata(dataDir, (db) => {
    const counts = db.prepare(`SELECT
      (SELECT count(*) FROM objects WHERE key LIKE 'lc/%' AND (storage_class <> 'GLACIER' OR cold IS NULL)) AS unarchived,
      (SELECT count(*) FROM objects WHERE key LIKE 'exp/%') AS unexpired,
      (SELECT count(*) FROM objects WHERE restore IS NOT NULL AND json_extract(restore, '$.copy') IS NULL) AS restoring,
      (SELECT count(*) FROM uploads) AS uploads`).get() as Record<string, number>;
    return Object.values(counts).some((n) => n > 0) ? JSON.stringify(counts) : undefined;
  }), 30_000);
  await checkAll(s3, 'at the end', Date.now(), true);
  const archived = readMetadata(dataDir, (db) => (db.prepare('SELECT count(*) AS n FROM objects WHERE cold IS NOT NULL').get() as { n: number }).n);
  assert.equal(storedFiles(coldDir).length, archived, 'one cold file per archived object: nothing archived twice, nothing left behind');
  s3.destroy();
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  const work = Object.fromEntries(Object.entries(done).map(([k, v]) => [k, v.size]));
  console.log(`${CYCLES} kill cycles in ${seconds} s, seed ${SEED}: ${JSON.stringify({ ...stats, cuts, lifecycle: work, versions: versionStats })}`);
  assert.deepEqual(unexpected, [], 'no request failed but by a kill');
  assert.ok(stats.acknowledged > CYCLES, 'the load did real work between kills');
  for (const target of TARGETS) assert.ok(cuts[target] >= MIN_CUTS, `kills landed inside ${target} at least ${MIN_CUTS} times (${cuts[target]})`);
  assert.ok(versionStats.versionDeletes >= MIN_CUTS && versionStats.markers >= MIN_CUTS && versionStats.lockedRefused >= 1, `versioned work done: ${JSON.stringify(versionStats)}`);
  for (const [what, keys] of Object.entries(done)) assert.ok(keys.size >= MIN_CUTS, `lifecycle work seen: ${what} for at least ${MIN_CUTS} objects (${keys.size})`);
});
