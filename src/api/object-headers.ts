import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors.js';
import { CHECKSUM_ALGORITHMS, CHECKSUM_LENGTH } from '../store/digest.js';
import type { ChecksumAlgorithm, ContentHeaders, ObjectHead } from '../store/types.js';
import { httpDate, quoteEtag } from '../http/respond.js';
import { restoreHeader } from '../lifecycle/archive.js';
import { metadataValueForHeader, metadataValueFromHeader } from './metadata-encoding.js';

export const MAX_KEY_BYTES = 1024;
export const MAX_USER_METADATA_BYTES = 2048;
export const STORAGE_CLASSES = [
  'STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE',
] as const;

const META_PREFIX = 'x-amz-meta-';

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function validateKey(key: string): void {
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError', undefined, { MaxSizeAllowed: String(MAX_KEY_BYTES) });
}

/** The representation headers a write stores; Content-Type defaults as S3's does. */
export function contentHeadersFrom(headers: IncomingHttpHeaders): ContentHeaders {
  // aws-chunked is transfer framing, not a property of the object.
  const encoding = header(headers, 'content-encoding')
    ?.split(',').map((s) => s.trim()).filter((s) => s !== '' && s.toLowerCase() !== 'aws-chunked').join(', ');
  const pick = (name: string): string | undefined => header(headers, name);
  return stripUndefined({
    contentType: pick('content-type') ?? 'binary/octet-stream',
    contentEncoding: encoding || undefined,
    contentDisposition: pick('content-disposition'),
    contentLanguage: pick('content-language'),
    cacheControl: pick('cache-control'),
    expires: pick('expires'),
  });
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** `x-amz-meta-*` headers (non-ASCII values decoded: metadata-encoding.ts), bounded by S3's 2 KB limit over names and values. */
export function userMetadataFrom(headers: IncomingHttpHeaders): Record<string, string> {
  const meta: Record<string, string> = {};
  let size = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(META_PREFIX) || value === undefined) continue;
    const short = name.slice(META_PREFIX.length);
    const text = metadataValueFromHeader(Array.isArray(value) ? value.join(',') : value);
    size += Buffer.byteLength(short, 'utf8') + Buffer.byteLength(text, 'utf8');
    meta[short] = text;
  }
  if (size > MAX_USER_METADATA_BYTES) {
    throw new S3Error('MetadataTooLarge', undefined, { Size: String(size), MaxSizeAllowed: String(MAX_USER_METADATA_BYTES) });
  }
  return meta;
}

export function storageClassFrom(headers: IncomingHttpHeaders): string {
  const value = header(headers, 'x-amz-storage-class') ?? 'STANDARD';
  if (!(STORAGE_CLASSES as readonly string[]).includes(value)) throw new S3Error('InvalidStorageClass', undefined, { StorageClassRequested: value });
  return value;
}

/** The checksum a write must verify: its algorithm and, unless it comes in a trailer, its value. */
export interface ChecksumRequest {
  readonly algorithm: ChecksumAlgorithm;
  /** Base64 value from a header; undefined when it arrives as a trailer (or is merely requested). */
  readonly expected: string | undefined;
  readonly fromTrailer: boolean;
}

export function checksumRequestFrom(headers: IncomingHttpHeaders): ChecksumRequest | undefined {
  const given = CHECKSUM_ALGORITHMS.filter((a) => headers[`x-amz-checksum-${a.toLowerCase()}`] !== undefined);
  if (given.length > 1) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const trailer = header(headers, 'x-amz-trailer')?.trim().toLowerCase();
  if (given.length === 1) {
    const algorithm = given[0]!;
    const expected = header(headers, `x-amz-checksum-${algorithm.toLowerCase()}`)!;
    checkChecksumShape(algorithm, expected);
    return { algorithm, expected, fromTrailer: false };
  }
  if (trailer?.startsWith('x-amz-checksum-')) {
    const algorithm = CHECKSUM_ALGORITHMS.find((a) => `x-amz-checksum-${a.toLowerCase()}` === trailer);
    if (!algorithm) throw new S3Error('InvalidRequest', `The value specified in the x-amz-trailer header is not supported`);
    return { algorithm, expected: undefined, fromTrailer: true };
  }
  const requested = header(headers, 'x-amz-sdk-checksum-algorithm') ?? header(headers, 'x-amz-checksum-algorithm');
  if (requested !== undefined) {
    const algorithm = CHECKSUM_ALGORITHMS.find((a) => a === requested.toUpperCase());
    if (!algorithm) throw new S3Error('InvalidRequest', 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]');
    return { algorithm, expected: undefined, fromTrailer: false };
  }
  return undefined;
}

export function checkChecksumShape(algorithm: ChecksumAlgorithm, value: string): void {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== CHECKSUM_LENGTH[algorithm] || bytes.toString('base64') !== value) {
    throw new S3Error('InvalidRequest', `Value for x-amz-checksum-${algorithm.toLowerCase()} header is invalid.`);
  }
}

/** The Content-MD5 header decoded to hex, or undefined; InvalidDigest when it is not a base64 MD5. */
export function contentMd5From(headers: IncomingHttpHeaders): string | undefined {
  const value = header(headers, 'content-md5');
  if (value === undefined) return undefined;
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== 16 || bytes.toString('base64') !== value.trim()) throw new S3Error('InvalidDigest');
  return bytes.toString('hex');
}

/** The headers GET and HEAD return for an object. */
export function objectHeaders(record: ObjectHead, withChecksum: boolean): Record<string, string | number> {
  const h = record.headers;
  const out: Record<string, string | number> = {
    'Last-Modified': httpDate(record.lastModified),
    ETag: quoteEtag(record.etag),
    'Content-Type': h.contentType,
    'Accept-Ranges': 'bytes',
  };
  if (h.contentEncoding) out['Content-Encoding'] = h.contentEncoding;
  if (h.contentDisposition) out['Content-Disposition'] = h.contentDisposition;
  if (h.contentLanguage) out['Content-Language'] = h.contentLanguage;
  if (h.cacheControl) out['Cache-Control'] = h.cacheControl;
  if (h.expires) out.Expires = h.expires;
  if (record.storageClass !== 'STANDARD') out['x-amz-storage-class'] = record.storageClass;
  const restore = restoreHeader(record);
  if (restore !== undefined) out['x-amz-restore'] = restore;
  for (const [name, value] of Object.entries(record.userMetadata)) out[META_PREFIX + name] = metadataValueForHeader(value);
  if (record.tags.length > 0) out['x-amz-tagging-count'] = record.tags.length;
  if (withChecksum && record.checksum) {
    out[`x-amz-checksum-${record.checksum.algorithm.toLowerCase()}`] = record.checksum.value;
    out['x-amz-checksum-type'] = record.checksum.type;
  }
  return out;
}

/** An ETag as clients send it in conditions, without quotes or weak marker. */
export function bareEtag(value: string): string {
  return value.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}
