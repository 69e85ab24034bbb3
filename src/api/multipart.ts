import { NULL_VERSION } from '../store/version-rules.js';
import { writtenVersionHeader } from './versions.js';
import { newVersionLock } from './object-lock.js';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { S3Error } from '../errors.js';
import { isoDate, quoteEtag, sendEmpty, sendXml } from '../http/respond.js';
import { canCombine, combineBase64Crcs } from '../store/crc-combine.js';
import { checksumNow } from '../store/digest.js';
import { compareUtf8 } from '../store/listing.js';
import type { Checksum, ChecksumAlgorithm, ObjectHead, ObjectRecord, Part, StoredBody, Upload } from '../store/types.js';
import { childrenOf, parseXml, textOf, type XmlObject } from '../xml.js';
import { readSmallBody } from './body.js';
import { newAcl } from './acl.js';
import { bucketOf, keyOf, type RequestContext } from './context.js';
import { copySourceVersionHeader, loadCopySource } from './copy.js';
import { readExtents } from './get.js';
import { listParamsFrom } from './listing.js';
import {
  bareEtag, checksumRequestFrom, contentHeadersFrom, contentMd5From, storageClassFrom, userMetadataFrom, validateKey,
} from './object-headers.js';
import { displayNames, ownerElement } from './owners.js';
import { verifiedChecksum, writeConditionFrom } from './put.js';
import { parseRange } from './range.js';
import { tagsFromHeader } from './tag-set.js';
import { expirationHeader } from './lifecycle.js';

export const MAX_PART_NUMBER = 10_000;
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_SIZE = 5 * 1024 ** 3;
const MAX_COMPLETE_BODY = 4 * 1024 * 1024;

let lastIdStamp = 0;

/**
 * Upload ids sort by initiation time, which is the order S3 lists a key's uploads in.
 * The stamp is strictly increasing within this process: with Date.now() alone, two
 * uploads initiated in the same millisecond (or across a clock step back) would be
 * ordered by their random suffix instead.
 */
function newUploadId(): string {
  lastIdStamp = Math.max(Date.now(), lastIdStamp + 1);
  return lastIdStamp.toString(36).padStart(10, '0') + randomBytes(18).toString('base64url');
}

/** When an upload id of ours was handed out (epoch ms); undefined for any other string. */
function uploadInitiated(uploadId: string): number | undefined {
  return /^[0-9a-z]{10}[A-Za-z0-9_-]{24}$/.test(uploadId) ? parseInt(uploadId.slice(0, 10), 36) : undefined;
}

/** The upload named by `uploadId`, which must belong to the addressed bucket and key. */
async function loadUpload(ctx: RequestContext): Promise<Upload> {
  const uploadId = ctx.target.query.get('uploadId') ?? '';
  const upload = await ctx.store.metadata.getUpload(uploadId);
  if (!upload || upload.bucket !== bucketOf(ctx).name || upload.key !== keyOf(ctx)) {
    throw new S3Error('NoSuchUpload', undefined, { UploadId: uploadId });
  }
  return upload;
}

function checksumHeaders(upload: Upload): Record<string, string> {
  return upload.checksumAlgorithm
    ? { 'x-amz-checksum-algorithm': upload.checksumAlgorithm, 'x-amz-checksum-type': upload.checksumType ?? 'COMPOSITE' }
    : {};
}

