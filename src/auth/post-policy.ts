/**
 * Browser-form (POST Object) authentication: the policy document a form
 * carries, its signature (V4: x-amz-algorithm / x-amz-credential / x-amz-date /
 * x-amz-signature; V2: AWSAccessKeyId / signature), and the conditions the
 * form must meet. Field names are case-insensitive: callers pass them
 * lower-cased.
 */
import { createHmac } from 'node:crypto';
import { S3Error } from '../errors.js';
import { ALGORITHM, hmacHex, parseAmzDate, parseCredential, signaturesEqual, signingKey } from './sigv4.js';
import type { Principal, SecretLookup } from './types.js';

/** Fields no condition needs to name (S3's list for V4 and V2 together, plus x-ignore-*). */
const UNCONDITIONED = new Set(['policy', 'x-amz-signature', 'signature', 'awsaccesskeyid', 'file']);

/** `field` is lower-cased for matching; `name` is spelled as the policy wrote it, for S3's error message. */
export type PolicyCondition =
  | { readonly kind: 'eq' | 'starts-with'; readonly field: string; readonly name: string; readonly value: string }
  | { readonly kind: 'content-length-range'; readonly min: number; readonly max: number };

export interface PostPolicy {
  readonly expiration: Date;
  readonly conditions: readonly PolicyCondition[];
}

function invalidPolicy(detail: string): S3Error {
  return new S3Error('InvalidPolicyDocument', `Invalid Policy: ${detail}`);
}

function missingField(name: string): S3Error {
  return new S3Error('InvalidArgument', `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`, {
    ArgumentName: name, ArgumentValue: '',
  });
}

/** `$name` of a condition, without the dollar. */
function fieldName(raw: unknown): string {
  if (typeof raw !== 'string' || !raw.startsWith('$')) throw invalidPolicy('Invalid Condition: a field name must start with "$".');
  return raw.slice(1);
}

function conditionValue(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  throw invalidPolicy('Invalid Condition: a condition value must be a string.');
}

function lengthBound(raw: unknown): number {
  const n = typeof raw === 'string' && /^\d{1,16}$/.test(raw) ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw invalidPolicy('Invalid content-length-range: the bounds must be non-negative integers.');
  return n;
}

function parseCondition(raw: unknown): PolicyCondition {
  if (Array.isArray(raw)) {
    const op = typeof raw[0] === 'string' ? raw[0].toLowerCase() : '';
    if (op === 'content-length-range') {
      if (raw.length !== 3) throw invalidPolicy('Invalid content-length-range: it takes two bounds.');
      const min = lengthBound(raw[1]);
      const max = lengthBound(raw[2]);
      return { kind: 'content-length-range', min, max };
    }
    if (op !== 'eq' && op !== 'starts-with') throw invalidPolicy(`Invalid Condition: unknown operation ${JSON.stringify(raw[0])}.`);
    if (raw.length !== 3) throw invalidPolicy(`Invalid Condition: ${op} takes a field and a value.`);
    const name = fieldName(raw[1]);
    return { kind: op, field: name.toLowerCase(), name, value: conditionValue(raw[2]) };
  }
  if (typeof raw === 'object' && raw !== null) {
    const entries = Object.entries(raw);
    if (entries.length !== 1) throw invalidPolicy('Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.');
    const [name, value] = entries[0]!;
    if (typeof value !== 'string') throw invalidPolicy('Invalid Simple-Condition: value must be a string.');
    return { kind: 'eq', field: name.toLowerCase(), name, value };
  }
  throw invalidPolicy('Invalid Condition: a condition must be an object or an array.');
}

