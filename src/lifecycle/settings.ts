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

/** When a restore requested now with `tier` completes. */
export function restoreReadyAt(s: LifecycleSettings, now: number, tier: RestoreTier): number {
  return now + scaled(s, s.restoreSeconds[tier] * 1000);
}
