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
  for (const rule of rules) {
    const due = rule.expiration && dueAt(s, rule.expiration, created);
    if (due !== undefined && due <= now) return { kind: 'expire' };
  }
  let target: string | undefined;
  for (const rule of rules) {
    for (const t of rule.transitions) {
      const due = dueAt(s, t, created);
      if (due === undefined || due > now) continue;
      if (target === undefined || waterfallRank(t.storageClass) > waterfallRank(target)) target = t.storageClass;
    }
  }
  if (target === undefined || waterfallRank(target) <= waterfallRank(object.storageClass)) return { kind: 'none' };
  return { kind: 'transition', storageClass: target };
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
