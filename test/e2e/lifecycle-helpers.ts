/**
 * Helpers for the lifecycle tests: filling and listing a bucket, lifecycle
 * Dates, reading the cold and hot folders of a server's data folder, and the
 * lifecycle counters on its admin port (its metadata: `data-folder.ts`).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  ListObjectVersionsCommand, ListObjectsV2Command, PutBucketLifecycleConfigurationCommand, PutObjectCommand, type LifecycleRule, type S3Client,
} from '@aws-sdk/client-s3';
import type { RunningServer } from './harness.js';
import { adminUrl, fetchText, sample } from './production-helpers.js';
import { walk } from './s3-helpers.js';

export async function putLifecycle(s3: S3Client, bucket: string, rules: LifecycleRule[]): Promise<void> {
  await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules } }));
}

/** PUTs every object, `concurrency` at a time. */
export async function putAll(s3: S3Client, bucket: string, objects: ReadonlyMap<string, Buffer>, concurrency = 16): Promise<void> {
  const queue = [...objects];
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: next[0], Body: next[1] }));
    }
  }));
}

/** Every key of a bucket with its storage class, over as many pages as it takes. */
export async function storageClassesOf(s3: S3Client, bucket: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.set(o.Key!, o.StorageClass!);
    token = page.NextContinuationToken;
  } while (token !== undefined);
  return out;
}

/** A version or delete marker as ListObjectVersions shows it. */
export interface ListedVersion {
  readonly key: string;
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly deleteMarker: boolean;
  readonly storageClass?: string;
}

/** Every version and delete marker of a bucket, over as many pages as it takes. */
export async function versionsOf(s3: S3Client, bucket: string): Promise<ListedVersion[]> {
  const out: ListedVersion[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    for (const v of page.Versions ?? []) {
      out.push({ key: v.Key!, versionId: v.VersionId!, isLatest: v.IsLatest!, deleteMarker: false, storageClass: v.StorageClass! });
    }
    for (const m of page.DeleteMarkers ?? []) out.push({ key: m.Key!, versionId: m.VersionId!, isLatest: m.IsLatest!, deleteMarker: true });
    if (!page.IsTruncated) return out;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
}

/** Midnight UTC `days` days from today's (negative: in the past), as lifecycle Dates must be. */
export function midnightUtc(days: number): Date {
  const dayMs = 86_400_000;
  return new Date((Math.floor(Date.now() / dayMs) + days) * dayMs);
}

/** Contents of every file under a folder; files the server removes meanwhile (blob collection) are left out. */
export function filesUnder(dir: string): Buffer[] {
  if (!existsSync(dir)) return [];
  const contents: Buffer[] = [];
  for (const path of walk(dir).map((rel) => join(dir, rel))) {
    try {
      if (statSync(path).isFile()) contents.push(readFileSync(path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return contents;
}

/** Files in a fanned-out folder (cold or hot blobs: one level of sub-folders). */
export function fileCount(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const folder of readdirSync(dir)) n += readdirSync(join(dir, folder)).length;
  return n;
}

/** The lifecycle worker's counters as the admin port's /metrics shows them; a counter never incremented is 0. */
export interface LifecycleCounts {
  transitions(storageClass: string): number;
  readonly archived: number;
  readonly expirations: number;
}

export async function lifecycleCounts(server: RunningServer): Promise<LifecycleCounts> {
  const { status, body } = await fetchText(`${adminUrl(server)}/metrics`);
  if (status !== 200) throw new Error(`/metrics answered ${status}`);
  return {
    transitions: (storageClass) => sample(body, 'cairn_lifecycle_transitions_total', { storage_class: storageClass }) ?? 0,
    archived: sample(body, 'cairn_lifecycle_archived_total') ?? 0,
    expirations: sample(body, 'cairn_lifecycle_expirations_total') ?? 0,
  };
}
