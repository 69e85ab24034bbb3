import { createHash } from 'node:crypto';
import { allowedOnKey } from '../auth/authorize.js';
import { S3Error } from '../errors.js';
import { sendEmpty, sendXml } from '../http/respond.js';
import { childrenOf, parseXml, textOf, type XmlObject } from '../xml.js';
import { readSmallBody } from './body.js';
import { bucketOf, keyOf, type RequestContext } from './context.js';
import { contentMd5From } from './object-headers.js';

const MAX_DELETE_KEYS = 1000;

/** x-amz-bypass-governance-retention: true lets a GOVERNANCE retention be overridden (the bucket owner may). */
function bypassGovernance(ctx: RequestContext): boolean {
  return String(ctx.req.headers['x-amz-bypass-governance-retention'] ?? '').toLowerCase() === 'true';
}

export async function deleteObject(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const versionId = ctx.target.query.get('versionId') ?? undefined;
  const [outcome] = await ctx.store.metadata.deleteObjects(bucket.name, [{ key: keyOf(ctx), ...(versionId !== undefined ? { versionId } : {}) }], {
    bypassGovernance: bypassGovernance(ctx),
  });
  if (outcome!.error) throw outcome!.error;
  ctx.settings.onGarbage();
  sendEmpty(ctx.res, 204, {
    ...(outcome!.versionId !== undefined ? { 'x-amz-version-id': outcome!.versionId } : {}),
    ...(outcome!.deleteMarker ? { 'x-amz-delete-marker': 'true' } : {}),
  });
}

/** DeleteObjects: every named key (or version) in one store call, each reported on its own. */
export async function deleteObjects(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const body = await readSmallBody(ctx.body());
  const md5 = contentMd5From(ctx.req.headers);
  if (md5 !== undefined && md5 !== createHash('md5').update(body).digest('hex')) throw new S3Error('BadDigest');
  const doc = parseXml(body.toString('utf8'), 'Delete');
  const quiet = textOf(doc, 'Quiet')?.trim().toLowerCase() === 'true';
  const entries = childrenOf(doc, 'Object');
  if (entries.length === 0 || entries.length > MAX_DELETE_KEYS) throw new S3Error('MalformedXML');
  const targets = entries.map((entry) => ({ key: textOf(entry, 'Key'), versionId: textOf(entry, 'VersionId') }));
  if (targets.some((t) => t.key === undefined)) throw new S3Error('MalformedXML');
  // Each key is s3:DeleteObject (or DeleteObjectVersion) on its own ARN: a policy's Deny there holds here too.
  const permitted = (t: { key?: string; versionId?: string }): boolean => allowedOnKey(
    { ...ctx.access, action: t.versionId === undefined ? 's3:DeleteObject' : 's3:DeleteObjectVersion' }, bucket, t.key!, 'WRITE');
  const allowed = targets.filter(permitted);
  const refused = targets.filter((t) => !allowed.includes(t));
  const outcomes = allowed.length === 0 ? [] : await ctx.store.metadata.deleteObjects(
    bucket.name, allowed.map((t) => ({ key: t.key!, ...(t.versionId !== undefined ? { versionId: t.versionId } : {}) })),
    { bypassGovernance: bypassGovernance(ctx) },
  );
  ctx.settings.onGarbage();
  const deleted: XmlObject[] = [];
  const errors: XmlObject[] = refused.map((t) => ({
    Key: t.key, ...(t.versionId !== undefined ? { VersionId: t.versionId } : {}), Code: 'AccessDenied', Message: 'Access Denied',
  }));
  for (const o of outcomes) {
    const named = o.requestedVersionId !== undefined ? { VersionId: o.requestedVersionId } : {};
    if (o.error) {
      errors.push({ Key: o.key, ...named, Code: o.error.code, Message: o.error.message });
    } else if (!quiet) {
      deleted.push({
        Key: o.key, ...named,
        // A marker made (or a marker removed by its id) is reported with its version id.
        ...(o.deleteMarker ? { DeleteMarker: true, DeleteMarkerVersionId: o.versionId } : {}),
      });
    }
  }
  sendXml(ctx.res, 200, 'DeleteResult', { Deleted: deleted, Error: errors });
}
