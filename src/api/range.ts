import { S3Error } from '../errors.js';

/** An inclusive byte range. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Parses a Range header against an object size. Malformed headers and multiple
 * ranges are ignored (the whole object is served), as S3 does; a range that
 * starts past the end is InvalidRange.
 */
export function parseRange(header: string, size: number): ByteRange | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const [, first, last] = m as unknown as [string, string, string];
  if (first === '' && last === '') return undefined;
  let start: number;
  let end: number;
  if (first === '') {
    const suffix = Number(last);
    start = Math.max(0, size - suffix);
    end = size - 1;
    if (suffix === 0) throw unsatisfiable(header, size);
  } else {
    start = Number(first);
    if (last !== '' && Number(last) < start) return undefined;
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  }
  if (start >= size) throw unsatisfiable(header, size);
  return { start, end };
}

function unsatisfiable(header: string, size: number): S3Error {
  return new S3Error('InvalidRange', undefined, { RangeRequested: header, ActualObjectSize: String(size) }, { 'Content-Range': `bytes */${size}` });
}
