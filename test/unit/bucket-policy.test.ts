/** The bucket policy parser and evaluator, without a server, on the examples of the AWS S3 and IAM guides. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy } from '../../src/policy/document.js';
import { evaluatePolicy, policyIsPublic, type PolicyRequest } from '../../src/policy/evaluate.js';
import { S3Error } from '../../src/errors.js';

const BUCKET = 'amzn-s3-demo-bucket';
const OWNER = '111122223333';
const OTHER = '444455556666';

function policy(...statements: object[]): ReturnType<typeof parsePolicy> {
  return parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }), BUCKET);
}

function request(over: Partial<PolicyRequest> & { keys?: PolicyRequest['keys'] }, keys: Record<string, string[]> = {}): PolicyRequest {
  return { account: OTHER, action: 's3:GetObject', resource: `arn:aws:s3:::${BUCKET}/photo.jpg`, keys: (k) => keys[k], ...over };
}

function malformed(text: string, message: RegExp): void {
  assert.throws(() => parsePolicy(text, BUCKET), (e: unknown) => e instanceof S3Error && e.code === 'MalformedPolicy' && e.status === 400 && message.test(e.message));
}

test('the public-read example grants GetObject on objects to everyone, signed or not, and nothing else', () => {
  const p = policy({ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: [`arn:aws:s3:::${BUCKET}/*`] });
  assert.equal(evaluatePolicy(p, request({})), 'Allow');
  assert.equal(evaluatePolicy(p, request({ account: undefined })), 'Allow');
  assert.equal(evaluatePolicy(p, request({ action: 's3:PutObject' })), 'None');
  // The bucket ARN itself is not an object ARN.
  assert.equal(evaluatePolicy(p, request({ action: 's3:GetObject', resource: `arn:aws:s3:::${BUCKET}` })), 'None');
  assert.equal(policyIsPublic(p), true);
});

test('an account named by id or by its root ARN is matched; others and anonymous are not', () => {
  for (const principal of [{ AWS: OTHER }, { AWS: `arn:aws:iam::${OTHER}:root` }, { AWS: [OWNER, OTHER] }, { CanonicalUser: OTHER }]) {
    const p = policy({ Effect: 'Allow', Principal: principal, Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/uploads/*` });
    assert.equal(evaluatePolicy(p, request({ action: 's3:PutObject', resource: `arn:aws:s3:::${BUCKET}/uploads/a` })), 'Allow', JSON.stringify(principal));
    assert.equal(evaluatePolicy(p, request({ action: 's3:PutObject', resource: `arn:aws:s3:::${BUCKET}/other/a` })), 'None');
    assert.equal(evaluatePolicy(p, request({ account: undefined, action: 's3:PutObject', resource: `arn:aws:s3:::${BUCKET}/uploads/a` })), 'None');
    assert.equal(policyIsPublic(p), false);
  }
});

test('an explicit Deny wins over an Allow in the same policy', () => {
  const p = policy(
    { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`] },
    { Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
  );
  assert.equal(evaluatePolicy(p, request({ action: 's3:GetObject' })), 'Allow');
  assert.equal(evaluatePolicy(p, request({ action: 's3:DeleteObject' })), 'Deny');
});

test('actions match case-insensitively with wildcards; NotAction and NotResource invert', () => {
  const p = policy({ Effect: 'Allow', Principal: '*', Action: 's3:get*', Resource: `arn:aws:s3:::${BUCKET}/*` });
  assert.equal(evaluatePolicy(p, request({ action: 's3:GetObjectTagging' })), 'Allow');
  assert.equal(evaluatePolicy(p, request({ action: 's3:PutObject' })), 'None');
  const not = policy({ Effect: 'Deny', Principal: '*', NotAction: 's3:GetObject', NotResource: `arn:aws:s3:::${BUCKET}/public/*` });
  assert.equal(evaluatePolicy(not, request({ action: 's3:PutObject', resource: `arn:aws:s3:::${BUCKET}/private/x` })), 'Deny');
  assert.equal(evaluatePolicy(not, request({ action: 's3:PutObject', resource: `arn:aws:s3:::${BUCKET}/public/x` })), 'None');
  assert.equal(evaluatePolicy(not, request({ action: 's3:GetObject', resource: `arn:aws:s3:::${BUCKET}/private/x` })), 'None');
});

test('the "deny non-TLS" and "allow from an address range" examples', () => {
  const tls = policy({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  assert.equal(evaluatePolicy(tls, request({}, { 'aws:securetransport': ['false'] })), 'Deny');
  assert.equal(evaluatePolicy(tls, request({}, { 'aws:securetransport': ['true'] })), 'None');
  const ip = policy({ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: `arn:aws:s3:::${BUCKET}/*`,
    Condition: { IpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '2001:db8::/32'] }, NotIpAddress: { 'aws:SourceIp': '192.0.2.188/32' } } });
  assert.equal(evaluatePolicy(ip, request({}, { 'aws:sourceip': ['192.0.2.7'] })), 'Allow');
  assert.equal(evaluatePolicy(ip, request({}, { 'aws:sourceip': ['192.0.2.188'] })), 'None');
  assert.equal(evaluatePolicy(ip, request({}, { 'aws:sourceip': ['198.51.100.1'] })), 'None');
  assert.equal(evaluatePolicy(ip, request({}, { 'aws:sourceip': ['2001:db8::1'] })), 'Allow');
  assert.equal(policyIsPublic(ip), false);
});

test('string, numeric and date operators; a missing key fails positive operators and satisfies negated ones', () => {
  const p = (condition: object): ReturnType<typeof parsePolicy> => policy({ Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${BUCKET}`, Condition: condition });
  const list = (keys: Record<string, string[]>): PolicyRequest => request({ action: 's3:ListBucket', resource: `arn:aws:s3:::${BUCKET}` }, keys);
  assert.equal(evaluatePolicy(p({ StringLike: { 's3:prefix': ['home/', 'home/*'] } }), list({ 's3:prefix': ['home/alice/'] })), 'Allow');
  assert.equal(evaluatePolicy(p({ StringLike: { 's3:prefix': 'home/*' } }), list({})), 'None');
  assert.equal(evaluatePolicy(p({ StringNotEquals: { 's3:delimiter': '/' } }), list({})), 'Allow');
  assert.equal(evaluatePolicy(p({ StringNotEquals: { 's3:delimiter': '/' } }), list({ 's3:delimiter': ['/'] })), 'None');
  assert.equal(evaluatePolicy(p({ StringEqualsIgnoreCase: { 's3:prefix': 'HOME/' } }), list({ 's3:prefix': ['home/'] })), 'Allow');
  assert.equal(evaluatePolicy(p({ NumericLessThanEquals: { 's3:max-keys': '10' } }), list({ 's3:max-keys': ['10'] })), 'Allow');
  assert.equal(evaluatePolicy(p({ NumericLessThanEquals: { 's3:max-keys': '10' } }), list({ 's3:max-keys': ['11'] })), 'None');
  assert.equal(evaluatePolicy(p({ DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } }), list({ 'aws:currenttime': ['2026-12-04T20:00:00.000Z'] })), 'Allow');
  assert.equal(evaluatePolicy(p({ DateGreaterThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } }), list({ 'aws:currenttime': ['2026-12-04T20:00:00.000Z'] })), 'None');
});

test('IfExists, Null and the set qualifiers', () => {
  const p = (condition: object): ReturnType<typeof parsePolicy> => policy({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*`, Condition: condition });
  const referer = { StringLikeIfExists: { 'aws:Referer': 'http://www.example.com/*' } };
  assert.equal(evaluatePolicy(p(referer), request({})), 'Allow');
  assert.equal(evaluatePolicy(p(referer), request({}, { 'aws:referer': ['http://www.example.com/a'] })), 'Allow');
  assert.equal(evaluatePolicy(p(referer), request({}, { 'aws:referer': ['http://example.com'] })), 'None');
  assert.equal(evaluatePolicy(p({ Null: { 's3:x-amz-server-side-encryption': 'true' } }), request({})), 'Allow');
  assert.equal(evaluatePolicy(p({ Null: { 's3:x-amz-server-side-encryption': 'true' } }), request({}, { 's3:x-amz-server-side-encryption': ['AES256'] })), 'None');
  const all = { 'ForAllValues:StringEquals': { 's3:requestobjecttagkeys': ['project', 'owner'] } };
  assert.equal(evaluatePolicy(p(all), request({}, { 's3:requestobjecttagkeys': ['project'] })), 'Allow');
  assert.equal(evaluatePolicy(p(all), request({}, { 's3:requestobjecttagkeys': ['project', 'cost'] })), 'None');
  assert.equal(evaluatePolicy(p(all), request({})), 'Allow');
  const any = { 'ForAnyValue:StringEquals': { 's3:requestobjecttagkeys': ['project'] } };
  assert.equal(evaluatePolicy(p(any), request({}, { 's3:requestobjecttagkeys': ['cost', 'project'] })), 'Allow');
  assert.equal(evaluatePolicy(p(any), request({})), 'None');
});

test('MalformedPolicy names what is wrong', () => {
  const ok = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` };
  const doc = (s: object, extra: object = {}): string => JSON.stringify({ Version: '2012-10-17', Statement: [s], ...extra });
  malformed('{"Version": "2012-10-17", ', /invalid Json/);
  malformed(doc(ok, { Version: '2020-01-01' }), /version/);
  malformed(JSON.stringify({ Version: '2012-10-17' }), /Missing required field Statement/);
  malformed(doc({ ...ok, Effect: 'Maybe' }), /Invalid effect: Maybe/);
  malformed(doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` }), /Missing required field Principal/);
  malformed(doc({ ...ok, Action: 'ec2:RunInstances' }), /invalid action: ec2:RunInstances/);
  malformed(doc({ ...ok, Resource: 'arn:aws:s3:::another-bucket/*' }), /invalid resource: arn:aws:s3:::another-bucket/);
  malformed(doc({ ...ok, Condition: { StringSortOf: { 'aws:Referer': 'x' } } }), /Invalid Condition type : StringSortOf/);
  malformed(doc({ ...ok, Principal: undefined, NotPrincipal: { AWS: OTHER } }), /NotPrincipal/);
  malformed(doc({ ...ok, Colour: 'blue' }), /Unknown field Colour/);
  malformed(doc({ ...ok, Sid: 'x'.repeat(21 * 1024) }), /no larger than 20480 bytes/);
  // Wildcards in the bucket part may cover this bucket.
  assert.doesNotThrow(() => parsePolicy(doc({ ...ok, Resource: ['arn:aws:s3:::*', 'arn:aws:s3:::*/*'] }), BUCKET));
});
