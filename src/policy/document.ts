/**
 * The bucket policy language: a JSON document parsed and validated into a typed
 * policy, as S3 validates it on PutBucketPolicy. Every refusal is a
 * MalformedPolicy that names what is wrong.
 */
import { S3Error } from '../errors.js';
import { CONDITION_OPERATORS, type ConditionOperator } from './conditions.js';

/** S3 refuses bucket policies larger than 20 KB. */
export const MAX_POLICY_BYTES = 20 * 1024;
const VERSIONS = new Set(['2012-10-17', '2008-10-17']);
const MAX_STATEMENTS = 1000;
const MAX_VALUES = 1000;

export type Effect = 'Allow' | 'Deny';

/** Who a statement names: everyone (`*`), or accounts (by id, root ARN or canonical id). */
export interface PrincipalSet {
  readonly everyone: boolean;
  readonly accounts: readonly string[];
}

export interface Condition {
  readonly operator: ConditionOperator;
  readonly ifExists: boolean;
  readonly qualifier: 'ForAnyValue' | 'ForAllValues' | undefined;
  /** Lower-cased, as condition keys are case-insensitive. */
  readonly key: string;
  readonly values: readonly string[];
}

/** A matcher that is either positive (Action) or negated (NotAction). */
export interface Patterns {
  readonly negated: boolean;
  readonly patterns: readonly string[];
}

export interface Statement {
  readonly sid: string | undefined;
  readonly effect: Effect;
  readonly principal: PrincipalSet;
  /** True for NotPrincipal. */
  readonly principalNegated: boolean;
  readonly action: Patterns;
  readonly resource: Patterns;
  readonly conditions: readonly Condition[];
}

export interface Policy {
  readonly statements: readonly Statement[];
}

function malformed(message: string): S3Error {
  return new S3Error('MalformedPolicy', message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A string or a non-empty array of strings, as the policy grammar allows for most fields. */
function strings(v: unknown, field: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || list.length > MAX_VALUES || !list.every((s) => typeof s === 'string')) {
    throw malformed(`${field} must be a string or a non-empty array of strings`);
  }
  return list as string[];
}

/** Condition values may also be numbers or booleans; S3 compares their text. */
function conditionValues(v: unknown, key: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || list.length > MAX_VALUES || !list.every((s) => ['string', 'number', 'boolean'].includes(typeof s))) {
    throw malformed(`Invalid value for condition key ${key}`);
  }
  return list.map(String);
}

const ACCOUNT_ARN = /^arn:aws:iam::([^:]+):root$/;

function parsePrincipal(v: unknown, field: string): PrincipalSet {
  if (v === '*') return { everyone: true, accounts: [] };
  if (!isObject(v)) throw malformed(`Invalid principal in policy: ${field} must be "*" or an object`);
  let everyone = false;
  const accounts: string[] = [];
  for (const [kind, value] of Object.entries(v)) {
    if (kind !== 'AWS' && kind !== 'CanonicalUser') throw malformed(`Invalid principal in policy: unsupported principal type ${kind}`);
    for (const id of strings(value, `${field}.${kind}`)) {
      if (id === '*' && kind === 'AWS') {
        everyone = true;
        continue;
      }
      const account = kind === 'AWS' ? (ACCOUNT_ARN.exec(id)?.[1] ?? id) : id;
      if (account === '' || account.includes(':') || account.includes('*')) throw malformed(`Invalid principal in policy: ${id}`);
      accounts.push(account);
    }
  }
  return { everyone, accounts };
}

const ACTION = /^(\*|s3:[A-Za-z*?]+)$/;

function parseActions(v: unknown, field: string): string[] {
  const actions = strings(v, field);
  for (const a of actions) if (!ACTION.test(a)) throw malformed(`Policy has invalid action: ${a}`);
  return actions;
}

/** Turns an IAM wildcard pattern (`*`, `?`) into an anchored RegExp. */
export function wildcardRegExp(pattern: string, ignoreCase: boolean): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
}

/** Resources must be S3 ARNs, and a bucket policy may only speak of its own bucket and its objects. */
function parseResources(v: unknown, field: string, bucket: string): string[] {
  const resources = strings(v, field);
  for (const r of resources) {
    if (r === '*') continue;
    if (!r.startsWith('arn:aws:s3:::')) throw malformed(`Policy has invalid resource: ${r}`);
    const bucketPart = r.slice('arn:aws:s3:::'.length).split('/')[0]!;
    if (!wildcardRegExp(bucketPart, false).test(bucket)) throw malformed(`Policy has invalid resource: ${r}`);
  }
  return resources;
}