export async function createMultipartUpload(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  validateKey(key);
  const headers = ctx.req.headers;
  const algorithmHeader = headers['x-amz-checksum-algorithm'];
  const typeHeader = headers['x-amz-checksum-type'];
  let checksumAlgorithm: ChecksumAlgorithm | undefined;
  if (algorithmHeader !== undefined) {
    checksumAlgorithm = checksumRequestFrom({ 'x-amz-checksum-algorithm': String(algorithmHeader) })?.algorithm;
  }
  let checksumType: 'FULL_OBJECT' | 'COMPOSITE' | undefined;
  if (typeHeader !== undefined) {
    const t = String(typeHeader).toUpperCase();
    if (t !== 'FULL_OBJECT' && t !== 'COMPOSITE') throw new S3Error('InvalidRequest', 'The x-amz-checksum-type header must be FULL_OBJECT or COMPOSITE.');
    if (!checksumAlgorithm) throw new S3Error('InvalidRequest', 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    checksumType = t;
  }
  if (checksumAlgorithm) {
    // CRC64NVME is only ever a full-object checksum; SHA digests cannot be combined into one.
    checksumType ??= checksumAlgorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE';
    if (checksumType === 'FULL_OBJECT' && !canCombine(checksumAlgorithm)) {
      throw new S3Error('InvalidRequest', `The FULL_OBJECT checksum type cannot be used with the ${checksumAlgorithm.toLowerCase()} checksum algorithm.`);
    }
    if (checksumType === 'COMPOSITE' && checksumAlgorithm === 'CRC64NVME') {
      throw new S3Error('InvalidRequest', 'The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.');
    }
  }
  const acl = await newAcl(ctx, bucket.owner);
  const upload: Upload = {
    uploadId: newUploadId(), bucket: bucket.name, key, initiated: new Date(),
    owner: acl.owner, acl, storageClass: storageClassFrom(headers),
    headers: contentHeadersFrom(headers), userMetadata: userMetadataFrom(headers), tags: tagsFromHeader(headers),
    ...(checksumAlgorithm ? { checksumAlgorithm, checksumType } : {}),
    ...newVersionLock(bucket, headers),
  };
  await ctx.store.metadata.createUpload(upload);
  sendXml(ctx.res, 200, 'InitiateMultipartUploadResult', { Bucket: bucket.name, Key: key, UploadId: upload.uploadId }, checksumHeaders(upload));
}

function partNumberOf(ctx: RequestContext): number {
  const raw = ctx.target.query.get('partNumber') ?? '';
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_PART_NUMBER) {
    throw new S3Error('InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, { ArgumentName: 'partNumber', ArgumentValue: raw });
  }
  return n;
}

/** Records a stored body as part `partNumber` of the upload (replacing an earlier one). */
async function commitPart(ctx: RequestContext, upload: Upload, partNumber: number, stored: StoredBody): Promise<Part> {
  if (stored.data.kind !== 'blobs') throw new Error('a part must be stored in a blob');
  const part: Part = {
    uploadId: upload.uploadId, partNumber, blob: stored.data.extents[0]!.blob, size: stored.digest.size,
    etag: stored.digest.md5Hex, crc32c: stored.digest.crc32c, lastModified: new Date(),
    ...(stored.digest.checksum !== undefined ? { checksum: stored.digest.checksum } : {}),
  };
  await ctx.store.metadata.putPart(part);
  ctx.settings.onGarbage();
  return part;
}

export async function uploadPart(ctx: RequestContext): Promise<void> {
  const upload = await loadUpload(ctx);
  const partNumber = partNumberOf(ctx);
  const headers = ctx.req.headers;
  const request = checksumRequestFrom(headers);
  if (request && upload.checksumAlgorithm && request.algorithm !== upload.checksumAlgorithm) {
    throw new S3Error('InvalidRequest', `Checksum Type mismatch occurred, expected checksum Type: ${upload.checksumAlgorithm.toLowerCase()}, actual checksum Type: ${request.algorithm.toLowerCase()}`);
  }
  const md5 = contentMd5From(headers);
  const length = ctx.auth.contentLength;
  if (length === undefined && headers['transfer-encoding'] === undefined) throw new S3Error('MissingContentLength');
  const maxSize = Math.min(MAX_PART_SIZE, ctx.settings.maxObjectSize);
  if (length !== undefined && length > maxSize) throw new S3Error('EntityTooLarge', undefined, { ProposedSize: String(length), MaxSizeAllowed: String(maxSize) });
  // Parts always get the upload's checksum, so that completion can build the object's.
  const algorithm = upload.checksumAlgorithm ?? request?.algorithm;
  const stored = await ctx.store.blobs.ingest(ctx.body(), {
    allowInline: false, maxSize,
    ...(length !== undefined ? { declaredLength: length } : {}),
    ...(algorithm ? { checksum: algorithm } : {}),
  });
  try {
    if (length !== undefined && stored.digest.size !== length) throw new S3Error('IncompleteBody');
    if (md5 !== undefined && md5 !== stored.digest.md5Hex) throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
    verifiedChecksum(request, stored, ctx.auth.trailers);
    const part = await commitPart(ctx, upload, partNumber, stored);
    sendEmpty(ctx.res, 200, {
      ETag: quoteEtag(part.etag),
      ...(algorithm && part.checksum ? { [`x-amz-checksum-${algorithm.toLowerCase()}`]: part.checksum } : {}),
    });
  } catch (err) {
    await ctx.store.blobs.discard(stored.data);
    throw err;
  }
}

export async function uploadPartCopy(ctx: RequestContext): Promise<void> {
  const upload = await loadUpload(ctx);
  const partNumber = partNumberOf(ctx);
  const source = await loadCopySource(ctx);
  const rangeHeader = ctx.req.headers['x-amz-copy-source-range'];
  let range = { start: 0, end: source.size - 1 };
  if (rangeHeader !== undefined) {
    const parsed = /^bytes=\d+-\d+$/.test(String(rangeHeader)) ? parseRangeStrict(String(rangeHeader), source.size) : undefined;
    if (!parsed) {
      throw new S3Error('InvalidArgument', `Range specified is not valid for source object of size: ${source.size}`, { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: String(rangeHeader) });
    }
    range = parsed;
  }
  const length = range.end - range.start + 1;
  if (length > MAX_PART_SIZE) throw new S3Error('EntityTooLarge', undefined, { MaxSizeAllowed: String(MAX_PART_SIZE) });
  const body = source.data.kind === 'inline'
    ? Readable.from([source.data.bytes.subarray(range.start, range.end + 1)])
    : Readable.from(readExtents(ctx.store.blobs, source, range));
  const stored = await ctx.store.blobs.ingest(body, {
    allowInline: false, declaredLength: Math.max(length, 0),
    ...(upload.checksumAlgorithm ? { checksum: upload.checksumAlgorithm } : {}),
  });
  try {
    const part = await commitPart(ctx, upload, partNumber, stored);
    sendXml(ctx.res, 200, 'CopyPartResult', {
      ETag: quoteEtag(part.etag),
      LastModified: isoDate(part.lastModified),
      ...(upload.checksumAlgorithm && part.checksum ? { [`Checksum${upload.checksumAlgorithm}`]: part.checksum } : {}),
    }, copySourceVersionHeader(source));
  } catch (err) {
    await ctx.store.blobs.discard(stored.data);
    throw err;
  }
}

/** A copy-source range must lie wholly inside the source. */
function parseRangeStrict(header: string, size: number): { start: number; end: number } | undefined {
  const [start, end] = header.slice('bytes='.length).split('-').map(Number) as [number, number];
  if (start > end || end >= size) return undefined;
  return parseRange(header, size);
}

interface RequestedPart {
  readonly partNumber: number;
  readonly etag: string;
  readonly checksum: string | undefined;
}

function parseCompleteBody(text: string, algorithm: ChecksumAlgorithm | undefined): RequestedPart[] {
  const doc = parseXml(text, 'CompleteMultipartUpload');
  const parts = childrenOf(doc, 'Part').map((p) => {
    const number = textOf(p, 'PartNumber');
    const etag = textOf(p, 'ETag');
    if (number === undefined || etag === undefined || !/^\d+$/.test(number.trim())) throw new S3Error('MalformedXML');
    return { partNumber: Number(number), etag: bareEtag(etag), checksum: algorithm ? textOf(p, `Checksum${algorithm}`) : undefined };
  });
  if (parts.length === 0) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema: no parts.');
  if (parts.length > MAX_PART_NUMBER) throw new S3Error('MalformedXML');
  for (let i = 1; i < parts.length; i++) {
    if (parts[i]!.partNumber <= parts[i - 1]!.partNumber) throw new S3Error('InvalidPartOrder', undefined, { UploadId: '' });
  }
  return parts;
}

/**
 * S3's rules for completing an upload whose parts carry checksums: the request may not
 * switch the checksum type, and the parts must be numbered 1, 2, 3, … without gaps.
 */
function checkChecksumCompletion(upload: Upload, requested: readonly RequestedPart[], typeHeader: string | undefined): void {
  if (!upload.checksumAlgorithm) return;
  const type = upload.checksumType ?? 'COMPOSITE';
  if (typeHeader !== undefined && typeHeader.toUpperCase() !== type) {
    throw new S3Error('InvalidRequest', `The upload was created using the ${type} checksum mode. The complete request must use the same checksum mode.`);
  }
  if (requested.some((r, i) => r.partNumber !== i + 1)) {
    throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. When parts carry checksums, part numbers must start at 1 and be consecutive.', { UploadId: upload.uploadId });
  }
}

/**
 * A COMPOSITE upload's completion must name every part's checksum (the object's
 * checksum is built from them, so the client vouches for each), as S3 requires.
 */
function checkPartChecksumsNamed(upload: Upload, requested: readonly RequestedPart[]): void {
  const algorithm = upload.checksumAlgorithm;
  if (!algorithm || (upload.checksumType ?? 'COMPOSITE') !== 'COMPOSITE') return;
  const missing = requested.find((r) => r.checksum === undefined);
  if (missing) {
    throw new S3Error('InvalidRequest', `The upload was created using a ${algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${missing.partNumber} in the request.`);
  }
}

/** What a completion must check beyond the parts themselves. */
interface CompletionChecks {
  /** The object's checksum as the client sent it (base64; `-N` for a COMPOSITE one). */
  readonly objectChecksum: string | undefined;
  readonly maxObjectSize: number;
  /** x-amz-mp-object-size: the total size the client expects. */
  readonly expectedSize: number | undefined;
}

/** Builds the completed object from the committed parts, or throws S3's error for the request. */
function assemble(requested: readonly RequestedPart[], checks: CompletionChecks) {
  const { objectChecksum: expectedChecksum, maxObjectSize, expectedSize } = checks;
  return (upload: Upload, committed: readonly Part[]): ObjectRecord => {
    const byNumber = new Map(committed.map((p) => [p.partNumber, p]));
    const chosen = requested.map((r, i) => {
      const part = byNumber.get(r.partNumber);
      if (!part || part.etag !== r.etag || (r.checksum !== undefined && part.checksum !== undefined && r.checksum !== part.checksum)) {
        throw new S3Error('InvalidPart', undefined, { UploadId: upload.uploadId, PartNumber: String(r.partNumber), ETag: r.etag });
      }
      if (i < requested.length - 1 && part.size < MIN_PART_SIZE) {
        throw new S3Error('EntityTooSmall', undefined, {
          ProposedSize: String(part.size), MinSizeAllowed: String(MIN_PART_SIZE), PartNumber: String(r.partNumber), ETag: r.etag,
        });
      }
      return part;
    });
    const size = chosen.reduce((n, p) => n + p.size, 0);
    if (size > maxObjectSize) throw new S3Error('EntityTooLarge', undefined, { ProposedSize: String(size), MaxSizeAllowed: String(maxObjectSize) });
    if (expectedSize !== undefined && size !== expectedSize) {
      throw new S3Error('InvalidRequest', `The provided 'x-amz-mp-object-size' header value ${expectedSize} does not match what was computed: ${size}`);
    }
    const etag = multipartEtag(chosen.map((p) => p.etag));
    const checksum = objectChecksum(upload, chosen);
    // The whole object's checksum is checked first: a wrong one is BadDigest whatever else the request lacks.
    if (checksum && expectedChecksum !== undefined && !sameObjectChecksum(checksum, expectedChecksum)) {
      throw new S3Error('BadDigest', `The x-amz-checksum-${checksum.algorithm.toLowerCase()} you specified did not match the calculated checksum.`);
    }
    checkPartChecksumsNamed(upload, requested);
    return {
      bucket: upload.bucket, key: upload.key, versionId: NULL_VERSION, size, etag,
      lastModified: new Date(), owner: upload.owner, storageClass: upload.storageClass, headers: upload.headers,
      userMetadata: upload.userMetadata, acl: upload.acl, tags: upload.tags, ...(checksum ? { checksum } : {}),
      ...(upload.retention ? { retention: upload.retention } : {}), ...(upload.legalHold ? { legalHold: true } : {}),
      data: {
        kind: 'blobs',
        extents: chosen.map((p) => ({
          blob: p.blob, size: p.size, md5: p.etag,
          ...(p.crc32c !== undefined ? { crc32c: p.crc32c } : {}),
          ...(checksum && p.checksum !== undefined ? { checksum: p.checksum } : {}),
        })),
      },
    };
  };
}

/** S3's ETag of a multipart object: the MD5 of the parts' binary MD5s, `-N`. */
function multipartEtag(partEtags: readonly string[]): string {
  return createHash('md5').update(Buffer.concat(partEtags.map((e) => Buffer.from(e, 'hex')))).digest('hex') + `-${partEtags.length}`;
}

/** A client may give a COMPOSITE checksum with its `-N` part count or without. */
function sameObjectChecksum(computed: Checksum, given: string): boolean {
  return given === computed.value || (computed.type === 'COMPOSITE' && given === computed.value.replace(/-\d+$/, ''));
}

/** S3's checksum of a multipart object: the CRC of the whole (FULL_OBJECT) or the checksum of the part checksums, -N (COMPOSITE). */
function objectChecksum(upload: Upload, parts: readonly Part[]): ObjectRecord['checksum'] {
  const algorithm = upload.checksumAlgorithm;
  if (!algorithm || parts.some((p) => p.checksum === undefined)) return undefined;
  if (upload.checksumType === 'FULL_OBJECT') {
    return { algorithm, type: 'FULL_OBJECT', value: combineBase64Crcs(algorithm, parts.map((p) => ({ crc: p.checksum!, size: p.size }))) };
  }
  if (algorithm === 'CRC64NVME') return undefined;
  const joined = Buffer.concat(parts.map((p) => Buffer.from(p.checksum!, 'base64')));
  return { algorithm, type: 'COMPOSITE', value: `${checksumNow(algorithm, joined).toString('base64')}-${parts.length}` };
}

export async function completeMultipartUpload(ctx: RequestContext): Promise<void> {
  const uploadId = ctx.target.query.get('uploadId') ?? '';
  const upload = await findUpload(ctx, uploadId);
  const condition = writeConditionFrom(ctx);
  const body = await readSmallBody(ctx.body(), MAX_COMPLETE_BODY);
  const requested = parseCompleteBody(body.toString('utf8'), upload?.checksumAlgorithm);
  if (!upload) {
    await sendCompletion(ctx, await completedBefore(ctx, uploadId, requested));
    return;
  }
  const typeHeader = ctx.req.headers['x-amz-checksum-type'];
  checkChecksumCompletion(upload, requested, typeHeader === undefined ? undefined : String(typeHeader));
  const checksumHeader = upload.checksumAlgorithm ? ctx.req.headers[`x-amz-checksum-${upload.checksumAlgorithm.toLowerCase()}`] : undefined;
  let record: ObjectHead;
  try {
    record = await ctx.store.metadata.completeUpload(upload.uploadId, assemble(requested, {
      objectChecksum: checksumHeader === undefined ? undefined : String(checksumHeader),
      maxObjectSize: ctx.settings.maxObjectSize, expectedSize: expectedObjectSize(ctx),
    }), condition);
  } catch (err) {
    // A concurrent completion of the same upload committed first: this one is its retry.
    if (!(err instanceof S3Error && err.code === 'NoSuchUpload')) throw err;
    record = await completedBefore(ctx, uploadId, requested);
  }
  ctx.settings.onGarbage();
  await sendCompletion(ctx, record);
}

async function sendCompletion(ctx: RequestContext, record: ObjectHead): Promise<void> {
  const host = ctx.req.headers.host ?? 'localhost';
  sendXml(ctx.res, 200, 'CompleteMultipartUploadResult', {
    Location: `http://${host}/${encodeURIComponent(record.bucket)}/${record.key.split('/').map(encodeURIComponent).join('/')}`,
    Bucket: record.bucket,
    Key: record.key,
    ETag: quoteEtag(record.etag),
    ...(record.checksum ? { [`Checksum${record.checksum.algorithm}`]: record.checksum.value, ChecksumType: record.checksum.type } : {}),
  }, { ...writtenVersionHeader(record.versionId), ...await expirationHeader(ctx, record) });
}

/** The upload named by `uploadId` if it is still in progress for the addressed bucket and key. */
async function findUpload(ctx: RequestContext, uploadId: string): Promise<Upload | undefined> {
  const upload = await ctx.store.metadata.getUpload(uploadId);
  return upload && upload.bucket === bucketOf(ctx).name && upload.key === keyOf(ctx) ? upload : undefined;
}

/**
 * A completion retried after it succeeded (its answer was lost, or a client checks
 * twice) answers as the first did, as S3's does. The upload is gone by then, so
 * the current object must be the one these parts make: its ETag is the MD5 of
 * exactly these parts' MD5s, and it was written after the upload was initiated.
 */
async function completedBefore(ctx: RequestContext, uploadId: string, requested: readonly RequestedPart[]): Promise<ObjectHead> {
  const current = await ctx.store.metadata.headObject(bucketOf(ctx).name, keyOf(ctx));
  const initiated = uploadInitiated(uploadId);
  if (!current || initiated === undefined || initiated > current.lastModified.getTime()
    || current.etag !== multipartEtag(requested.map((r) => r.etag))) {
    throw new S3Error('NoSuchUpload', undefined, { UploadId: uploadId });
  }
  return current;
}

function expectedObjectSize(ctx: RequestContext): number | undefined {
  const header = ctx.req.headers['x-amz-mp-object-size'];
  if (header === undefined) return undefined;
  const raw = String(header);
  if (!/^\d{1,16}$/.test(raw)) throw new S3Error('InvalidArgument', 'x-amz-mp-object-size must be a non-negative integer', { ArgumentName: 'x-amz-mp-object-size', ArgumentValue: raw });
  return Number(raw);
}

export async function abortMultipartUpload(ctx: RequestContext): Promise<void> {
  const upload = await loadUpload(ctx);
  if (!(await ctx.store.metadata.abortUpload(upload.uploadId))) throw new S3Error('NoSuchUpload', undefined, { UploadId: upload.uploadId });
  ctx.settings.onGarbage();
  sendEmpty(ctx.res, 204);
}

function boundedInteger(query: URLSearchParams, name: string, max: number, fallback: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw)) throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: raw });
  return Math.min(Number(raw), max);
}

