/**
 * Object Lock: the bucket's lock configuration (kept in its configuration slot
 * as JSON), each version's retention and legal hold (GET/PUT ?retention and
 * ?legal-hold), and the x-amz-object-lock-* headers of writes. The store
 * enforces them (src/store/lock-rules.ts) inside the transactions that remove
 * or change versions, so no request can race past a lock.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors.js';
import { isoDate, sendEmpty, sendXml } from '../http/respond.js';
import type { Bucket, Retention, RetentionMode } from '../store/types.js';
import { versioningOf } from '../store/version-rules.js';
import { childrenOf, onlyKnownChildren, parseXml, textOf, type ParsedXml } from '../xml.js';
import { readSmallBody } from './body.js';
import { bucketOf, keyOf, type RequestContext } from './context.js';
import { loadObject } from './get.js';
import { versionHeader } from './versions.js';

const MAX_LOCK_XML = 4 * 1024;
const MODES: readonly RetentionMode[] = ['GOVERNANCE', 'COMPLIANCE'];
/** S3's bounds on a default retention period. */
const MAX_DAYS = 36_500;
const MAX_YEARS = 100;
const DAY_MS = 86_400_000;

/** A bucket's lock configuration as stored: enabled at creation, optionally with a default retention. */
export interface ObjectLockConfig {
  readonly enabled: true;
  readonly rule?: { readonly mode: RetentionMode; readonly days?: number; readonly years?: number };
}

export function objectLockOf(bucket: Pick<Bucket, 'configs'>): ObjectLockConfig | undefined {
  const json = bucket.configs['object-lock'];
  return json === undefined ? undefined : JSON.parse(json) as ObjectLockConfig;
}

export function objectLockEnabled(bucket: Pick<Bucket, 'configs'>): boolean {
  return objectLockOf(bucket)?.enabled === true;
}

/** CreateBucket's x-amz-bucket-object-lock-enabled: the configuration slots such a bucket starts with (lock needs versioning). */
export function lockedBucketConfigs(headers: IncomingHttpHeaders): Bucket['configs'] {
  const flag = String(headers['x-amz-bucket-object-lock-enabled'] ?? '').toLowerCase();
  if (flag !== 'true') return {};
  return { versioning: 'Enabled', 'object-lock': JSON.stringify({ enabled: true } satisfies ObjectLockConfig) };
}

function modeOf(text: string | undefined): RetentionMode {
  const mode = MODES.find((m) => m === text?.trim());
  if (!mode) throw new S3Error('MalformedXML');
  return mode;
}

/** An ISO 8601 date; one without a zone is UTC. */
function dateOf(text: string, invalid: () => S3Error): Date {
  const trimmed = text.trim();
  const date = new Date(/(Z|[+-]\d\d:?\d\d)$/i.test(trimmed) ? trimmed : `${trimmed}Z`);
  if (!/^\d{4}-\d\d-\d\d/.test(trimmed) || Number.isNaN(date.getTime())) throw invalid();
  return date;
}

function positiveInteger(text: string): number {
  const n = Number(text.trim());
  if (!/^\s*-?\d+\s*$/.test(text) || n < 1) throw new S3Error('InvalidRetentionPeriod', 'Default retention period must be a positive integer value.');
  return n;
}

function parseLockConfiguration(text: string): ObjectLockConfig {
  const doc = parseXml(text, 'ObjectLockConfiguration');
  if (!onlyKnownChildren(doc, new Set(['ObjectLockEnabled', 'Rule']))) throw new S3Error('MalformedXML');
  if (textOf(doc, 'ObjectLockEnabled')?.trim() !== 'Enabled') throw new S3Error('MalformedXML');
  const rules = childrenOf(doc, 'Rule');
  if (rules.length > 1) throw new S3Error('MalformedXML');
  if (rules.length === 0) return { enabled: true };
  const retentions = childrenOf(rules[0], 'DefaultRetention');
  if (retentions.length !== 1) throw new S3Error('MalformedXML');
  const retention: ParsedXml = retentions[0]!;
  if (!onlyKnownChildren(retention, new Set(['Mode', 'Days', 'Years']))) throw new S3Error('MalformedXML');
  const mode = modeOf(textOf(retention, 'Mode'));
  const days = textOf(retention, 'Days');
  const years = textOf(retention, 'Years');
  if ((days === undefined) === (years === undefined)) throw new S3Error('MalformedXML');
  if (days !== undefined) {
    const n = positiveInteger(days);
    if (n > MAX_DAYS) throw new S3Error('InvalidRetentionPeriod', `Default retention period must be at most ${MAX_DAYS} days.`);
    return { enabled: true, rule: { mode, days: n } };
  }
  const n = positiveInteger(years!);
  if (n > MAX_YEARS) throw new S3Error('InvalidRetentionPeriod', `Default retention period must be at most ${MAX_YEARS} years.`);
  return { enabled: true, rule: { mode, years: n } };
}

