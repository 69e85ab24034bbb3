/**
 * Evaluates a bucket policy for one request, pure: the statements that apply
 * (principal, action, resource and every condition match) decide. An explicit
 * Deny wins over any Allow; no applying statement is `None`, left to the ACLs.
 */
import { conditionHolds, type ConditionKeys } from './conditions.js';
import { wildcardRegExp, type Patterns, type PrincipalSet, type Statement, type Policy } from './document.js';

export type Verdict = 'Allow' | 'Deny' | 'None';

export interface PolicyRequest {
  /** The calling account's id; undefined for an anonymous request. */
  readonly account: string | undefined;
  /** The IAM action, like `s3:GetObject`. */
  readonly action: string;
  /** The resource ARN: `arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/key`. */
  readonly resource: string;
  readonly keys: ConditionKeys;
}

function principalMatches(set: PrincipalSet, account: string | undefined): boolean {
  return set.everyone || (account !== undefined && set.accounts.includes(account));
}

/** Actions compare case-insensitively, resources case-sensitively. */
function patternsMatch(p: Patterns, value: string, ignoreCase: boolean): boolean {
  const hit = p.patterns.some((pattern) => wildcardRegExp(pattern, ignoreCase).test(value));
  return hit !== p.negated;
}

export function statementApplies(s: Statement, r: PolicyRequest): boolean {
  return principalMatches(s.principal, r.account) !== s.principalNegated
    && patternsMatch(s.action, r.action, true)
    && patternsMatch(s.resource, r.resource, false)
    && s.conditions.every((c) => conditionHolds(c, r.keys));
}

export function evaluatePolicy(policy: Policy, r: PolicyRequest): Verdict {
  let verdict: Verdict = 'None';
  for (const s of policy.statements) {
    if (!statementApplies(s, r)) continue;
    if (s.effect === 'Deny') return 'Deny';
    verdict = 'Allow';
  }
  return verdict;
}

/**
 * Whether the policy makes the bucket public, as GetBucketPolicyStatus reports:
 * an Allow for everyone that no condition narrows to fixed callers or networks.
 */
const NARROWING_KEYS = new Set([
  'aws:sourceip', 'aws:sourcearn', 'aws:sourcevpc', 'aws:sourcevpce', 'aws:sourceaccount', 'aws:sourceowner',
  'aws:principalaccount', 'aws:principalarn', 'aws:principalorgid', 'aws:userid', 's3:x-amz-server-side-encryption-aws-kms-key-id',
]);

export function policyIsPublic(policy: Policy): boolean {
  return policy.statements.some((s) => s.effect === 'Allow' && !s.principalNegated && s.principal.everyone
    && !s.conditions.some((c) => NARROWING_KEYS.has(c.key)));
}
