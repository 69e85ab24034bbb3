/** POST policy documents and their conditions, without a server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPolicy, parsePolicy } from '../../src/auth/post-policy.js';

const NOW = new Date('2026-01-01T12:00:00Z');
const encode = (doc: unknown): string => Buffer.from(JSON.stringify(doc)).toString('base64');
const policy = (conditions: unknown[]): ReturnType<typeof parsePolicy> => parsePolicy(encode({ expiration: '2026-01-01T13:00:00.000Z', conditions }));

test('field names are case-insensitive; bucket and key come from the request', () => {
  const p = policy([{ Bucket: 'photos' }, ['starts-with', '$Key', 'user/'], ['eq', '$Content-Type', 'image/png'], ['content-length-range', '1', 100]]);
  const fields = new Map([['key', 'user/${filename}'], ['content-type', 'image/png']]);
  assert.deepEqual(checkPolicy(p, fields, 'photos', 'user/cat.png', NOW), { min: 1, max: 100 });
  assert.throws(() => checkPolicy(p, fields, 'other', 'user/cat.png', NOW), { code: 'AccessDenied' });
});

test('starts-with "" allows any value, and a Content-Type list must match in every entry', () => {
  const p = policy([{ bucket: 'b' }, { key: 'k' }, ['starts-with', '$x-amz-meta-note', ''], ['starts-with', '$content-type', 'image/']]);
  assert.equal(checkPolicy(p, new Map([['key', 'k'], ['x-amz-meta-note', 'anything'], ['content-type', 'image/png, image/gif']]), 'b', 'k', NOW), undefined);
  assert.throws(() => checkPolicy(p, new Map([['key', 'k'], ['x-amz-meta-note', ''], ['content-type', 'image/png, text/html']]), 'b', 'k', NOW), {
    message: 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$content-type", "image/"]',
  });
});

test('a condition on a field the form does not send fails, even starts-with ""; the message spells the field as the policy does', () => {
  const p = policy([{ bucket: 'b' }, { key: 'k' }, ['starts-with', '$Content-Type', '']]);
  assert.equal(checkPolicy(p, new Map([['key', 'k'], ['content-type', '']]), 'b', 'k', NOW), undefined);
  assert.throws(() => checkPolicy(p, new Map([['key', 'k']]), 'b', 'k', NOW), {
    code: 'AccessDenied', message: 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", ""]',
  });
});

test('the bucket is an input: a policy must name it', () => {
  assert.throws(() => checkPolicy(policy([{ key: 'k' }]), new Map([['key', 'k']]), 'b', 'k', NOW), {
    code: 'AccessDenied', message: 'Invalid according to Policy: Extra input fields: bucket',
  });
  // A form field named bucket does not stand in for the addressed bucket.
  assert.throws(() => checkPolicy(policy([{ bucket: 'other' }, { key: 'k' }]), new Map([['bucket', 'other'], ['key', 'k']]), 'b', 'k', NOW), {
    message: 'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "other"]',
  });
});

test('the signature fields, file and x-ignore- fields need no condition; anything else does', () => {
  const p = policy([{ bucket: 'b' }, { key: 'k' }]);
  const signed = new Map([['key', 'k'], ['policy', 'p'], ['x-amz-signature', 's'], ['awsaccesskeyid', 'a'], ['signature', 's'], ['x-ignore-x', '1']]);
  assert.equal(checkPolicy(p, signed, 'b', 'k', NOW), undefined);
  assert.throws(() => checkPolicy(p, new Map([...signed, ['acl', 'public-read'], ['x-amz-credential', 'c']]), 'b', 'k', NOW), {
    message: 'Invalid according to Policy: Extra input fields: acl, x-amz-credential',
  });
});

test('expiry and unreadable documents', () => {
  assert.throws(() => checkPolicy(policy([]), new Map(), 'b', 'k', new Date('2026-01-01T13:00:01Z')), { message: 'Invalid according to Policy: Policy expired.' });
  assert.throws(() => parsePolicy(encode({ expiration: 'tomorrow', conditions: [] })), { code: 'InvalidPolicyDocument' });
  assert.throws(() => parsePolicy(encode({ expiration: '2026-01-01T13:00:00Z', conditions: [['content-length-range', -1, 5]] })), { code: 'InvalidPolicyDocument' });
  assert.throws(() => parsePolicy(encode({ expiration: '2026-01-01T13:00:00Z', conditions: [['eq', 'key', 'k']] })), { code: 'InvalidPolicyDocument' });
  assert.throws(() => parsePolicy(encode([1, 2])), { message: 'Invalid Policy: Invalid JSON.' });
  // Without the Z the date-time is not GMT: S3 refuses it rather than read it as local time.
  assert.throws(() => parsePolicy(encode({ expiration: '2026-01-01T13:00:00.000', conditions: [] })), {
    message: 'Invalid Policy: Invalid \'expiration\' value: \'2026-01-01T13:00:00.000\'',
  });
  assert.throws(() => parsePolicy(encode({ expiration: '2026-01-01T13:00:00Z', conditions: { bucket: 'b' } })), {
    message: 'Invalid Policy: Invalid \'conditions\' value: must be a List.',
  });
  assert.throws(() => parsePolicy(encode({ expiration: '2026-01-01T13:00:00Z', conditions: [{ success_action_status: 201 }] })), {
    message: 'Invalid Policy: Invalid Simple-Condition: value must be a string.',
  });
});

test('operation names are case-insensitive; values are matched as written, a backslash included', () => {
  const p = policy([{ bucket: 'b' }, ['StArTs-WiTh', '$KeY', '\\$price'], ['EQ', '$Content-Type', 'text/plain'], ['Content-Length-Range', 0, 9]]);
  const fields = new Map([['key', '\\$price.txt'], ['content-type', 'text/plain']]);
  assert.deepEqual(checkPolicy(p, fields, 'b', '\\$price.txt', NOW), { min: 0, max: 9 });
  assert.throws(() => checkPolicy(p, fields, 'b', '$price.txt', NOW), {
    message: 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$KeY", "\\\\$price"]',
  });
});
