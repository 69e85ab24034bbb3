import { randomBytes } from 'node:crypto';
import { S3Error } from '../errors.js';
import type {
  LifecycleConfiguration, LifecycleExpiration, LifecycleFilter, LifecycleRule, LifecycleTransition, LifecycleWhen,
  NoncurrentExpiration, NoncurrentTransition,
} from '../store/lifecycle-types.js';
import type { TagPair } from '../store/types.js';
import { childrenOf, parseXml, textOf, type ParsedXml, type XmlObject } from '../xml.js';

const MAX_RULES = 1000;
const MAX_ID_LENGTH = 255;
/** Classes a lifecycle rule may move objects to. */
const TRANSITION_CLASSES = ['STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE'];
/** S3 keeps objects at least 30 days in STANDARD before the infrequent-access classes. */
const MIN_IA_DAYS = 30;

function malformed(): S3Error {
  return new S3Error('MalformedXML');
}

function invalidArgument(message: string): S3Error {
  return new S3Error('InvalidArgument', message);
}

/** The only child element `name` of `node`, undefined when absent; MalformedXML when repeated. */
function single(node: ParsedXml, name: string): ParsedXml | undefined {
  const found = childrenOf(node, name);
  if (found.length > 1) throw malformed();
  return found[0];
}

/** A whole number of at least `min`; `label` names it in S3's message, e.g. `'Days' for Expiration action`. */
function wholeNumber(text: string | undefined, label: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (!/^-?\d+$/.test(trimmed)) throw malformed();
  const n = Number(trimmed);
  if (!Number.isSafeInteger(n) || n < min) {
    throw invalidArgument(`${label} must be a ${min > 0 ? 'positive' : 'non-negative'} integer`);
  }
  return n;
}

/** A lifecycle Date: ISO 8601 at midnight UTC, normalised to S3's rendering. */
function midnightDate(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text.trim());
  if (Number.isNaN(ms)) throw invalidArgument('Invalid date');
  if (ms % 86_400_000 !== 0) throw invalidArgument('\'Date\' must be at midnight GMT');
  return new Date(ms).toISOString();
}

function when(node: ParsedXml, action: string, minDays: number): LifecycleWhen {
  const days = wholeNumber(textOf(node, 'Days'), `'Days' for ${action} action`, minDays);
  const date = midnightDate(textOf(node, 'Date'));
  if (days !== undefined && date !== undefined) throw malformed();
  return { ...(days !== undefined ? { days } : {}), ...(date !== undefined ? { date } : {}) };
}

function tag(node: ParsedXml): TagPair {
  const key = textOf(node, 'Key');
  const value = textOf(node, 'Value');
  if (key === undefined || value === undefined) throw malformed();
  if (key.length > 128 || value.length > 256) throw invalidArgument('The TagKey or TagValue you have provided is too long');
  return { key, value };
}

function sizeBounds(node: ParsedXml): { sizeGreaterThan?: number; sizeLessThan?: number } {
  const gt = wholeNumber(textOf(node, 'ObjectSizeGreaterThan'), '\'ObjectSizeGreaterThan\'', 0);
  const lt = wholeNumber(textOf(node, 'ObjectSizeLessThan'), '\'ObjectSizeLessThan\'', 1);
  if (gt !== undefined && lt !== undefined && gt >= lt) {
    throw invalidArgument('\'ObjectSizeGreaterThan\' must be less than \'ObjectSizeLessThan\'');
  }
  return { ...(gt !== undefined ? { sizeGreaterThan: gt } : {}), ...(lt !== undefined ? { sizeLessThan: lt } : {}) };
}