export async function listParts(ctx: RequestContext): Promise<void> {
  const upload = await loadUpload(ctx);
  const query = ctx.target.query;
  const maxParts = boundedInteger(query, 'max-parts', 1000, 1000);
  const marker = boundedInteger(query, 'part-number-marker', MAX_PART_NUMBER, 0);
  const found = await ctx.store.metadata.listParts(upload.uploadId, marker, maxParts + 1);
  const parts = found.slice(0, maxParts);
  const truncated = found.length > maxParts;
  const names = await displayNames(ctx.store.metadata, [upload.owner]);
  const algorithm = upload.checksumAlgorithm;
  sendXml(ctx.res, 200, 'ListPartsResult', {
    Bucket: upload.bucket,
    Key: upload.key,
    UploadId: upload.uploadId,
    Initiator: ownerElement(upload.owner, names),
    Owner: ownerElement(upload.owner, names),
    StorageClass: upload.storageClass,
    PartNumberMarker: marker,
    ...(parts.length > 0 ? { NextPartNumberMarker: parts[parts.length - 1]!.partNumber } : {}),
    MaxParts: maxParts,
    IsTruncated: truncated,
    ...(algorithm ? { ChecksumAlgorithm: algorithm, ChecksumType: upload.checksumType } : {}),
    Part: parts.map((p) => ({
      PartNumber: p.partNumber,
      LastModified: isoDate(p.lastModified),
      ETag: quoteEtag(p.etag),
      Size: p.size,
      ...(algorithm && p.checksum ? { [`Checksum${algorithm}`]: p.checksum } : {}),
    })),
  });
}