export async function putObjectLockConfiguration(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const config = parseLockConfiguration((await readSmallBody(ctx.body(), MAX_LOCK_XML)).toString('utf8'));
  await ctx.store.metadata.putBucketConfig(bucket.name, 'object-lock', (current) => {
    // Lock may be turned on later only over versioning that is on (checked against the bucket as read).
    if (current === undefined && versioningOf(bucket) !== 'Enabled') {
      throw new S3Error('InvalidBucketState', 'Versioning must be \'Enabled\' on the bucket to apply a Object Lock configuration');
    }
    return JSON.stringify(config);
  });
  sendEmpty(ctx.res, 200);
}

export async function getObjectLockConfiguration(ctx: RequestContext): Promise<void> {
  const config = objectLockOf(bucketOf(ctx));
  if (!config) throw new S3Error('ObjectLockConfigurationNotFoundError', undefined, { BucketName: bucketOf(ctx).name });
  const rule = config.rule;
  sendXml(ctx.res, 200, 'ObjectLockConfiguration', {
    ObjectLockEnabled: 'Enabled',
    ...(rule ? { Rule: { DefaultRetention: { Mode: rule.mode, ...(rule.days !== undefined ? { Days: rule.days } : { Years: rule.years }) } } } : {}),
  });
}

/** Retention and legal hold are only for buckets created with Object Lock, as in S3. */
function requireLock(bucket: Bucket): void {
  if (!objectLockEnabled(bucket)) throw new S3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration');
}

function bypass(headers: IncomingHttpHeaders): boolean {
  return String(headers['x-amz-bypass-governance-retention'] ?? '').toLowerCase() === 'true';
}

function versionIdOf(ctx: RequestContext): string | undefined {
  return ctx.target.query.get('versionId') ?? undefined;
}

export async function putObjectRetention(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  requireLock(bucket);
  const doc = parseXml((await readSmallBody(ctx.body(), MAX_LOCK_XML)).toString('utf8'), 'Retention');
  if (!onlyKnownChildren(doc, new Set(['Mode', 'RetainUntilDate']))) throw new S3Error('MalformedXML');
  const modeText = textOf(doc, 'Mode');
  const untilText = textOf(doc, 'RetainUntilDate');
  // An empty Retention removes it (GOVERNANCE only with bypass; the store checks).
  let retention: Retention | null = null;
  if (modeText !== undefined || untilText !== undefined) {
    if (modeText === undefined || untilText === undefined) throw new S3Error('MalformedXML');
    const retainUntil = dateOf(untilText, () => new S3Error('MalformedXML'));
    if (retainUntil.getTime() <= Date.now()) throw new S3Error('InvalidArgument', 'The retain until date must be in the future!', { ArgumentName: 'RetainUntilDate' });
    retention = { mode: modeOf(modeText), retainUntil };
  }
  const versionId = await ctx.store.metadata.putObjectLock(bucket.name, keyOf(ctx), versionIdOf(ctx), {
    retention, bypassGovernance: bypass(ctx.req.headers),
  });
  sendEmpty(ctx.res, 200, versionHeader(bucket, versionId));
}

export async function getObjectRetention(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  requireLock(bucket);
  const record = await loadObject(ctx, 'READ');
  if (!record.retention) throw new S3Error('NoSuchObjectLockConfiguration');
  sendXml(ctx.res, 200, 'Retention', { Mode: record.retention.mode, RetainUntilDate: isoDate(record.retention.retainUntil) });
}

