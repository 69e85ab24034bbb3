/**
 * AWS Signature Version 4 primitives for S3: canonical request, string to sign,
 * signing keys, chunk and trailer signatures. Pure functions, no I/O.
 *
 * Spec: https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 *
 * Bytes, not characters: Node hands header values (and any raw non-ASCII byte of
 * the request target) to us as latin1 strings, one char per byte on the wire. The
 * canonical request is therefore built as a latin1 "byte string" and hashed as
 * latin1, which reproduces exactly the bytes the client hashed.
 */
import { createHmac, hash, timingSafeEqual } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const SERVICE = 's3';
export const TERMINATOR = 'aws4_request';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// ---------------------------------------------------------------------------
// URI encoding (AWS flavour: RFC 3986 unreserved kept, everything else %XX upper)

const UNRESERVED = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') UNRESERVED[c.charCodeAt(0)] = 1;
const HEX_UPPER = '0123456789ABCDEF';

/** Percent-encodes bytes per the SigV4 rules; `/` is kept only when keepSlash. */
export function uriEncodeBytes(bytes: Uint8Array, keepSlash: boolean): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (UNRESERVED[b] === 1 || (keepSlash && b === 0x2f)) out += String.fromCharCode(b);
    else out += '%' + HEX_UPPER[b >> 4]! + HEX_UPPER[b & 15]!;
  }
  return out;
}

/**
 * True when a component decodes and re-encodes to itself: unreserved chars, and
 * upper-case `%XX` escapes of bytes that must stay escaped (what SDKs send, such
 * as the `%2F`s of X-Amz-Credential).
 */
function isCanonical(raw: string): boolean {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c <= 0x7f && UNRESERVED[c] === 1) continue;
    if (c !== 0x25 || i + 2 >= raw.length) return false;
    const hi = upperHexValue(raw.charCodeAt(i + 1));
    const lo = upperHexValue(raw.charCodeAt(i + 2));
    if (hi < 0 || lo < 0 || UNRESERVED[(hi << 4) | lo] === 1) return false;
    i += 2;
  }
  return true;
}

/** A raw URL component in SigV4's canonical encoding; most components already are (no allocation then). */
function canonicalComponent(raw: string): string {
  return isCanonical(raw) ? raw : uriEncodeBytes(percentDecode(raw), false);
}

/** Percent-encodes a JS string's UTF-8 bytes per the SigV4 rules. */
export function uriEncode(s: string, keepSlash = false): string {
  return uriEncodeBytes(Buffer.from(s, 'utf8'), keepSlash);
}

function upperHexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function hexValue(c: number): number {
  return c >= 0x61 && c <= 0x66 ? c - 0x57 : upperHexValue(c);
}

/**
 * Percent-decodes a raw URL component to bytes. `+` stays a literal plus (RFC 3986,
 * decodeURIComponent semantics), and a `%` not followed by two hex digits stays a
 * literal `%`. Chars up to U+00FF are taken as single bytes, because that is how
 * Node exposes raw bytes of the request target; wider chars (only possible when a
 * caller builds the string itself) are UTF-8 encoded.
 */
export function percentDecode(raw: string): Buffer {
  const out = Buffer.allocUnsafe(raw.length * 3);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25 && i + 2 < raw.length) {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        out[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    if (c <= 0xff) {
      out[n++] = c;
    } else {
      // Surrogate pairs are handled by encoding the code point, not the unit.
      const cp = raw.codePointAt(i)!;
      if (cp > 0xffff) i++;
      n += out.write(String.fromCodePoint(cp), n, 'utf8');
    }
  }
  return out.subarray(0, n);
}

/**
 * Canonical URI for S3: the path as sent, percent-decoded then re-encoded. S3 does
 * not double-encode and does not normalise `//`, `.` or `..` (keys are names).
 * Segment by segment, so a slash sent as %2F stays %2F as the client signed it.
 */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '') return '/';
  return rawPath.split('/').map(canonicalComponent).join('/');
}

/** One query parameter as sent (raw) and canonically encoded. */
interface QueryPair { readonly name: string; readonly value: string }

/**
 * Canonical query string: every parameter (optionally minus X-Amz-Signature), names
 * and values decoded then re-encoded, sorted by name then value. `?acl` becomes `acl=`.
 */
