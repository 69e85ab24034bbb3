// SigV4 primitives against AWS's published S3 examples:
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  EMPTY_SHA256,
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  chunkStringToSign,
  collectHeaders,
  credentialScope,
  formatAmzDate,
  hmacHex,
  parseAmzDate,
  parseAuthorizationV4,
  parseCredential,
  parseQuery,
  parseSignedHeaders,
  percentDecode,
  sha256Hex,
  signaturesEqual,
  signingKey,
  stringToSign,
  uriEncode,
} from '../../src/auth/sigv4.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const DATE = '20130524T000000Z';
const SCOPE = '20130524/us-east-1/s3/aws4_request';

/** Signs like the AWS examples: headers as [name, value] in wire form. */
function sign(method: string, path: string, query: string, headers: [string, string][], payloadHash: string, presigned = false) {
  const values = collectHeaders(headers.flat());
  const signed = [...values.keys()].sort();
  const canonical = canonicalRequest({
    method,
    canonicalUri: canonicalUri(path),
    canonicalQuery: canonicalQuery(query, presigned),
    canonicalHeaders: canonicalHeaders(values, signed),
    signedHeaders: signed,
    payloadHash,
  });
  const sts = stringToSign(DATE, SCOPE, canonical);
  return { canonical, sts, signature: hmacHex(signingKey(SECRET, '20130524', 'us-east-1'), sts) };
}

