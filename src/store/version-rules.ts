/**
 * S3's versioning rules, as one pure module every engine executes (DESIGN.md:
 * no engine re-derives them). Given a bucket's versioning status, they say which
 * id a write gets, which existing version it replaces, and what a delete makes.
 * Engines do the I/O; nothing here reads or writes storage.
 */
import { randomBytes } from 'node:crypto';
import type { Bucket, VersionId } from './types.js';

/** A bucket's versioning state; a bucket never returns to Unversioned once enabled. */
export type VersioningStatus = 'Unversioned' | 'Enabled' | 'Suspended';

/** The version every object written while versioning was off (never enabled, or Suspended) has. */
export const NULL_VERSION: VersionId = 'null';

export function versioningOf(bucket: Pick<Bucket, 'configs'>): VersioningStatus {
  const status = bucket.configs.versioning;
  return status === 'Enabled' || status === 'Suspended' ? status : 'Unversioned';
}

/** A fresh version id: 32 URL-safe characters, as S3's are; opaque to clients. */
export function mintVersionId(): VersionId {
  return randomBytes(24).toString('base64url');
}

/**
 * What a write does to a key's versions: the id the new version gets and
 * whether it replaces the key's `null` version (which is then released, locks
 * permitting). Under Enabled the new version goes on top and nothing is replaced.
 */
export interface WritePlan {
  readonly versionId: VersionId;
  readonly replacesNull: boolean;
}

export function planWrite(status: VersioningStatus, mint: () => VersionId = mintVersionId): WritePlan {
  return status === 'Enabled' ? { versionId: mint(), replacesNull: false } : { versionId: NULL_VERSION, replacesNull: true };
}

/**
 * What a DELETE without a version id does. Unversioned: the object goes.
 * Enabled: a delete marker goes on top, nothing is removed. Suspended: a `null`
 * delete marker goes on top, replacing the key's `null` version.
 */
export type DeletePlan =
  | { readonly kind: 'remove-null' }
  | { readonly kind: 'marker'; readonly versionId: VersionId; readonly replacesNull: boolean };

export function planDelete(status: VersioningStatus, mint: () => VersionId = mintVersionId): DeletePlan {
  if (status === 'Unversioned') return { kind: 'remove-null' };
  return { kind: 'marker', ...planWrite(status, mint) };
}