export function canonicalQuery(rawQuery: string, omitSignature: boolean): string {
  if (rawQuery === '') return '';
  const pairs: QueryPair[] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = canonicalComponent(eq < 0 ? part : part.slice(0, eq));
    if (omitSignature && name === 'X-Amz-Signature') continue;
    const value = eq < 0 ? '' : canonicalComponent(part.slice(eq + 1));
    pairs.push({ name, value });
  }
  // Encoded strings are ASCII, so JS string order is byte order.
  pairs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  let out = '';
  for (const p of pairs) out += (out === '' ? '' : '&') + p.name + '=' + p.value;
  return out;
}

/** A raw component decoded as UTF-8; ASCII without `%` is already decoded. */
function decodeComponent(raw: string): string {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25 || c > 0x7f) return percentDecode(raw).toString('utf8');
  }
  return raw;
}

/** Query parameters decoded as UTF-8, first occurrence wins (for reading X-Amz-* values). */
export function parseQuery(rawQuery: string): Map<string, string> {
  const out = new Map<string, string>();
  if (rawQuery === '') return out;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    if (out.has(name)) continue;
    out.set(name, eq < 0 ? '' : decodeComponent(part.slice(eq + 1)));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Headers

/** Lower-cased header name → every value in arrival order, from IncomingMessage.rawHeaders. */
export type HeaderValues = ReadonlyMap<string, readonly string[]>;

export function collectHeaders(rawHeaders: readonly string[]): HeaderValues {
  const out = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const list = out.get(name);
    if (list === undefined) out.set(name, [rawHeaders[i + 1]!]);
    else list.push(rawHeaders[i + 1]!);
  }
  return out;
}

export function firstHeader(headers: HeaderValues, name: string): string | undefined {
  return headers.get(name)?.[0];
}

/**
 * Trim and collapse runs of spaces/tabs, as the SDKs do. Only ASCII whitespace: the
 * string is latin1 bytes, and 0xA0 can be the tail of a UTF-8 sequence.
 */
function canonicalHeaderValue(v: string): string {
  return v.replace(/[ \t]+/g, ' ').replace(/^ | $/g, '');
}

/** `name:value\n` for each signed header, in the order given; absent headers give `name:`. */
export function canonicalHeaders(headers: HeaderValues, signedHeaders: readonly string[]): string {
  let out = '';
  for (const name of signedHeaders) {
    const values = headers.get(name);
    out += name + ':' + (values === undefined ? '' : values.map(canonicalHeaderValue).join(',')) + '\n';
  }
  return out;
}

// ---------------------------------------------------------------------------
// Canonical request, string to sign, signature

export interface CanonicalRequestParts {
  readonly method: string;
  readonly canonicalUri: string;
  readonly canonicalQuery: string;
  readonly canonicalHeaders: string;
  readonly signedHeaders: readonly string[];
  readonly payloadHash: string;
}

export function canonicalRequest(p: CanonicalRequestParts): string {
  return `${p.method}\n${p.canonicalUri}\n${p.canonicalQuery}\n${p.canonicalHeaders}\n${p.signedHeaders.join(';')}\n${p.payloadHash}`;
}

export function sha256Hex(data: string | Uint8Array): string {
  // One-shot hash: no Hash object per request (the canonical request is hashed on every call).
  return hash('sha256', typeof data === 'string' ? Buffer.from(data, 'latin1') : data, 'hex');
}

export function credentialScope(date: string, region: string): string {
  return `${date}/${region}/${SERVICE}/${TERMINATOR}`;
}