test('AWS example: GET Object with Range', () => {
  const r = sign('GET', '/test.txt', '', [
    ['Host', 'examplebucket.s3.amazonaws.com'],
    ['Range', 'bytes=0-9'],
    ['x-amz-content-sha256', EMPTY_SHA256],
    ['x-amz-date', DATE],
  ], EMPTY_SHA256);
  assert.equal(r.canonical, [
    'GET', '/test.txt', '',
    'host:examplebucket.s3.amazonaws.com', 'range:bytes=0-9', `x-amz-content-sha256:${EMPTY_SHA256}`, `x-amz-date:${DATE}`, '',
    'host;range;x-amz-content-sha256;x-amz-date', EMPTY_SHA256,
  ].join('\n'));
  assert.equal(r.sts, `AWS4-HMAC-SHA256\n${DATE}\n${SCOPE}\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972`);
  assert.equal(r.signature, 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
});

test('AWS example: PUT Object (key with $, Date header, storage class)', () => {
  const bodyHash = createHash('sha256').update('Welcome to Amazon S3.').digest('hex');
  assert.equal(bodyHash, '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072');
  const r = sign('PUT', '/test$file.text', '', [
    ['Host', 'examplebucket.s3.amazonaws.com'],
    ['Date', 'Fri, 24 May 2013 00:00:00 GMT'],
    ['x-amz-date', DATE],
    ['x-amz-storage-class', 'REDUCED_REDUNDANCY'],
    ['x-amz-content-sha256', bodyHash],
  ], bodyHash);
  assert.equal(r.canonical.split('\n')[1], '/test%24file.text');
  assert.equal(r.sts.split('\n')[3], '9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d');
  assert.equal(r.signature, '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd');
  // Sending the key already encoded gives the same canonical URI: S3 decodes first.
  assert.equal(canonicalUri('/test%24file.text'), '/test%24file.text');
});

test('AWS example: GET Bucket Lifecycle (?lifecycle becomes lifecycle=)', () => {
  const r = sign('GET', '/', 'lifecycle', [
    ['Host', 'examplebucket.s3.amazonaws.com'],
    ['x-amz-date', DATE],
    ['x-amz-content-sha256', EMPTY_SHA256],
  ], EMPTY_SHA256);
  assert.equal(r.canonical.split('\n')[2], 'lifecycle=');
  assert.equal(r.signature, 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543');
});

test('AWS example: GET Bucket (List Objects), query sorted', () => {
  const r = sign('GET', '/', 'max-keys=2&prefix=J', [
    ['Host', 'examplebucket.s3.amazonaws.com'],
    ['x-amz-date', DATE],
    ['x-amz-content-sha256', EMPTY_SHA256],
  ], EMPTY_SHA256);
  assert.equal(r.signature, '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7');
  // Order in the URL does not matter.
  assert.equal(sign('GET', '/', 'prefix=J&max-keys=2', [
    ['Host', 'examplebucket.s3.amazonaws.com'],
    ['x-amz-date', DATE],
    ['x-amz-content-sha256', EMPTY_SHA256],
  ], EMPTY_SHA256).signature, r.signature);
});

test('AWS example: presigned GET (signature excluded from the canonical query)', () => {
  const query = 'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request'
    + '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=whatever';
  const r = sign('GET', '/test.txt', query, [['Host', 'examplebucket.s3.amazonaws.com']], 'UNSIGNED-PAYLOAD', true);
  assert.equal(r.sts.split('\n')[3], '3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04');
  assert.equal(r.signature, 'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404');
});

test('AWS example: chunked upload seed and chunk signatures', () => {
  const r = sign('PUT', '/examplebucket/chunkObject.txt', '', [
    ['Host', 's3.amazonaws.com'],
    ['x-amz-date', DATE],
    ['x-amz-storage-class', 'REDUCED_REDUNDANCY'],
    ['x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'],
    ['Content-Encoding', 'aws-chunked'],
    ['x-amz-decoded-content-length', '66560'],
    ['Content-Length', '66824'],
  ], 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  assert.equal(r.signature, '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9');
  const key = signingKey(SECRET, '20130524', 'us-east-1');
  const chunk = (prev: string, data: Buffer) => hmacHex(key, chunkStringToSign(DATE, SCOPE, prev, sha256Hex(data)));
  const c1 = chunk(r.signature, Buffer.alloc(65536, 'a'));
  assert.equal(c1, 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648');
  const c2 = chunk(c1, Buffer.alloc(1024, 'a'));
  assert.equal(c2, '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497');
  assert.equal(chunk(c2, Buffer.alloc(0)), 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9');
});

test('URI encoding follows the SigV4 rules', () => {
  assert.equal(uriEncode('a b+c*~-._/é'), 'a%20b%2Bc%2A~-._%2F%C3%A9');
  assert.equal(uriEncode('a/b', true), 'a/b');
  // Decode then re-encode: lower-case escapes, raw reserved chars and already-encoded input agree.
  // An encoded slash stays encoded: the client signed the segment it sent.
  assert.equal(canonicalUri('/b/a%2fb/c'), '/b/a%2Fb/c');
  assert.equal(canonicalUri("/b/it's (1)!.txt"), '/b/it%27s%20%281%29%21.txt');
  assert.equal(canonicalUri('/b/it%27s%20%281%29%21.txt'), '/b/it%27s%20%281%29%21.txt');
  assert.equal(canonicalUri('/b/%c3%a9'), '/b/%C3%A9');
  // No normalisation: S3 keys may contain //, . and ..
  assert.equal(canonicalUri('/b//x/../y/./z'), '/b//x/../y/./z');
  assert.equal(canonicalUri(''), '/');
  // `+` in a path is a plus; a stray % stays literal.
  assert.equal(canonicalUri('/b/a+b'), '/b/a%2Bb');
  assert.equal(canonicalUri('/b/100%'), '/b/100%25');
  // Raw UTF-8 bytes as Node exposes them (latin1 chars) and real characters agree.
  assert.equal(canonicalUri(Buffer.from('/b/é', 'utf8').toString('latin1')), '/b/%C3%A9');
  assert.equal(canonicalUri('/b/🙂'), '/b/%F0%9F%99%82');
  assert.deepEqual([...percentDecode('%zz%4')], [...Buffer.from('%zz%4')]);
});

test('canonical query: decode, re-encode, sort by name then value', () => {
  assert.equal(canonicalQuery('b=2&a=2&a=1&c', false), 'a=1&a=2&b=2&c=');
  assert.equal(canonicalQuery('prefix=a%20b&x=a+b&y=%7e', false), 'prefix=a%20b&x=a%2Bb&y=~');
  assert.equal(canonicalQuery('X-Amz-Signature=abc&acl', true), 'acl=');
  assert.equal(canonicalQuery('X-Amz-Signature=abc&acl', false), 'X-Amz-Signature=abc&acl=');
  assert.equal(canonicalQuery('', false), '');
  assert.equal(canonicalQuery('&&a=1&', false), 'a=1');
  // Escapes stay as sent only when already canonical: upper-case hex of a byte that must be escaped.
  assert.equal(canonicalQuery('cred=AK%2F2013%2Fs3', false), 'cred=AK%2F2013%2Fs3');
  assert.equal(canonicalQuery('cred=AK%2f2013', false), 'cred=AK%2F2013');
  assert.equal(canonicalQuery('v=%41%7E%2D', false), 'v=A~-');
  assert.equal(canonicalQuery('v=100%&w=%2', false), 'v=100%25&w=%252');
  assert.equal(canonicalQuery('v=%E2%82%AC&w=%e2%82%ac', false), 'v=%E2%82%AC&w=%E2%82%AC');
  assert.deepEqual([...parseQuery('a=1&a=2&b=%C3%A9&c').entries()], [['a', '1'], ['b', 'é'], ['c', '']]);
});

test('canonical headers: lower-case, trimmed, runs collapsed, repeats joined by comma', () => {
  const h = collectHeaders(['X-Amz-Meta-A', '  one   two  ', 'x-amz-meta-a', 'three', 'Host', 'h', 'X-Tab', 'a\t\tb']);
  assert.equal(canonicalHeaders(h, ['host', 'x-amz-meta-a', 'x-missing', 'x-tab']), 'host:h\nx-amz-meta-a:one two,three\nx-missing:\nx-tab:a b\n');
  // Non-ASCII bytes (latin1 chars from Node) are kept as they are, 0xA0 included.
  const utf8 = Buffer.from('à', 'utf8').toString('latin1');
  assert.equal(canonicalHeaders(collectHeaders(['x-amz-meta-b', utf8]), ['x-amz-meta-b']), `x-amz-meta-b:${utf8}\n`);
});

test('Authorization header, credential and signed headers parsing', () => {
  const ok = parseAuthorizationV4('AWS4-HMAC-SHA256 Credential=AK/20130524/eu-x-1/s3/aws4_request,SignedHeaders=host;x-amz-date, Signature=abc');
  assert.deepEqual(ok, { credential: 'AK/20130524/eu-x-1/s3/aws4_request', signedHeaders: 'host;x-amz-date', signature: 'abc' });
  assert.ok('error' in parseAuthorizationV4('AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, Signature=abc'));
  assert.ok('error' in parseAuthorizationV4('AWS4-HMAC-SHA256 Credential'));
  assert.deepEqual(parseCredential('AK/20130524/any-region/s3/aws4_request'), {
    accessKeyId: 'AK', date: '20130524', region: 'any-region', service: 's3', scope: credentialScope('20130524', 'any-region'),
  });
  assert.match((parseCredential('AK/20130524/us-east-1/ec2/aws4_request') as { error: string }).error, /incorrect service "ec2"/);
  assert.match((parseCredential('AK/20130524/us-east-1/s3/aws4') as { error: string }).error, /incorrect terminal/);
  assert.ok('error' in parseCredential('AK/2013/us-east-1/s3/aws4_request'));
  assert.ok('error' in parseCredential('AK/us-east-1/s3/aws4_request'));
  assert.deepEqual(parseSignedHeaders('Host;X-Amz-Date'), ['host', 'x-amz-date']);
  assert.equal(parseSignedHeaders(''), undefined);
  assert.equal(parseSignedHeaders('host;;x'), undefined);
});

test('dates and signature comparison', () => {
  assert.equal(parseAmzDate(DATE)?.toISOString(), '2013-05-24T00:00:00.000Z');
  assert.equal(parseAmzDate('20130231T000000Z'), undefined);
  assert.equal(parseAmzDate('2013-05-24T00:00:00Z'), undefined);
  assert.equal(formatAmzDate(new Date('2013-05-24T01:02:03.456Z')), '20130524T010203Z');
  assert.ok(signaturesEqual('ab', 'ab'));
  assert.ok(!signaturesEqual('ab', 'ac'));
  assert.ok(!signaturesEqual('ab', 'abc'));
});

test('signing keys are cached per secret, date and region', () => {
  const a = signingKey(SECRET, '20130524', 'us-east-1');
  assert.equal(signingKey(SECRET, '20130524', 'us-east-1'), a);
  assert.notDeepEqual(signingKey(SECRET, '20130525', 'us-east-1'), a);
  assert.notDeepEqual(signingKey(SECRET + 'x', '20130524', 'us-east-1'), a);
  for (let i = 0; i < 2000; i++) signingKey(`s${i}`, '20130524', 'r');
  // Evicted but still correct.
  assert.deepEqual(signingKey(SECRET, '20130524', 'us-east-1'), a);
});
