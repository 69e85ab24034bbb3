/**
 * Non-ASCII user metadata as S3 documents it: values are Unicode; RFC 2047
 * encoded-words in a request are decoded before storing, and a stored value
 * holding anything but printable US-ASCII is answered as one RFC 2047
 * B encoded-word ("mail-safe"), since a header cannot carry it as is.
 */

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
const CHARSETS: Readonly<Record<string, BufferEncoding>> = { 'utf-8': 'utf8', 'us-ascii': 'latin1', 'iso-8859-1': 'latin1' };

/**
 * Node hands header bytes over as Latin-1 characters; clients that send
 * non-ASCII values (botocore, curl) send UTF-8, so bytes that are valid UTF-8
 * are read as such, and any others stay Latin-1.
 */
function utf8FromHeaderBytes(raw: string): string {
  if (!/[\x80-\xff]/.test(raw) || /[^\x00-\xff]/.test(raw)) return raw;
  try {
    return UTF8.decode(Buffer.from(raw, 'latin1'));
  } catch {
    return raw;
  }
}

function decodeWord(charset: string, encoding: string, data: string): string | undefined {
  const target = CHARSETS[charset.toLowerCase()];
  if (target === undefined) return undefined;
  const bytes = encoding.toUpperCase() === 'B'
    ? Buffer.from(data, 'base64')
    : Buffer.from(data.replaceAll('_', ' ').replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
  if (target !== 'utf8') return bytes.toString(target);
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Decodes the encoded-words of a value; whitespace between two adjacent words goes (RFC 2047 §6.2). Words it cannot decode stay as sent. */
function decodeEncodedWords(text: string): string {
  let out = '';
  let last = 0;
  let previousWasWord = false;
  for (const m of text.matchAll(ENCODED_WORD)) {
    const decoded = decodeWord(m[1]!, m[2]!, m[3]!);
    const gap = text.slice(last, m.index);
    if (!(previousWasWord && decoded !== undefined && /^\s+$/.test(gap))) out += gap;
    out += decoded ?? m[0];
    previousWasWord = decoded !== undefined;
    last = m.index + m[0].length;
  }
  return out + text.slice(last);
}

/** The value to store for an `x-amz-meta-*` header as received. */
export function metadataValueFromHeader(raw: string): string {
  return decodeEncodedWords(utf8FromHeaderBytes(raw));
}

/** The header value that answers a stored metadata value. */
export function metadataValueForHeader(value: string): string {
  return /^[\x20-\x7e\t]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}