export function stringToSign(amzDate: string, scope: string, canonicalRequestText: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequestText)}`;
}

/** String to sign of one aws-chunked chunk (sigv4-streaming). */
export function chunkStringToSign(amzDate: string, scope: string, previousSignature: string, chunkSha256Hex: string): string {
  return `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${previousSignature}\n${EMPTY_SHA256}\n${chunkSha256Hex}`;
}

/** String to sign of the trailer section (sigv4-streaming-trailers). */
export function trailerStringToSign(amzDate: string, scope: string, previousSignature: string, canonicalTrailers: string): string {
  return `AWS4-HMAC-SHA256-TRAILER\n${amzDate}\n${scope}\n${previousSignature}\n${sha256Hex(canonicalTrailers)}`;
}

export function hmacHex(key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data, 'latin1').digest('hex');
}

// Four HMACs per request are cheap but not free; the key only changes daily per
// secret and region, so a small LRU (Map keeps insertion order) removes them.
const KEY_CACHE_MAX = 512;
const keyCache = new Map<string, Buffer>();

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), "s3"), "aws4_request"). */
export function signingKey(secretKey: string, date: string, region: string, service: string = SERVICE): Buffer {
  const cacheKey = `${date}\0${region}\0${service}\0${secretKey}`;
  const hit = keyCache.get(cacheKey);
  if (hit !== undefined) {
    keyCache.delete(cacheKey);
    keyCache.set(cacheKey, hit);
    return hit;
  }
  let key = createHmac('sha256', 'AWS4' + secretKey).update(date, 'latin1').digest();
  key = createHmac('sha256', key).update(region, 'latin1').digest();
  key = createHmac('sha256', key).update(service, 'latin1').digest();
  key = createHmac('sha256', key).update(TERMINATOR, 'latin1').digest();
  keyCache.set(cacheKey, key);
  if (keyCache.size > KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
  return key;
}

/** Constant-time comparison of a computed hex signature with the one provided. */
export function signaturesEqual(expectedHex: string, providedHex: string): boolean {
  const a = Buffer.from(expectedHex, 'latin1');
  const b = Buffer.from(providedHex, 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

// ---------------------------------------------------------------------------
// Dates

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Parses ISO 8601 basic `YYYYMMDDTHHMMSSZ`; undefined when malformed or not a real instant. */
export function parseAmzDate(s: string): Date | undefined {
  const m = AMZ_DATE.exec(s);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, se);
  const date = new Date(t);
  // Reject 20130231T..., which Date.UTC would silently roll over.
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) return undefined;
  return date;
}

export function formatAmzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

// ---------------------------------------------------------------------------
// Credential and Authorization header

export interface Credential {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly scope: string;
}

/** Parses `AKID/YYYYMMDD/region/s3/aws4_request`; returns S3's reason text when invalid. */
export function parseCredential(value: string): Credential | { readonly error: string } {
  const parts = value.split('/');
  if (parts.length < 5) return { error: 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".' };
  // Access key ids never contain '/', but parse from the right so the scope is exact.
  const [date, region, service, terminator] = parts.slice(-4) as [string, string, string, string];
  const accessKeyId = parts.slice(0, -4).join('/');
  if (accessKeyId === '' || !/^\d{8}$/.test(date) || region === '') {
    return { error: 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".' };
  }
  if (service !== SERVICE) return { error: `incorrect service "${service}". This endpoint belongs to "${SERVICE}".` };
  if (terminator !== TERMINATOR) return { error: `incorrect terminal "${terminator}". This endpoint uses "${TERMINATOR}".` };
  return { accessKeyId, date, region, service, scope: credentialScope(date, region) };
}

export interface ParsedAuthorization {
  readonly credential: string;
  readonly signedHeaders: string;
  readonly signature: string;
}

/**
 * Splits `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` (commas with
 * or without spaces, any order). Returns the missing/odd component's name on error.
 */
export function parseAuthorizationV4(header: string): ParsedAuthorization | { readonly error: string } {
  if (!header.startsWith(ALGORITHM + ' ')) return { error: `the authorization header must start with "${ALGORITHM}".` };
  const fields = new Map<string, string>();
  for (const item of header.slice(ALGORITHM.length + 1).split(',')) {
    const s = item.trim();
    if (s === '') continue;
    const eq = s.indexOf('=');
    if (eq <= 0) return { error: `the authorization component "${s}" is malformed.` };
    const key = s.slice(0, eq).trim();
    if (fields.has(key)) return { error: `the authorization component "${key}" is repeated.` };
    fields.set(key, s.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    return { error: 'the authorization header requires three components: Credential, SignedHeaders, and Signature.' };
  }
  return { credential, signedHeaders, signature };
}

/** `host;range;x-amz-date` → names; undefined when empty or not header tokens. */
export function parseSignedHeaders(value: string): string[] | undefined {
  if (value === '') return undefined;
  const names = value.split(';').map((n) => n.toLowerCase());
  for (const n of names) if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(n)) return undefined;
  return names;
}
