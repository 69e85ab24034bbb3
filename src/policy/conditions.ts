/**
 * S3's condition operators, pure: each compares the request's values for a key
 * with the statement's values. Missing keys, IfExists and the ForAnyValue /
 * ForAllValues qualifiers follow the IAM policy reference.
 */
import { BlockList, isIP } from 'node:net';
import type { Condition } from './document.js';
import { wildcardRegExp } from './document.js';

export const CONDITION_OPERATORS = [
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike', 'Null',
] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

/** The request's values for a (lower-cased) condition key; undefined when the request has none. */
export type ConditionKeys = (key: string) => readonly string[] | undefined;

/** Negated operators are true when no value matches, and for a missing key. */
const NEGATED: ReadonlySet<ConditionOperator> = new Set([
  'StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'NumericNotEquals', 'DateNotEquals', 'NotIpAddress', 'ArnNotEquals', 'ArnNotLike',
]);

function number(v: string): number {
  return v.trim() === '' ? NaN : Number(v);
}

function date(v: string): number {
  // Epoch seconds are allowed as well as ISO 8601.
  return /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v);
}

function inRange(ip: string, cidr: string): boolean {
  const [address, bits] = cidr.split('/');
  const type = isIP(address ?? '');
  const kind = type === 6 ? 'ipv6' : 'ipv4';
  if (type === 0 || isIP(ip) === 0) return false;
  const list = new BlockList();
  const prefix = bits === undefined ? (type === 6 ? 128 : 32) : Number(bits);
  if (!Number.isInteger(prefix)) return false;
  list.addSubnet(address!, prefix, kind);
  return list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
}

/** Whether one request value matches one policy value, in the positive sense of the operator. */
function matches(op: ConditionOperator, actual: string, expected: string): boolean {
  switch (op) {
    case 'StringEquals': case 'StringNotEquals': case 'ArnEquals': case 'ArnNotEquals': case 'BinaryEquals':
      return actual === expected;
    case 'StringEqualsIgnoreCase': case 'StringNotEqualsIgnoreCase':
      return actual.toLowerCase() === expected.toLowerCase();
    case 'StringLike': case 'StringNotLike': case 'ArnLike': case 'ArnNotLike':
      return wildcardRegExp(expected, false).test(actual);
    case 'NumericEquals': case 'NumericNotEquals': return number(actual) === number(expected);
    case 'NumericLessThan': return number(actual) < number(expected);
    case 'NumericLessThanEquals': return number(actual) <= number(expected);
    case 'NumericGreaterThan': return number(actual) > number(expected);
    case 'NumericGreaterThanEquals': return number(actual) >= number(expected);
    case 'DateEquals': case 'DateNotEquals': return date(actual) === date(expected);
    case 'DateLessThan': return date(actual) < date(expected);
    case 'DateLessThanEquals': return date(actual) <= date(expected);
    case 'DateGreaterThan': return date(actual) > date(expected);
    case 'DateGreaterThanEquals': return date(actual) >= date(expected);
    case 'Bool': return actual.toLowerCase() === expected.toLowerCase();
    case 'IpAddress': case 'NotIpAddress': return inRange(actual, expected);
    case 'Null': return false;
  }
}

function anyMatch(op: ConditionOperator, actual: string, expected: readonly string[]): boolean {
  return expected.some((e) => matches(op, actual, e));
}

/** Whether one condition (operator, key, values) holds for the request. */
export function conditionHolds(c: Condition, keys: ConditionKeys): boolean {
  const actual = keys(c.key);
  const present = actual !== undefined && actual.length > 0;
  if (c.operator === 'Null') return c.values.some((v) => (v.toLowerCase() === 'true') === !present);
  const negated = NEGATED.has(c.operator);
  if (c.qualifier === 'ForAllValues') {
    // Every request value must satisfy the operator; no values at all satisfies it vacuously.
    if (!present) return true;
    return actual.every((a) => anyMatch(c.operator, a, c.values) !== negated);
  }
  if (!present) return c.ifExists || (negated && c.qualifier === undefined);
  if (c.qualifier === 'ForAnyValue') return actual.some((a) => anyMatch(c.operator, a, c.values) !== negated);
  // Single-valued keys: a negated operator holds when the value matches none of the policy's values.
  return negated ? !actual.some((a) => anyMatch(c.operator, a, c.values)) : actual.some((a) => anyMatch(c.operator, a, c.values));
}
