/**
 * S3's Object Lock rules, pure like version-rules.ts: whether a version may be
 * removed (or replaced) now, and whether a change to its lock state is allowed.
 * Engines call these inside the transaction that removes or changes the version.
 */
import { S3Error } from '../errors.js';
import type { LockChange, Retention } from './types.js';

/** A version's lock state, as the engine has it. */
export interface LockState {
  readonly retention?: Retention | undefined;
  readonly legalHold?: boolean | undefined;
}

/** Why the version cannot be removed now, or undefined when it can. */
export function removalBlocked(lock: LockState, now: number, bypassGovernance: boolean): S3Error | undefined {
  if (lock.legalHold) return new S3Error('AccessDenied', 'Access Denied because object protected by object lock.');
  const r = lock.retention;
  if (!r || r.retainUntil.getTime() <= now) return undefined;
  if (r.mode === 'GOVERNANCE' && bypassGovernance) return undefined;
  return new S3Error('AccessDenied', 'Access Denied because object protected by object lock.');
}

/**
 * The error a lock change answers, or undefined when allowed: an active COMPLIANCE
 * retention may only be extended (same mode); an active GOVERNANCE one may be
 * shortened, removed or changed only with the bypass header. Legal holds change freely.
 */
export function lockChangeRefused(current: LockState, change: LockChange, now: number): S3Error | undefined {
  if (change.retention === undefined) return undefined;
  const r = current.retention;
  if (!r || r.retainUntil.getTime() <= now) return undefined;
  const next = change.retention;
  const extends_ = next !== null && next.mode === r.mode && next.retainUntil.getTime() >= r.retainUntil.getTime();
  if (extends_) return undefined;
  if (r.mode === 'GOVERNANCE' && change.bypassGovernance) return undefined;
  return new S3Error('AccessDenied', 'Access Denied because object protected by object lock.');
}