/** Decodes the base64 JSON policy of a form. */
export function parsePolicy(base64: string): PostPolicy {
  const text = Buffer.from(base64, 'base64').toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw invalidPolicy('Invalid JSON.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalidPolicy('Invalid JSON.');
  const { expiration, conditions } = doc as Record<string, unknown>;
  if (expiration === undefined) throw invalidPolicy('Policy missing expiration.');
  // ISO 8601 in GMT, as S3 wants it: a date-time without the Z is refused, not read as local time.
  const expires = typeof expiration === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(expiration) ? new Date(expiration) : undefined;
  if (expires === undefined || Number.isNaN(expires.getTime())) throw invalidPolicy(`Invalid 'expiration' value: '${String(expiration)}'`);
  if (conditions === undefined) throw invalidPolicy('Policy missing conditions.');
  if (!Array.isArray(conditions)) throw invalidPolicy('Invalid \'conditions\' value: must be a List.');
  return { expiration: expires, conditions: conditions.map(parseCondition) };
}

/**
 * Who signed the form, once its signature over the base64 policy verifies;
 * anonymous when the form has no policy (then S3 wants no signature either).
 */
export async function authenticateForm(fields: ReadonlyMap<string, string>, lookup: SecretLookup): Promise<Principal> {
  const policy = fields.get('policy');
  const v4 = fields.has('x-amz-signature') || fields.has('x-amz-credential') || fields.has('x-amz-algorithm');
  const v2 = fields.has('signature') || fields.has('awsaccesskeyid');
  if (policy === undefined) {
    if (v4 || v2) throw missingField('policy');
    return { kind: 'anonymous' };
  }
  if (v4) {
    const algorithm = fields.get('x-amz-algorithm');
    const credential = fields.get('x-amz-credential');
    const amzDate = fields.get('x-amz-date');
    const signature = fields.get('x-amz-signature');
    if (algorithm === undefined) throw missingField('x-amz-algorithm');
    if (credential === undefined) throw missingField('x-amz-credential');
    if (amzDate === undefined) throw missingField('x-amz-date');
    if (signature === undefined) throw missingField('x-amz-signature');
    if (algorithm !== ALGORITHM) {
      throw new S3Error('InvalidArgument', `POST form x-amz-algorithm only supports "${ALGORITHM}"`, { ArgumentName: 'x-amz-algorithm', ArgumentValue: algorithm });
    }
    const cred = parseCredential(credential);
    if ('error' in cred) throw new S3Error('InvalidArgument', cred.error, { ArgumentName: 'X-Amz-Credential', ArgumentValue: credential });
    const date = parseAmzDate(amzDate);
    if (date === undefined || cred.date !== amzDate.slice(0, 8)) {
      throw new S3Error('InvalidArgument', 'x-amz-date must be in the ISO8601 Long Format and on the day of the credential', { ArgumentName: 'x-amz-date', ArgumentValue: amzDate });
    }
    const key = await lookup(cred.accessKeyId);
    if (key === undefined) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: cred.accessKeyId });
    const expected = hmacHex(signingKey(key.secretKey, cred.date, cred.region), policy);
    if (!signaturesEqual(expected, signature)) {
      throw new S3Error('SignatureDoesNotMatch', undefined, { AWSAccessKeyId: cred.accessKeyId, StringToSign: policy, SignatureProvided: signature });
    }
    return { kind: 'account', accountId: key.accountId, accessKeyId: cred.accessKeyId };
  }
  const accessKeyId = fields.get('awsaccesskeyid');
  const signature = fields.get('signature');
  if (accessKeyId === undefined) throw missingField('AWSAccessKeyId');
  if (signature === undefined) throw missingField('signature');
  const key = await lookup(accessKeyId);
  if (key === undefined) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKeyId });
  const expected = createHmac('sha1', key.secretKey).update(policy, 'utf8').digest();
  const provided = Buffer.from(signature, 'base64');
  if (provided.length !== expected.length || !expected.equals(provided)) {
    throw new S3Error('SignatureDoesNotMatch', undefined, { AWSAccessKeyId: accessKeyId, StringToSign: policy, SignatureProvided: signature });
  }
  return { kind: 'account', accountId: key.accountId, accessKeyId };
}

function describe(c: Extract<PolicyCondition, { kind: 'eq' | 'starts-with' }>): string {
  return `[${JSON.stringify(c.kind)}, ${JSON.stringify(`$${c.name}`)}, ${JSON.stringify(c.value)}]`;
}

function holds(c: Extract<PolicyCondition, { kind: 'eq' | 'starts-with' }>, actual: string): boolean {
  if (c.kind === 'eq') return actual === c.value;
  // Content-Type may list several types; each must start with the prefix.
  if (c.field === 'content-type') return actual.split(',').every((t) => t.trim().startsWith(c.value));
  return actual.startsWith(c.value);
}

/**
 * Checks a form against its policy: not expired, every eq / starts-with
 * condition holds (`bucket` is the addressed bucket, `key` the key after
 * ${filename} substitution; a field the form does not send fails even
 * starts-with ""), and every input, the bucket included, is named by a
 * condition. Returns the content-length-range to enforce on the file, if any.
 */
export function checkPolicy(policy: PostPolicy, fields: ReadonlyMap<string, string>, bucket: string, key: string, now: Date): { min: number; max: number } | undefined {
  if (now.getTime() > policy.expiration.getTime()) throw new S3Error('AccessDenied', 'Invalid according to Policy: Policy expired.');
  // The addressed bucket and the substituted key win over same-named form fields; the bucket is listed first.
  const inputs = new Map<string, string>([['bucket', bucket], ...fields]).set('bucket', bucket).set('key', key);
  const named = new Set<string>();
  let range: { min: number; max: number } | undefined;
  for (const c of policy.conditions) {
    if (c.kind === 'content-length-range') {
      range = { min: c.min, max: c.max };
      continue;
    }
    named.add(c.field);
    const actual = inputs.get(c.field);
    if (actual === undefined || !holds(c, actual)) throw new S3Error('AccessDenied', `Invalid according to Policy: Policy Condition failed: ${describe(c)}`);
  }
  const extra = [...inputs.keys()].filter((f) => !UNCONDITIONED.has(f) && !f.startsWith('x-ignore-') && !named.has(f));
  if (extra.length > 0) throw new S3Error('AccessDenied', `Invalid according to Policy: Extra input fields: ${extra.join(', ')}`);
  return range;
}
