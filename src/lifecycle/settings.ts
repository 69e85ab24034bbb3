import type { RestoreState } from '../store/types.js';

export type RestoreTier = RestoreState['tier'];
export const RESTORE_TIERS: readonly RestoreTier[] = ['Expedited', 'Standard', 'Bulk'];

const FULL_DAY_SECONDS = 86_400;
const DAY_MS = FULL_DAY_SECONDS * 1000;

/** How long lifecycle days and restores last. */
export interface LifecycleSettings {
  /** Seconds in one lifecycle day: 86400, or less for tests and demos. */
  readonly daySeconds: number;
  /** Time each restore tier takes, in seconds of a full-length day. */
  readonly restoreSeconds: Readonly<Record<RestoreTier, number>>;
}

export function dayMs(s: LifecycleSettings): number {
  return s.daySeconds * 1000;
}

/** A shortened day shrinks every lifecycle duration in proportion. */
function scaled(s: LifecycleSettings, fullDayMs: number): number {
  return fullDayMs * (s.daySeconds / FULL_DAY_SECONDS);
}

/**
 * When `days` days after `from` have passed, as S3 counts them: added to the
 * time and rounded up to the next midnight UTC. With a shortened day there is
 * no calendar to round to, so it is exactly `days` (short) days later.
 */
export function daysAfter(s: LifecycleSettings, from: number, days: number): number {
  if (s.daySeconds !== FULL_DAY_SECONDS) return from + days * dayMs(s);
  return Math.ceil((from + days * DAY_MS) / DAY_MS) * DAY_MS;
}

/** Rule passes per lifecycle day: a rule takes effect within 1/24 of a day of being due (an hour at full length). */
const RULE_PASSES_PER_DAY = 24;
/** However short the day, passes this close together would leave no time to serve requests. */
const MIN_PERIOD_MS = 10;

/** How often the lifecycle worker runs. */
export interface WorkerPeriods {
  /** Between passes (restores, moves to cold storage): the configured interval, shortened with the day. */
  readonly passMs: number;
  /** Between scans of the objects under rules. */
  readonly rulesMs: number;
}

/**
 * Every period of the lifecycle machinery follows the day's length, so that a
 * shortened day keeps each action within a small fraction of a day of when it
 * is due, whatever `intervalMs` says (60 s against a 1 s day would be 60 days).
 */
export function workerPeriods(s: LifecycleSettings, intervalMs: number): WorkerPeriods {
  const rulesMs = Math.max(MIN_PERIOD_MS, dayMs(s) / RULE_PASSES_PER_DAY);
  return { passMs: Math.max(MIN_PERIOD_MS, Math.min(intervalMs, rulesMs)), rulesMs };
}

/** When a restore requested now with `tier` completes. */
export function restoreReadyAt(s: LifecycleSettings, now: number, tier: RestoreTier): number {
  return now + scaled(s, s.restoreSeconds[tier] * 1000);
}
