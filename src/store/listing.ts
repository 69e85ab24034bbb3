import type { ListPage, ListQuery, ObjectSummary } from './types.js';

/** Reads keys in UTF-8 byte order starting at `from`, lazily, so a caller may stop early. */
export type KeyScan = (from: string, inclusive: boolean) => Iterable<ObjectSummary> | AsyncIterable<ObjectSummary>;

/** Compares strings in UTF-8 byte order (S3's order), unlike JS's UTF-16 `<`. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The smallest string greater than every string that starts with `s`, or
 * undefined when none exists. Seeking there skips a whole common prefix.
 */
export function prefixSuccessor(s: string): string | undefined {
  const chars = Array.from(s);
  while (chars.length > 0) {
    const cp = chars.pop()!.codePointAt(0)!;
    if (cp < 0x10ffff) {
      const next = cp + 1 === 0xd800 ? 0xe000 : cp + 1;
      return chars.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

/**
 * One page of a listing with prefix and delimiter roll-up. Each common prefix
 * costs one seek past it, so the work is proportional to the page, not the
 * bucket (invariant 5). Entries (keys or common prefixes) at or before
 * `query.after` belong to earlier pages.
 */
export async function listPage(scan: KeyScan, query: ListQuery): Promise<ListPage> {
  const objects: ObjectSummary[] = [];
  const commonPrefixes: string[] = [];
  if (query.maxKeys <= 0) return { objects, commonPrefixes, isTruncated: false };

  let from = query.after;
  let inclusive = false;
  if (compareUtf8(query.prefix, from) > 0) {
    from = query.prefix;
    inclusive = true;
  }
  let last: string | undefined;
  for (;;) {
    let seekTo: string | undefined;
    let exhausted = true;
    for await (const entry of scan(from, inclusive)) {
      if (!entry.key.startsWith(query.prefix)) break;
      const rollUp = commonPrefixOf(entry.key, query);
      if (rollUp === undefined || compareUtf8(rollUp, query.after) > 0) {
        if (objects.length + commonPrefixes.length === query.maxKeys) {
          return { objects, commonPrefixes, isTruncated: true, last };
        }
        if (rollUp === undefined) objects.push(entry);
        else commonPrefixes.push(rollUp);
        last = rollUp ?? entry.key;
      }
      if (rollUp !== undefined) {
        seekTo = prefixSuccessor(rollUp);
        exhausted = seekTo === undefined;
        break;
      }
    }
    if (exhausted || seekTo === undefined) break;
    from = seekTo;
    inclusive = true;
  }
  return { objects, commonPrefixes, isTruncated: false, last };
}

function commonPrefixOf(key: string, query: ListQuery): string | undefined {
  if (query.delimiter === '') return undefined;
  const at = key.indexOf(query.delimiter, query.prefix.length);
  return at < 0 ? undefined : key.slice(0, at + query.delimiter.length);
}