const FILTER_CONDITIONS = ['Prefix', 'Tag', 'And', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan'];

function filterOf(rule: ParsedXml): LifecycleFilter {
  const legacyPrefix = textOf(rule, 'Prefix');
  const filter = single(rule, 'Filter');
  if (legacyPrefix !== undefined && filter !== undefined) throw malformed();
  if (legacyPrefix !== undefined) return { form: 'legacy-prefix', prefix: legacyPrefix, tags: [] };
  if (filter === undefined || typeof filter === 'string') {
    if (typeof filter === 'string' && filter.trim() !== '') throw malformed();
    return { form: 'empty', tags: [] };
  }
  const present = FILTER_CONDITIONS.filter((c) => childrenOf(filter, c).length > 0);
  if (present.length > 1 || childrenOf(filter, 'Tag').length > 1) throw malformed();
  switch (present[0]) {
    case undefined: return { form: 'empty', tags: [] };
    case 'Prefix': return { form: 'prefix', prefix: textOf(filter, 'Prefix')!, tags: [] };
    case 'Tag': return { form: 'tag', tags: [tag(childrenOf(filter, 'Tag')[0]!)] };
    case 'ObjectSizeGreaterThan': return { form: 'size-greater', tags: [], ...sizeBounds(filter) };
    case 'ObjectSizeLessThan': return { form: 'size-less', tags: [], ...sizeBounds(filter) };
    default: {
      const and = single(filter, 'And')!;
      const prefix = textOf(and, 'Prefix');
      const tags = childrenOf(and, 'Tag').map(tag);
      if (new Set(tags.map((t) => t.key)).size !== tags.length) throw new S3Error('InvalidRequest', 'Duplicate Tag Keys are not allowed.');
      const bounds = sizeBounds(and);
      if ((prefix !== undefined ? 1 : 0) + tags.length + Object.keys(bounds).length < 1) throw malformed();
      return { form: 'and', ...(prefix !== undefined ? { prefix } : {}), tags, ...bounds };
    }
  }
}

function transitionOf(node: ParsedXml): LifecycleTransition {
  const storageClass = textOf(node, 'StorageClass');
  if (storageClass === undefined || !TRANSITION_CLASSES.includes(storageClass)) throw malformed();
  const w = when(node, 'Transition', 0);
  if (w.days === undefined && w.date === undefined) throw malformed();
  if (w.days !== undefined && w.days < MIN_IA_DAYS && (storageClass === 'STANDARD_IA' || storageClass === 'ONEZONE_IA')) {
    throw invalidArgument(`'Days' in Transition action must be greater than or equal to ${MIN_IA_DAYS} for storageClass '${storageClass}'`);
  }
  return { ...w, storageClass };
}

function expirationOf(node: ParsedXml | undefined): LifecycleExpiration | undefined {
  if (node === undefined) return undefined;
  const w = when(node, 'Expiration', 1);
  const marker = textOf(node, 'ExpiredObjectDeleteMarker');
  if (marker !== undefined && marker !== 'true' && marker !== 'false') throw malformed();
  const given = (w.days !== undefined ? 1 : 0) + (w.date !== undefined ? 1 : 0) + (marker !== undefined ? 1 : 0);
  if (given !== 1) throw malformed();
  return { ...w, ...(marker !== undefined ? { expiredObjectDeleteMarker: marker === 'true' } : {}) };
}

/** S3 keeps at most 100 noncurrent versions by count. */
const MAX_NEWER_NONCURRENT = 100;

function newerNoncurrentVersions(node: ParsedXml): number | undefined {
  const newer = wholeNumber(textOf(node, 'NewerNoncurrentVersions'), '\'NewerNoncurrentVersions\'', 1);
  if (newer !== undefined && newer > MAX_NEWER_NONCURRENT) {
    throw invalidArgument(`'NewerNoncurrentVersions' must be at most ${MAX_NEWER_NONCURRENT}`);
  }
  return newer;
}

function noncurrentTransitionOf(node: ParsedXml): NoncurrentTransition {
  const storageClass = textOf(node, 'StorageClass');
  if (storageClass === undefined || !TRANSITION_CLASSES.includes(storageClass)) throw malformed();
  const noncurrentDays = wholeNumber(textOf(node, 'NoncurrentDays'), '\'NoncurrentDays\' for NoncurrentVersionTransition action', 0);
  if (noncurrentDays === undefined) throw malformed();
  const newer = newerNoncurrentVersions(node);
  return { noncurrentDays, storageClass, ...(newer !== undefined ? { newerNoncurrentVersions: newer } : {}) };
}

function noncurrentExpirationOf(node: ParsedXml | undefined): NoncurrentExpiration | undefined {
  if (node === undefined) return undefined;
  const days = wholeNumber(textOf(node, 'NoncurrentDays'), '\'NoncurrentDays\' for NoncurrentVersionExpiration action', 1);
  const newer = newerNoncurrentVersions(node);
  if (days === undefined) throw malformed();
  return { noncurrentDays: days, ...(newer !== undefined ? { newerNoncurrentVersions: newer } : {}) };
}

/** Checks what S3 checks across a rule's actions. */
function checkActions(rule: LifecycleRule): void {
  const { transitions, expiration, filter } = rule;
  if (transitions.length === 0 && !expiration && rule.abortIncompleteUploadDays === undefined
    && rule.noncurrentTransitions.length === 0 && !rule.noncurrentExpiration) {
    throw new S3Error('InvalidRequest', 'At least one action needs to be specified in a rule');
  }
  if (new Set(transitions.map((t) => t.storageClass)).size !== transitions.length) {
    throw new S3Error('InvalidRequest', '\'StorageClass\' must be different for \'Transition\' actions in same \'Rule\'');
  }
  const byDays = transitions.filter((t) => t.days !== undefined).length;
  if (byDays !== 0 && byDays !== transitions.length) {
    throw new S3Error('InvalidRequest', 'Found mixed \'Date\' and \'Days\' based Transition actions in lifecycle rule');
  }
  if (expiration?.days !== undefined && transitions.some((t) => t.days !== undefined && t.days >= expiration.days!)) {
    throw invalidArgument('\'Days\' in the Expiration action must be greater than \'Days\' in the Transition action');
  }
  if (filter.tags.length > 0 && (rule.abortIncompleteUploadDays !== undefined || expiration?.expiredObjectDeleteMarker !== undefined)) {
    throw new S3Error('InvalidRequest', rule.abortIncompleteUploadDays !== undefined
      ? 'AbortIncompleteMultipartUpload cannot be specified with Tags.'
      : 'ExpiredObjectDeleteMarker cannot be specified with Tags.');
  }
}

function ruleOf(node: ParsedXml): LifecycleRule {
  if (typeof node === 'string') throw malformed();
  const id = textOf(node, 'ID') ?? randomBytes(24).toString('base64url');
  if (id.length > MAX_ID_LENGTH) throw invalidArgument(`ID length should not exceed allowed limit of ${MAX_ID_LENGTH}`);
  const status = textOf(node, 'Status');
  if (status !== 'Enabled' && status !== 'Disabled') throw malformed();
  const abort = single(node, 'AbortIncompleteMultipartUpload');
  const abortDays = abort === undefined ? undefined
    : wholeNumber(textOf(abort, 'DaysAfterInitiation'), '\'DaysAfterInitiation\' for AbortIncompleteMultipartUpload action', 1);
  if (abort !== undefined && abortDays === undefined) throw malformed();
  const rule: LifecycleRule = {
    id, status, filter: filterOf(node),
    transitions: childrenOf(node, 'Transition').map(transitionOf),
    ...(single(node, 'Expiration') !== undefined ? { expiration: expirationOf(single(node, 'Expiration'))! } : {}),
    ...(abortDays !== undefined ? { abortIncompleteUploadDays: abortDays } : {}),
    noncurrentTransitions: childrenOf(node, 'NoncurrentVersionTransition').map(noncurrentTransitionOf),
    ...(single(node, 'NoncurrentVersionExpiration') !== undefined
      ? { noncurrentExpiration: noncurrentExpirationOf(single(node, 'NoncurrentVersionExpiration'))! } : {}),
  };
  checkActions(rule);
  return rule;
}

/** Parses and validates a LifecycleConfiguration document with S3's error codes. */
export function parseLifecycleConfiguration(text: string): LifecycleConfiguration {
  const doc = parseXml(text, 'LifecycleConfiguration');
  const nodes = childrenOf(doc, 'Rule');
  if (nodes.length === 0) throw malformed();
  if (nodes.length > MAX_RULES) throw invalidArgument(`A lifecycle configuration may hold at most ${MAX_RULES} rules`);
  const rules = nodes.map(ruleOf);
  if (new Set(rules.map((r) => r.id)).size !== rules.length) {
    throw invalidArgument('Rule ID must be unique. Found same ID for more than one rule');
  }
  return { rules };
}

function renderWhen(w: LifecycleWhen): XmlObject {
  return { ...(w.date !== undefined ? { Date: w.date } : {}), ...(w.days !== undefined ? { Days: w.days } : {}) };
}

function renderTag(t: TagPair): XmlObject {
  return { Key: t.key, Value: t.value };
}

function renderFilter(f: LifecycleFilter): XmlObject {
  switch (f.form) {
    case 'legacy-prefix': return { Prefix: f.prefix ?? '' };
    case 'empty': return { Filter: {} };
    case 'prefix': return { Filter: { Prefix: f.prefix ?? '' } };
    case 'tag': return { Filter: { Tag: renderTag(f.tags[0]!) } };
    case 'size-greater': return { Filter: { ObjectSizeGreaterThan: f.sizeGreaterThan } };
    case 'size-less': return { Filter: { ObjectSizeLessThan: f.sizeLessThan } };
    case 'and': return {
      Filter: {
        And: {
          Prefix: f.prefix, Tag: f.tags.map(renderTag),
          ObjectSizeGreaterThan: f.sizeGreaterThan, ObjectSizeLessThan: f.sizeLessThan,
        },
      },
    };
  }
}

/** The document GetBucketLifecycleConfiguration answers with. */
export function renderLifecycleConfiguration(config: LifecycleConfiguration): XmlObject {
  return {
    Rule: config.rules.map((r) => ({
      ...(r.expiration ? {
        Expiration: {
          ...renderWhen(r.expiration),
          ExpiredObjectDeleteMarker: r.expiration.expiredObjectDeleteMarker,
        },
      } : {}),
      ID: r.id,
      ...renderFilter(r.filter),
      Status: r.status,
      // Exactly two children each: boto 2 counts them to split consecutive transitions.
      Transition: r.transitions.map((t) => ({ ...renderWhen(t), StorageClass: t.storageClass })),
      NoncurrentVersionTransition: r.noncurrentTransitions.map((t) => ({
        NoncurrentDays: t.noncurrentDays, StorageClass: t.storageClass, NewerNoncurrentVersions: t.newerNoncurrentVersions,
      })),
      NoncurrentVersionExpiration: r.noncurrentExpiration && {
        NoncurrentDays: r.noncurrentExpiration.noncurrentDays, NewerNoncurrentVersions: r.noncurrentExpiration.newerNoncurrentVersions,
      },
      AbortIncompleteMultipartUpload: r.abortIncompleteUploadDays !== undefined
        ? { DaysAfterInitiation: r.abortIncompleteUploadDays } : undefined,
    })),
  };
}