function parseConditions(v: unknown): Condition[] {
  if (!isObject(v)) throw malformed('Condition must be an object');
  const conditions: Condition[] = [];
  for (const [name, block] of Object.entries(v)) {
    const qualified = /^(ForAnyValue|ForAllValues):(.*)$/.exec(name);
    const rest = qualified ? qualified[2]! : name;
    const ifExists = rest.endsWith('IfExists') && rest !== 'IfExists';
    const operator = ifExists ? rest.slice(0, -'IfExists'.length) : rest;
    if (!(CONDITION_OPERATORS as readonly string[]).includes(operator) || (ifExists && operator === 'Null')) {
      throw malformed(`Invalid Condition type : ${name}`);
    }
    if (!isObject(block) || Object.keys(block).length === 0) throw malformed(`Condition ${name} must name at least one key`);
    for (const [key, values] of Object.entries(block)) {
      if (!/^[A-Za-z0-9-]+:[^\s]+$/.test(key)) throw malformed(`Invalid condition key: ${key}`);
      conditions.push({
        operator: operator as ConditionOperator, ifExists,
        qualifier: qualified ? (qualified[1] as 'ForAnyValue' | 'ForAllValues') : undefined,
        key: key.toLowerCase(), values: conditionValues(values, key),
      });
    }
  }
  return conditions;
}

const STATEMENT_FIELDS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);

/** Exactly one of a field and its Not form. */
function oneOf(s: Record<string, unknown>, field: string): [unknown, boolean] {
  const positive = s[field];
  const negated = s[`Not${field}`];
  if (positive !== undefined && negated !== undefined) throw malformed(`Statement may not have both ${field} and Not${field}`);
  if (positive === undefined && negated === undefined) throw malformed(`Missing required field ${field}`);
  return positive !== undefined ? [positive, false] : [negated, true];
}

function parseStatement(s: unknown, bucket: string): Statement {
  if (!isObject(s)) throw malformed('Statement must be an object');
  for (const field of Object.keys(s)) if (!STATEMENT_FIELDS.has(field)) throw malformed(`Unknown field ${field}`);
  if (s.Sid !== undefined && typeof s.Sid !== 'string') throw malformed('Sid must be a string');
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw malformed(`Invalid effect: ${String(s.Effect)}`);
  const [principal, principalNegated] = oneOf(s, 'Principal');
  // AWS strongly advises against Allow with NotPrincipal; S3 refuses it.
  if (principalNegated && s.Effect === 'Allow') throw malformed('NotPrincipal is only supported with Effect Deny');
  const [action, actionNegated] = oneOf(s, 'Action');
  const [resource, resourceNegated] = oneOf(s, 'Resource');
  const principalField = principalNegated ? 'NotPrincipal' : 'Principal';
  return {
    sid: s.Sid,
    effect: s.Effect,
    principal: parsePrincipal(principal, principalField),
    principalNegated,
    action: { negated: actionNegated, patterns: parseActions(action, actionNegated ? 'NotAction' : 'Action') },
    resource: { negated: resourceNegated, patterns: parseResources(resource, resourceNegated ? 'NotResource' : 'Resource', bucket) },
    conditions: s.Condition === undefined ? [] : parseConditions(s.Condition),
  };
}

/** Parses a bucket policy for `bucket`; MalformedPolicy says what is wrong. */
export function parsePolicy(text: string, bucket: string): Policy {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) throw malformed(`Policies must be no larger than ${MAX_POLICY_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed('This policy contains invalid Json');
  }
  if (!isObject(doc)) throw malformed('This policy contains invalid Json');
  for (const field of Object.keys(doc)) if (!['Version', 'Id', 'Statement'].includes(field)) throw malformed(`Unknown field ${field}`);
  if (doc.Version !== undefined && !(typeof doc.Version === 'string' && VERSIONS.has(doc.Version))) {
    throw malformed(`The policy must contain a valid version string`);
  }
  if (doc.Id !== undefined && typeof doc.Id !== 'string') throw malformed('Id must be a string');
  if (doc.Statement === undefined) throw malformed('Missing required field Statement');
  const list = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (list.length === 0) throw malformed('Missing required field Statement');
  if (list.length > MAX_STATEMENTS) throw malformed('Too many statements');
  return { statements: list.map((s) => parseStatement(s, bucket)) };
}
