import { S3Error } from '../errors.js';
import { sendEmpty } from '../http/respond.js';
import { isArchiveClass } from '../lifecycle/archive.js';
import { daysAfter, RESTORE_TIERS, restoreReadyAt, type RestoreTier } from '../lifecycle/settings.js';
import type { RestoreState } from '../store/types.js';
import { childrenOf, parseXml, textOf } from '../xml.js';
import { readSmallBody } from './body.js';
import type { RequestContext } from './context.js';
import { loadObject } from './get.js';

const MAX_RESTORE_XML = 64 * 1024;
/** S3's largest restore period. */
const MAX_DAYS = 2_147_483_647;

function restoreRequestOf(text: string): { days: number; tier: RestoreTier } {
  const doc = parseXml(text, 'RestoreRequest');
  const daysText = textOf(doc, 'Days');
  if (daysText === undefined) throw new S3Error('MalformedXML');
  if (!/^\s*-?\d+\s*$/.test(daysText)) throw new S3Error('MalformedXML');
  const days = Number(daysText);
  if (days < 1 || days > MAX_DAYS) throw new S3Error('InvalidArgument', 'Days must be a positive integer', { ArgumentName: 'Days', ArgumentValue: daysText.trim() });
  const jobs = childrenOf(doc, 'GlacierJobParameters');
  if (jobs.length > 1) throw new S3Error('MalformedXML');
  const tierText = jobs.length === 1 ? textOf(jobs[0], 'Tier') : textOf(doc, 'Tier');
  const tier = (tierText ?? 'Standard') as RestoreTier;
  if (!RESTORE_TIERS.includes(tier)) throw new S3Error('MalformedXML');
  return { days, tier };
}

/**
 * RestoreObject: asks for a temporary hot copy of an archived object. 202 when
 * a restore starts, 200 when the object is already restored (its expiry is
 * moved), 409 RestoreAlreadyInProgress while one runs. The lifecycle worker
 * completes restores and drops expired copies.
 */
export async function restoreObject(ctx: RequestContext): Promise<void> {
  const request = restoreRequestOf((await readSmallBody(ctx.body(), MAX_RESTORE_XML)).toString('utf8'));
  const record = await loadObject(ctx, 'READ');
  if (!isArchiveClass(record.storageClass)) {
    throw new S3Error('InvalidObjectState', 'Restore is not allowed for the object\'s current storage class', { StorageClass: record.storageClass });
  }
  const settings = ctx.settings.lifecycle;
  const now = Date.now();
  const current = record.restore;
  if (current && current.copy === undefined) throw new S3Error('RestoreAlreadyInProgress');
  const next: RestoreState = current?.copy !== undefined
    ? { ...current, days: request.days, expiresAt: daysAfter(settings, now, request.days) }
    : { tier: request.tier, days: request.days, readyAt: restoreReadyAt(settings, now, request.tier) };
  // Another request changed the object meanwhile: it is a new object now, not restorable by this request.
  if (!(await ctx.store.metadata.lifecycle.setRestore(record, next))) throw new S3Error('NoSuchKey', undefined, { Key: record.key });
  sendEmpty(ctx.res, current ? 200 : 202);
}
