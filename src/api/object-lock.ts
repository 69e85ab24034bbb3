/**
 * Object Lock: the bucket's lock configuration (kept in its configuration slot
 * as JSON), and each version's retention and legal hold. The store enforces them
 * (src/store/lock-rules.ts) inside the transactions that remove versions.
 */
import type { Bucket } from '../store/types.js';

/** A bucket's lock configuration as stored: enabled at creation, optionally with a default retention. */
export interface ObjectLockConfig {
  readonly enabled: true;
  readonly rule?: { readonly mode: 'GOVERNANCE' | 'COMPLIANCE'; readonly days?: number; readonly years?: number };
}

export function objectLockOf(bucket: Pick<Bucket, 'configs'>): ObjectLockConfig | undefined {
  const json = bucket.configs['object-lock'];
  return json === undefined ? undefined : JSON.parse(json) as ObjectLockConfig;
}

export function objectLockEnabled(bucket: Pick<Bucket, 'configs'>): boolean {
  return objectLockOf(bucket)?.enabled === true;
}
