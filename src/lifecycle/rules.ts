import type { LifecycleConfiguration, LifecycleFilter, LifecycleRule, LifecycleWhen } from '../store/lifecycle-types.js';
import type { ObjectHead, TagPair, Upload } from '../store/types.js';
import { daysAfter, type LifecycleSettings } from './settings.js';

/**
 * Storage classes in S3's transition waterfall: an object only ever moves to a
 * class further down, never back up.
 */
const WATERFALL: Readonly<Record<string, number>> = {
  STANDARD: 0, REDUCED_REDUNDANCY: 0, INTELLIGENT_TIERING: 1, STANDARD_IA: 2, ONEZONE_IA: 3, GLACIER_IR: 4, GLACIER: 5, DEEP_ARCHIVE: 6,
};

function waterfallRank(storageClass: string): number {
  return WATERFALL[storageClass] ?? 0;
}

/** What the lifecycle rules ask for an object now. */
export type ObjectAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'expire' }
  | { readonly kind: 'transition'; readonly storageClass: string };

/** What an object carries that filters look at. */
interface Filterable {
  readonly key: string;
  readonly size?: number;
  readonly tags?: readonly TagPair[];
}

function matches(filter: LifecycleFilter, o: Filterable): boolean {
  if (filter.prefix !== undefined && !o.key.startsWith(filter.prefix)) return false;
  for (const t of filter.tags) if (!o.tags?.some((have) => have.key === t.key && have.value === t.value)) return false;
  if (filter.sizeGreaterThan !== undefined && !(o.size !== undefined && o.size > filter.sizeGreaterThan)) return false;
  if (filter.sizeLessThan !== undefined && !(o.size !== undefined && o.size < filter.sizeLessThan)) return false;
  return true;
}

/** When an action becomes due for something created at `created` (epoch ms). */
function dueAt(s: LifecycleSettings, when: LifecycleWhen, created: number): number | undefined {
  if (when.date !== undefined) return Date.parse(when.date);
  if (when.days !== undefined) return daysAfter(s, created, when.days);
  return undefined;
}

/** Whether a rule's Expiration (Days or Date) is due for a version created at `created`. */
function expirationDue(s: LifecycleSettings, rule: LifecycleRule, created: number, now: number): boolean {
  const due = rule.expiration && dueAt(s, rule.expiration, created);
  return due !== undefined && due <= now;
}

function enabledRulesFor(config: LifecycleConfiguration, o: Filterable): LifecycleRule[] {
  return config.rules.filter((r) => r.status === 'Enabled' && matches(r.filter, o));
}

/**
 * Evaluates the rules for the current version of an object as S3 does: an
 * expiration that is due wins; otherwise the due transition furthest down the
 * waterfall applies, if it moves the object down from where it is.
 */
export function decide(config: LifecycleConfiguration, object: ObjectHead, now: number, s: LifecycleSettings): ObjectAction {
  const created = object.lastModified.getTime();
  const rules = enabledRulesFor(config, object);
  if (rules.some((r) => expirationDue(s, r, created, now))) return { kind: 'expire' };
  const due = rules.flatMap((r) => r.transitions).filter((t) => {
    const at = dueAt(s, t, created);
    return at !== undefined && at <= now;
  });
  return transitionDown(due, object.storageClass);
}

/** The due transition furthest down the waterfall, if it moves a version down from `storageClass`. */
function transitionDown(due: readonly { storageClass: string }[], storageClass: string): ObjectAction {
  let target: string | undefined;
  for (const t of due) if (target === undefined || waterfallRank(t.storageClass) > waterfallRank(target)) target = t.storageClass;
  if (target === undefined || waterfallRank(target) <= waterfallRank(storageClass)) return { kind: 'none' };
  return { kind: 'transition', storageClass: target };
}

/** Where a version stands in its key's history when the worker looks at it. */
export interface VersionStanding {
  /** When it stopped being current (its successor's creation, epoch ms); undefined for the current version. */
  readonly noncurrentSince?: number | undefined;
  /** How many noncurrent versions of the key holding data are newer than it (delete markers are not counted). */
  readonly newerNoncurrent: number;
  /** Whether it is its key's only version. */
  readonly alone: boolean;
}

/**
 * Evaluates the rules for any version, as S3 does on versioned buckets: the
 * current version as `decide` says; a current delete marker that is its key's
 * only version expires under ExpiredObjectDeleteMarker, or under an Expiration
 * by Days (or Date) once the marker is that old; a noncurrent version by the
 * Noncurrent* actions, counted from when it became noncurrent, once at least
 * NewerNoncurrentVersions newer noncurrent versions are kept. Delete markers
 * never transition.
 */
export function decideVersion(
  config: LifecycleConfiguration, version: ObjectHead, standing: VersionStanding, now: number, s: LifecycleSettings,
): ObjectAction {
  const since = standing.noncurrentSince;
  if (since === undefined) {
    if (!version.deleteMarker) return decide(config, version, now, s);
    if (!standing.alone) return { kind: 'none' };
    const created = version.lastModified.getTime();
    const expired = enabledRulesFor(config, version)
      .some((r) => r.expiration?.expiredObjectDeleteMarker === true || expirationDue(s, r, created, now));
    return expired ? { kind: 'expire' } : { kind: 'none' };
  }
  const keeps = (newer: number | undefined): boolean => newer !== undefined && standing.newerNoncurrent < newer;
  const rules = enabledRulesFor(config, version);
  for (const { noncurrentExpiration: e } of rules) {
    if (e?.noncurrentDays !== undefined && daysAfter(s, since, e.noncurrentDays) <= now && !keeps(e.newerNoncurrentVersions)) {
      return { kind: 'expire' };
    }
  }
  if (version.deleteMarker) return { kind: 'none' };
  const due = rules.flatMap((r) => r.noncurrentTransitions)
    .filter((t) => daysAfter(s, since, t.noncurrentDays) <= now && !keeps(t.newerNoncurrentVersions));
  return transitionDown(due, version.storageClass);
}

/** Whether an unfinished multipart upload is due for abortion. */
export function shouldAbort(config: LifecycleConfiguration, upload: Upload, now: number, s: LifecycleSettings): boolean {
  return enabledRulesFor(config, { key: upload.key }).some((r) =>
    r.abortIncompleteUploadDays !== undefined && daysAfter(s, upload.initiated.getTime(), r.abortIncompleteUploadDays) <= now);
}

/** When the rules will expire an object, and the rule that will. */
export interface ExpirationNotice {
  readonly at: number;
  readonly ruleId: string;
}

/**
 * The expiration S3 announces for an object (x-amz-expiration): the earliest
 * among the enabled rules that match it, computed as the worker will apply it.
 */
export function expirationOf(config: LifecycleConfiguration, object: Filterable & { readonly lastModified: Date }, s: LifecycleSettings): ExpirationNotice | undefined {
  let earliest: ExpirationNotice | undefined;
  for (const rule of enabledRulesFor(config, object)) {
    const at = rule.expiration && dueAt(s, rule.expiration, object.lastModified.getTime());
    if (at !== undefined && (earliest === undefined || at < earliest.at)) earliest = { at, ruleId: rule.id };
  }
  return earliest;
}