export async function putObjectLegalHold(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  requireLock(bucket);
  const doc = parseXml((await readSmallBody(ctx.body(), MAX_LOCK_XML)).toString('utf8'), 'LegalHold');
  const status = textOf(doc, 'Status')?.trim();
  if (status !== 'ON' && status !== 'OFF') throw new S3Error('MalformedXML');
  const versionId = await ctx.store.metadata.putObjectLock(bucket.name, keyOf(ctx), versionIdOf(ctx), { legalHold: status === 'ON' });
  sendEmpty(ctx.res, 200, versionHeader(bucket, versionId));
}

export async function getObjectLegalHold(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  requireLock(bucket);
  const record = await loadObject(ctx, 'READ');
  sendXml(ctx.res, 200, 'LegalHold', { Status: record.legalHold ? 'ON' : 'OFF' });
}

/** The lock a new version gets: its x-amz-object-lock-* headers, else the bucket's default retention. */
export interface NewVersionLock {
  readonly retention?: Retention;
  readonly legalHold?: boolean;
}

export function newVersionLock(bucket: Bucket, headers: IncomingHttpHeaders, now = Date.now()): NewVersionLock {
  const modeHeader = headers['x-amz-object-lock-mode'];
  const untilHeader = headers['x-amz-object-lock-retain-until-date'];
  const holdHeader = headers['x-amz-object-lock-legal-hold'];
  const config = objectLockOf(bucket);
  if (modeHeader === undefined && untilHeader === undefined && holdHeader === undefined) {
    const rule = config?.rule;
    if (!rule) return {};
    const until = rule.days !== undefined ? now + rule.days * DAY_MS : addYears(now, rule.years ?? 0);
    return { retention: { mode: rule.mode, retainUntil: new Date(until) } };
  }
  if (!config) throw new S3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration');
  if ((modeHeader === undefined) !== (untilHeader === undefined)) {
    throw new S3Error('InvalidArgument', 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied');
  }
  let retention: Retention | undefined;
  if (modeHeader !== undefined && untilHeader !== undefined) {
    const mode = MODES.find((m) => m === String(modeHeader));
    if (!mode) throw new S3Error('InvalidArgument', 'Unknown wormMode directive.', { ArgumentName: 'x-amz-object-lock-mode', ArgumentValue: String(modeHeader) });
    const invalidDate = (): S3Error => new S3Error('InvalidArgument', 'The retain until date must be provided in ISO 8601 format', { ArgumentName: 'x-amz-object-lock-retain-until-date' });
    const retainUntil = dateOf(String(untilHeader), invalidDate);
    if (retainUntil.getTime() <= now) throw new S3Error('InvalidArgument', 'The retain until date must be in the future!', { ArgumentName: 'x-amz-object-lock-retain-until-date' });
    retention = { mode, retainUntil };
  } else if (config.rule) {
    retention = newVersionLock(bucket, {}, now).retention;
  }
  let legalHold: boolean | undefined;
  if (holdHeader !== undefined) {
    const value = String(holdHeader);
    if (value !== 'ON' && value !== 'OFF') throw new S3Error('InvalidArgument', 'Legal Hold must be either of \'ON\' or \'OFF\'', { ArgumentName: 'x-amz-object-lock-legal-hold', ArgumentValue: value });
    legalHold = value === 'ON';
  }
  return { ...(retention ? { retention } : {}), ...(legalHold ? { legalHold } : {}) };
}

function addYears(epochMs: number, years: number): number {
  const d = new Date(epochMs);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d.getTime();
}

/** The x-amz-object-lock-* headers GET and HEAD answer for a version. */
export function lockHeaders(record: NewVersionLock): Record<string, string> {
  return {
    ...(record.retention ? { 'x-amz-object-lock-mode': record.retention.mode, 'x-amz-object-lock-retain-until-date': isoDate(record.retention.retainUntil) } : {}),
    ...(record.legalHold ? { 'x-amz-object-lock-legal-hold': 'ON' } : {}),
  };
}
