/**
 * PutBucketVersioning, GetBucketVersioning and ListObjectVersions. The bucket's
 * status lives in its configuration slot as 'Enabled' or 'Suspended' (absent:
 * never enabled); what a status means for writes and deletes is the store's
 * version-rules.ts.
 */
import { S3Error } from '../errors.js';
import { isoDate, quoteEtag, sendEmpty, sendXml } from '../http/respond.js';
import { NULL_VERSION, versioningOf } from '../store/version-rules.js';
import type { Bucket, ObjectSummary, VersionId } from '../store/types.js';
import { onlyKnownChildren, parseXml, textOf, type XmlObject } from '../xml.js';
import { readSmallBody } from './body.js';
import { bucketOf, type RequestContext } from './context.js';
import { listParamsFrom } from './listing.js';
import { objectLockEnabled } from './object-lock.js';
import { displayNames, ownerElement } from './owners.js';

const MAX_VERSIONING_XML = 4 * 1024;
const VERSIONING_ELEMENTS = new Set(['Status', 'MfaDelete']);

/** x-amz-version-id for a version read: sent once the bucket's versioning was ever enabled, or for a real version id. */
export function versionHeader(bucket: Bucket, versionId: VersionId): Record<string, string> {
  return versionId !== NULL_VERSION || versioningOf(bucket) !== 'Unversioned' ? { 'x-amz-version-id': versionId } : {};
}

/** x-amz-version-id for a version written: S3 names only real ids, never the `null` version a write made. */
export function writtenVersionHeader(versionId: VersionId): Record<string, string> {
  return versionId !== NULL_VERSION ? { 'x-amz-version-id': versionId } : {};
}

export async function getBucketVersioning(ctx: RequestContext): Promise<void> {
  const status = versioningOf(bucketOf(ctx));
  // A bucket that never had versioning answers an empty configuration, as S3 does.
  sendXml(ctx.res, 200, 'VersioningConfiguration', status === 'Unversioned' ? {} : { Status: status });
}

export async function putBucketVersioning(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const doc = parseXml((await readSmallBody(ctx.body(), MAX_VERSIONING_XML)).toString('utf8'), 'VersioningConfiguration');
  if (!onlyKnownChildren(doc, VERSIONING_ELEMENTS)) throw new S3Error('MalformedXML');
  const status = textOf(doc, 'Status')?.trim();
  const mfaDelete = textOf(doc, 'MfaDelete')?.trim();
  if (mfaDelete !== undefined && mfaDelete !== 'Disabled') {
    if (mfaDelete !== 'Enabled') throw new S3Error('MalformedXML');
    // MFA Delete needs the root account's MFA device in every request; Cairn has none.
    throw new S3Error('NotImplemented', 'MFA Delete is not supported.', { Header: 'x-amz-mfa' });
  }
  if (status === undefined) {
    // Only MfaDelete given: versioning stays as it is.
    sendEmpty(ctx.res, 200);
    return;
  }
  if (status !== 'Enabled' && status !== 'Suspended') {
    throw new S3Error('IllegalVersioningConfigurationException', 'The Versioning element must be specified');
  }
  await ctx.store.metadata.putBucketConfig(bucket.name, 'versioning', (current) => {
    // Checked against the stored lock configuration, inside the store's transaction.
    if (status === 'Suspended' && objectLockEnabled({ configs: { ...bucket.configs, versioning: current } })) {
      throw new S3Error('InvalidBucketState', 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.');
    }
    return status;
  });
  sendEmpty(ctx.res, 200);
}

/** Versions newest first within each key; delete markers listed apart, as S3's XML has them. */
export async function listObjectVersions(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const query = ctx.target.query;
  const p = listParamsFrom(query);
  const keyMarker = query.get('key-marker') ?? '';
  // A version-id marker means nothing without a key marker; S3 refuses it.
  const versionIdMarker = query.get('version-id-marker') ?? '';
  if (versionIdMarker !== '' && keyMarker === '') {
    throw new S3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.', { ArgumentName: 'version-id-marker', ArgumentValue: versionIdMarker });
  }
  const page = await ctx.store.metadata.listObjectVersions(bucket.name, {
    prefix: p.prefix, delimiter: p.delimiter, keyMarker, versionIdMarker, maxKeys: p.maxKeys,
  });
  const owners = await displayNames(ctx.store.metadata, page.versions.map((o) => o.owner));
  const common = (v: ObjectSummary): XmlObject => ({
    Key: p.encode(v.key),
    VersionId: v.versionId,
    IsLatest: v.isLatest ?? true,
    LastModified: isoDate(v.lastModified),
  });
  sendXml(ctx.res, 200, 'ListVersionsResult', {
    Name: bucket.name,
    Prefix: p.encode(p.prefix),
    KeyMarker: p.encode(keyMarker),
    VersionIdMarker: versionIdMarker,
    ...(page.nextKeyMarker !== undefined ? { NextKeyMarker: p.encode(page.nextKeyMarker) } : {}),
    ...(page.nextVersionIdMarker !== undefined ? { NextVersionIdMarker: page.nextVersionIdMarker } : {}),
    MaxKeys: p.maxKeys,
    ...(query.has('delimiter') ? { Delimiter: p.encode(p.delimiter) } : {}),
    ...(p.encodingType ? { EncodingType: p.encodingType } : {}),
    IsTruncated: page.isTruncated,
    Version: page.versions.filter((v) => !v.deleteMarker).map((v) => ({
      ...common(v),
      ETag: quoteEtag(v.etag),
      Size: v.size,
      Owner: ownerElement(v.owner, owners),
      StorageClass: v.storageClass,
    })),
    DeleteMarker: page.versions.filter((v) => v.deleteMarker).map((v) => ({ ...common(v), Owner: ownerElement(v.owner, owners) })),
    CommonPrefixes: page.commonPrefixes.map((cp) => ({ Prefix: p.encode(cp) })),
  });
}
