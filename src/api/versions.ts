import { isoDate, quoteEtag, sendXml } from '../http/respond.js';
import { bucketOf, type RequestContext } from './context.js';
import { listParamsFrom } from './listing.js';
import { displayNames, ownerElement } from './owners.js';

/** Versioning was never enabled: S3 answers with an empty configuration. */
export async function getBucketVersioning(ctx: RequestContext): Promise<void> {
  sendXml(ctx.res, 200, 'VersioningConfiguration', {});
}

/** In an unversioned bucket every object is its own only version, `null`, and the latest. */
export async function listObjectVersions(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const query = ctx.target.query;
  const p = listParamsFrom(query);
  const keyMarker = query.get('key-marker') ?? '';
  const versionIdMarker = query.get('version-id-marker') ?? '';
  const page = await ctx.store.metadata.listObjects(bucket.name, { prefix: p.prefix, delimiter: p.delimiter, after: keyMarker, maxKeys: p.maxKeys });
  const owners = await displayNames(ctx.store.metadata, page.objects.map((o) => o.owner));
  sendXml(ctx.res, 200, 'ListVersionsResult', {
    Name: bucket.name,
    Prefix: p.encode(p.prefix),
    KeyMarker: p.encode(keyMarker),
    VersionIdMarker: versionIdMarker,
    ...(page.isTruncated && page.last !== undefined ? { NextKeyMarker: p.encode(page.last), NextVersionIdMarker: 'null' } : {}),
    MaxKeys: p.maxKeys,
    ...(query.has('delimiter') ? { Delimiter: p.encode(p.delimiter) } : {}),
    ...(p.encodingType ? { EncodingType: p.encodingType } : {}),
    IsTruncated: page.isTruncated,
    Version: page.objects.map((o) => ({
      Key: p.encode(o.key),
      VersionId: o.versionId,
      IsLatest: true,
      LastModified: isoDate(o.lastModified),
      ETag: quoteEtag(o.etag),
      Size: o.size,
      Owner: ownerElement(o.owner, owners),
      StorageClass: o.storageClass,
    })),
    CommonPrefixes: page.commonPrefixes.map((cp) => ({ Prefix: p.encode(cp) })),
  });
}
