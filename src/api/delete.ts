import { createHash } from 'node:crypto';
import { S3Error } from '../errors.js';
import { sendEmpty, sendXml } from '../http/respond.js';
import { childrenOf, parseXml, textOf, type XmlObject } from '../xml.js';
import { readSmallBody } from './body.js';
import { bucketOf, keyOf, type RequestContext } from './context.js';
import { contentMd5From } from './object-headers.js';

const MAX_DELETE_KEYS = 1000;

export async function deleteObject(ctx: RequestContext): Promise<void> {
  const versionId = ctx.target.query.get('versionId');
  // Unversioned buckets hold only the 'null' version; deleting any other is a no-op.
  if (versionId === null || versionId === 'null') {
    await ctx.store.metadata.deleteObject(bucketOf(ctx).name, keyOf(ctx));
    ctx.settings.onGarbage();
  }
  sendEmpty(ctx.res, 204);
}

export async function deleteObjects(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const body = await readSmallBody(ctx.body());
  const md5 = contentMd5From(ctx.req.headers);
  if (md5 !== undefined && md5 !== createHash('md5').update(body).digest('hex')) throw new S3Error('BadDigest');
  const doc = parseXml(body.toString('utf8'), 'Delete');
  const quiet = textOf(doc, 'Quiet')?.trim().toLowerCase() === 'true';
  const entries = childrenOf(doc, 'Object');
  if (entries.length === 0 || entries.length > MAX_DELETE_KEYS) throw new S3Error('MalformedXML');
  const deleted: XmlObject[] = [];
  const errors: XmlObject[] = [];
  const targets = entries.map((entry) => ({ key: textOf(entry, 'Key'), versionId: textOf(entry, 'VersionId') }));
  if (targets.some((t) => t.key === undefined)) throw new S3Error('MalformedXML');
  await Promise.all(targets.map(async ({ key, versionId }) => {
    try {
      if (versionId === undefined || versionId === 'null') await ctx.store.metadata.deleteObject(bucket.name, key!);
      if (!quiet) deleted.push({ Key: key!, ...(versionId !== undefined ? { VersionId: versionId } : {}) });
    } catch (err) {
      const e = err instanceof S3Error ? err : new S3Error('InternalError');
      errors.push({ Key: key!, ...(versionId !== undefined ? { VersionId: versionId } : {}), Code: e.code, Message: e.message });
    }
  }));
  ctx.settings.onGarbage();
  sendXml(ctx.res, 200, 'DeleteResult', { Deleted: deleted, Error: errors });
}
