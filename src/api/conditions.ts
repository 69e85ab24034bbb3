import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors.js';
import type { ObjectHead } from '../store/types.js';
import { bareEtag } from './object-headers.js';

export interface ReadConditions {
  readonly ifMatch?: string;
  readonly ifNoneMatch?: string;
  readonly ifModifiedSince?: string;
  readonly ifUnmodifiedSince?: string;
}

export type ConditionOutcome = 'proceed' | 'not-modified' | 'failed';

function etagMatches(list: string, etag: string): boolean {
  return list.split(',').some((candidate) => candidate.trim() === '*' || bareEtag(candidate) === etag);
}

/** Parses an HTTP date; an unparsable one is ignored, as S3 ignores it. */
function parseDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * S3's precedence (RFC 7232): If-Match decides over If-Unmodified-Since, and
 * If-None-Match over If-Modified-Since. Dates compare at whole seconds, the
 * precision of Last-Modified.
 */
export function evaluateConditions(c: ReadConditions, record: ObjectHead): ConditionOutcome {
  const modified = Math.floor(record.lastModified.getTime() / 1000) * 1000;
  if (c.ifMatch !== undefined) {
    if (!etagMatches(c.ifMatch, record.etag)) return 'failed';
  } else {
    const since = parseDate(c.ifUnmodifiedSince);
    if (since !== undefined && modified > since) return 'failed';
  }
  if (c.ifNoneMatch !== undefined) {
    if (etagMatches(c.ifNoneMatch, record.etag)) return 'not-modified';
  } else {
    const since = parseDate(c.ifModifiedSince);
    if (since !== undefined && modified <= since) return 'not-modified';
  }
  return 'proceed';
}

/** GET/HEAD conditions: throws PreconditionFailed, returns true for 304 Not Modified. */
export function evaluateReadConditions(headers: IncomingHttpHeaders, record: ObjectHead): boolean {
  const outcome = evaluateConditions({
    ...(headers['if-match'] !== undefined ? { ifMatch: headers['if-match'] } : {}),
    ...(headers['if-none-match'] !== undefined ? { ifNoneMatch: headers['if-none-match'] } : {}),
    ...(headers['if-modified-since'] !== undefined ? { ifModifiedSince: headers['if-modified-since'] } : {}),
    ...(headers['if-unmodified-since'] !== undefined ? { ifUnmodifiedSince: headers['if-unmodified-since'] } : {}),
  }, record);
  if (outcome === 'failed') throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
  return outcome === 'not-modified';
}
