/**
 * AWS Signature Version 2 for S3 (the `AWS AKID:signature` scheme): string to
 * sign, canonicalized amz headers and resource, HMAC-SHA1. Pure functions, no I/O.
 *
 * Spec: https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html
 *
 *   StringToSign = VERB \n Content-MD5 \n Content-Type \n Date-or-Expires \n
 *                  CanonicalizedAmzHeaders CanonicalizedResource
 *
 * Like sigv4.ts, strings here are latin1 "byte strings" (one char per byte on the
 * wire, as Node hands over header values and the raw request target), and the HMAC
 * is fed latin1, which reproduces the UTF-8 bytes the client signed.
 */
import { createHmac } from 'node:crypto';
import { percentDecode, type HeaderValues } from './sigv4.js';

/**
 * Query parameters that are part of the CanonicalizedResource. The S3 guide names
 * acl, delete, lifecycle, location, logging, notification, partNumber, policy,
 * requestPayment, torrent, uploadId, uploads, versionId, versioning, versions,
 * website and the response-* overrides; S3 also signs the later sub-resources
 * (cors, restore, tagging, …), which botocore's and the other SDKs' V2 signers
 * list. Any other parameter (prefix, max-keys, marker, …) is not signed.
 */
export const SIGNED_SUBRESOURCES: ReadonlySet<string> = new Set([
  'accelerate', 'acl', 'analytics', 'cors', 'delete', 'encryption', 'inventory', 'legal-hold',
  'lifecycle', 'location', 'logging', 'metrics', 'notification', 'object-lock', 'partNumber',
  'policy', 'replication', 'requestPayment', 'restore', 'retention', 'select', 'select-type',
  'tagging', 'torrent', 'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'website',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding',
  'response-content-language', 'response-content-type', 'response-expires',
]);

/** `x-amz-` headers (lower-cased name → values in arrival order). */
export type AmzHeaders = ReadonlyMap<string, readonly string[]>;

/** The x-amz-* headers of a request. */
export function amzHeadersOf(headers: HeaderValues): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, values] of headers) {
    if (name.startsWith('x-amz-')) out.set(name, [...values]);
  }
  return out;
}

/** Unfolds (obs-fold: newline plus whitespace becomes one space) and trims one value. */
function amzHeaderValue(v: string): string {
  return v.replace(/\r?\n[ \t]+/g, ' ').replace(/^[ \t]+|[ \t]+$/g, '');
}

/**
 * CanonicalizedAmzHeaders: names lower-cased and sorted, repeated headers joined
 * with `,` (no whitespace between values), values unfolded and trimmed, each
 * `name:value\n`. Empty when there are none.
 */
export function canonicalizedAmzHeaders(amz: AmzHeaders): string {
  const names = [...amz.keys()].map((n) => n.toLowerCase()).sort();
  let out = '';
  for (const name of names) {
    const values = amz.get(name) ?? [];
    out += `${name}:${values.map(amzHeaderValue).join(',')}\n`;
  }
  return out;
}

/**
 * CanonicalizedResource: `/bucket` when the bucket came from the Host header, then
 * the path exactly as sent (still percent-encoded, case kept), then the signed
 * sub-resources sorted by name, `name` or `name=value` with the value decoded.
 *
 * The resources a client may have signed, the one S3 names the request by first.
 * A path-style request for a bucket alone (`PUT /bucket`) has two: `/bucket/`,
 * which botocore's HmacV1 signer signs while sending `/bucket` ("to generate a
 * signature that the server will accept", as the AWS SDK for Java v1 does too),
 * and `/bucket` as sent, which the AWS SDK for JavaScript v2 signs. S3 accepts both.
 */
export function canonicalizedResources(rawPath: string, rawQuery: string, hostBucket: string | undefined): readonly [string, ...string[]] {
  const path = rawPath === '' ? '/' : rawPath;
  const subresources = signedSubresources(rawQuery);
  if (hostBucket !== undefined) return ['/' + hostBucket + path + subresources];
  if (/^\/[^/]+$/.test(path)) return [path + '/' + subresources, path + subresources];
  return [path + subresources];
}

/** `?a&b=v…` of the signed sub-resources in a raw query, or `''`. */
function signedSubresources(rawQuery: string): string {
  const subresources: { name: string; text: string }[] = [];
  if (rawQuery !== '') {
    for (const part of rawQuery.split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const name = percentDecode(eq < 0 ? part : part.slice(0, eq)).toString('latin1');
      if (!SIGNED_SUBRESOURCES.has(name)) continue;
      // Values are signed decoded (the clients unquote them); a parameter sent
      // as `name=` is signed as `name=`, as the SDKs do.
      const text = eq < 0 ? name : `${name}=${percentDecode(part.slice(eq + 1)).toString('latin1')}`;
      subresources.push({ name, text });
    }
  }
  if (subresources.length === 0) return '';
  // Stable sort by name only: repeated names keep their order, as in the SDKs.
  subresources.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return '?' + subresources.map((s) => s.text).join('&');
}

export interface StringToSignV2Parts {
  readonly method: string;
  readonly contentMd5: string;
  readonly contentType: string;
  /** Date header, `''` when x-amz-date is sent, or the Expires of a presigned URL. */
  readonly date: string;
  readonly amzHeaders: AmzHeaders;
  readonly resource: string;
}

export function stringToSignV2(p: StringToSignV2Parts): string {
  return `${p.method}\n${p.contentMd5.trim()}\n${p.contentType.trim()}\n${p.date}\n${canonicalizedAmzHeaders(p.amzHeaders)}${p.resource}`;
}

/** Base64 HMAC-SHA1 of the string to sign (a latin1 byte string). */
export function signV2(secretKey: string, toSign: string): string {
  return createHmac('sha1', secretKey).update(toSign, 'latin1').digest('base64');
}

/** S3's StringToSignBytes error element: the bytes as space-separated hex pairs. */
export function stringToSignBytes(toSign: string): string {
  return [...Buffer.from(toSign, 'latin1')].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Splits `AWS AKID:signature`; undefined when it is not of that form. */
export function parseAuthorizationV2(header: string): { readonly accessKeyId: string; readonly signature: string } | undefined {
  if (!header.startsWith('AWS ')) return undefined;
  const credentials = header.slice(4).trim();
  const colon = credentials.lastIndexOf(':');
  if (colon <= 0 || colon === credentials.length - 1) return undefined;
  return { accessKeyId: credentials.slice(0, colon), signature: credentials.slice(colon + 1) };
}