export async function listMultipartUploads(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const query = ctx.target.query;
  const p = listParamsFrom(query, 'max-uploads');
  const keyMarker = query.get('key-marker') ?? '';
  // S3 ignores an upload-id marker given without a key marker.
  const uploadIdMarker = keyMarker === '' ? '' : query.get('upload-id-marker') ?? '';
  const page = await ctx.store.metadata.listUploads(bucket.name, {
    prefix: p.prefix, delimiter: p.delimiter, keyMarker, uploadIdMarker, maxUploads: p.maxKeys,
  });
  const names = await displayNames(ctx.store.metadata, page.uploads.map((u) => u.owner));
  const last = page.uploads[page.uploads.length - 1];
  const lastPrefix = page.commonPrefixes[page.commonPrefixes.length - 1];
  const nextKey = [last?.key, lastPrefix].filter((k): k is string => k !== undefined).sort(compareUtf8).pop();
  const uploads: XmlObject[] = page.uploads.map((u) => ({
    Key: p.encode(u.key),
    UploadId: u.uploadId,
    Initiator: ownerElement(u.owner, names),
    Owner: ownerElement(u.owner, names),
    StorageClass: u.storageClass,
    Initiated: isoDate(u.initiated),
    ...(u.checksumAlgorithm ? { ChecksumAlgorithm: u.checksumAlgorithm, ChecksumType: u.checksumType } : {}),
  }));
  sendXml(ctx.res, 200, 'ListMultipartUploadsResult', {
    Bucket: bucket.name,
    KeyMarker: p.encode(keyMarker),
    UploadIdMarker: uploadIdMarker,
    ...(page.isTruncated && nextKey !== undefined ? {
      NextKeyMarker: p.encode(nextKey),
      NextUploadIdMarker: last && last.key === nextKey ? last.uploadId : '',
    } : {}),
    Prefix: p.encode(p.prefix),
    ...(query.has('delimiter') ? { Delimiter: p.encode(p.delimiter) } : {}),
    MaxUploads: p.maxKeys,
    ...(p.encodingType ? { EncodingType: p.encodingType } : {}),
    IsTruncated: page.isTruncated,
    Upload: uploads,
    CommonPrefixes: page.commonPrefixes.map((cp) => ({ Prefix: p.encode(cp) })),
  });
}
