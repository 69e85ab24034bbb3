/**
 * Tag sets as S3 takes them: the `<Tagging>` document (PutObjectTagging,
 * PutBucketTagging, POST Object's `tagging` field) and the `x-amz-tagging`
 * header (PutObject, CreateMultipartUpload, CopyObject), validated against
 * S3's limits and kept in key order, the order S3 answers them in.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors.js';
import type { TagPair } from '../store/types.js';
import { childrenOf, onlyKnownChildren, parseXml, textOf, type XmlObject } from '../xml.js';

/** How many tags a resource may carry, and S3's answer past that. */
export interface TagLimit {
  readonly max: number;
  readonly tooMany: () => S3Error;
}
export const OBJECT_TAGS: TagLimit = { max: 10, tooMany: () => new S3Error('BadRequest', 'Object tags cannot be greater than 10') };
export const BUCKET_TAGS: TagLimit = { max: 50, tooMany: () => new S3Error('InvalidTag', 'Bucket tag count cannot be greater than 50') };
const MAX_KEY_CHARS = 128;
const MAX_VALUE_CHARS = 256;
/** The characters AWS allows in tags: letters, digits, spaces and `_ . : / = + - @`. */
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const RESERVED_PREFIX = 'aws:';

/** Unicode characters, as S3 counts tag lengths (not UTF-16 units or bytes). */
function chars(text: string): number {
  return [...text].length;
}

/** Checks a tag set against S3's rules, with S3's errors; returns it in key order. */
function validateTags(tags: readonly TagPair[], limit: TagLimit): readonly TagPair[] {
  if (tags.length > limit.max) throw limit.tooMany();
  const seen = new Set<string>();
  for (const { key, value } of tags) {
    if (key === '' || chars(key) > MAX_KEY_CHARS || !TAG_CHARACTERS.test(key)) {
      throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid', { TagKey: key });
    }
    if (chars(value) > MAX_VALUE_CHARS || !TAG_CHARACTERS.test(value)) {
      throw new S3Error('InvalidTag', 'The TagValue you have provided is invalid', { TagKey: key, TagValue: value });
    }
    if (key.toLowerCase().startsWith(RESERVED_PREFIX)) throw new S3Error('InvalidTag', 'Your TagKey cannot be prefixed with aws:', { TagKey: key });
    if (seen.has(key)) throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key', { TagKey: key });
    seen.add(key);
  }
  return [...tags].sort((a, b) => (a.key < b.key ? -1 : 1));
}

const TAGGING_ELEMENTS: ReadonlySet<string> = new Set(['TagSet']);
const TAG_SET_ELEMENTS: ReadonlySet<string> = new Set(['Tag']);
const TAG_ELEMENTS: ReadonlySet<string> = new Set(['Key', 'Value']);

/** Parses and validates a `<Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>` document. */
export function parseTagging(text: string, limit: TagLimit = OBJECT_TAGS): readonly TagPair[] {
  const doc = parseXml(text, 'Tagging');
  const sets = childrenOf(doc, 'TagSet');
  if (!onlyKnownChildren(doc, TAGGING_ELEMENTS) || sets.length !== 1 || !onlyKnownChildren(sets[0]!, TAG_SET_ELEMENTS)) {
    throw new S3Error('MalformedXML');
  }
  const tags = childrenOf(sets[0], 'Tag').map((tag): TagPair => {
    const key = textOf(tag, 'Key');
    const value = textOf(tag, 'Value');
    if (!onlyKnownChildren(tag, TAG_ELEMENTS) || key === undefined || value === undefined) throw new S3Error('MalformedXML');
    return { key, value };
  });
  return validateTags(tags, limit);
}

/** The `<Tagging>` document of a tag set. */
export function renderTagging(tags: readonly TagPair[]): XmlObject {
  return { TagSet: { Tag: tags.map((t) => ({ Key: t.key, Value: t.value })) } };
}

function invalidHeader(): S3Error {
  return new S3Error('InvalidArgument', 'The header \'x-amz-tagging\' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.', {
    ArgumentName: 'x-amz-tagging',
  });
}

/** One URL query component decoded (`+` is a space, as in any query string); undefined when it is not valid UTF-8 percent-encoding. */
function decodeComponent(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

/**
 * The tags of an `x-amz-tagging` header (`k1=v1&k2=v2`, URL-encoded); none when
 * it is absent. A pair without `=` is a tag with an empty value, empty pairs are
 * skipped, as S3 does; an empty key, a duplicate or bad encoding is InvalidArgument.
 */
export function tagsFromHeader(headers: IncomingHttpHeaders): readonly TagPair[] {
  const raw = headers['x-amz-tagging'];
  if (raw === undefined) return [];
  const tags: TagPair[] = [];
  const seen = new Set<string>();
  for (const pair of (Array.isArray(raw) ? raw.join('&') : raw).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = decodeComponent(eq < 0 ? '' : pair.slice(eq + 1));
    if (key === undefined || value === undefined || key === '' || seen.has(key)) throw invalidHeader();
    seen.add(key);
    tags.push({ key, value });
  }
  return validateTags(tags, OBJECT_TAGS);
}
