import type { ListQuery } from './types.js';

/** Reads keys in UTF-8 byte order starting at `from`, lazily, so a caller may stop early. */
export type KeyScan<T extends { key: string }> = (from: string, inclusive: boolean) => Iterable<T> | AsyncIterable<T>;

/** A page of entries (objects, uploads) and the common prefixes rolled up among them. */
export interface RolledPage<T> {
  readonly entries: T[];
  readonly commonPrefixes: string[];
  readonly isTruncated: boolean;
  /** The last key or common prefix returned: where the next page starts after. */
  readonly last?: string;
}

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
export async function listPage<T extends { key: string }>(scan: KeyScan<T>, query: ListQuery): Promise<RolledPage<T>> {
  const objects: T[] = [];
  const commonPrefixes: string[] = [];
  if (query.maxKeys <= 0) return { entries: objects, commonPrefixes, isTruncated: false };

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
          return { entries: objects, commonPrefixes, isTruncated: true, last };
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
  return { entries: objects, commonPrefixes, isTruncated: false, last };
}

function commonPrefixOf(key: string, query: ListQuery): string | undefined {
  if (query.delimiter === '') return undefined;
  const at = key.indexOf(query.delimiter, query.prefix.length);
  return at < 0 ? undefined : key.slice(0, at + query.delimiter.length);
}
