/**
 * POST Object, the browser form upload: forms signed with a POST policy
 * (Signature V4 and V2) sent as multipart/form-data with fetch, and checked
 * with @aws-sdk/client-s3 afterwards. Every policy condition has a form that
 * violates it and gets S3's error, with nothing stored; the success statuses
 * and the redirect; anonymous forms where the ACL allows them; a 128 MiB file
 * that streams through without the server's memory growing by its size.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ROOT_KEY, s3Client, startServer, type RunningServer } from './harness.js';
import { bodyBytes, md5Hex, rejectsWith, uniqueBucket, xmlValue } from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;
let bucket: string;

type Condition = Record<string, string> | (string | number)[];
type Field = [name: string, value: string];

interface FileSpec {
  readonly content: Buffer | string;
  readonly filename?: string;
  readonly type?: string;
}

const HOUR = 3600_000;

function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function encodePolicy(conditions: readonly Condition[], expiration: Date): string {
  return Buffer.from(JSON.stringify({ expiration: expiration.toISOString(), conditions })).toString('base64');
}

/**
 * The signature fields of a V4 form whose policy holds `conditions` plus the
 * ones S3 wants for the signature fields themselves.
 */
function signV4(conditions: readonly Condition[], options: { expiration?: Date; key?: typeof ROOT_KEY } = {}): Field[] {
  const key = options.key ?? ROOT_KEY;
  const now = new Date();
  const date = amzDate(now);
  const credential = `${key.accessKeyId}/${date.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const policy = encodePolicy([
    ...conditions,
    { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': date },
  ], options.expiration ?? new Date(now.getTime() + HOUR));
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${key.secretAccessKey}`, date.slice(0, 8)), 'us-east-1'), 's3'), 'aws4_request');
  return [
    ['x-amz-algorithm', 'AWS4-HMAC-SHA256'], ['x-amz-credential', credential], ['x-amz-date', date],
    ['policy', policy], ['x-amz-signature', hmac(signingKey, policy).toString('hex')],
  ];
}

function signV2(conditions: readonly Condition[]): Field[] {
  const policy = encodePolicy(conditions, new Date(Date.now() + HOUR));
  return [
    ['AWSAccessKeyId', ROOT_KEY.accessKeyId], ['policy', policy],
    ['signature', createHmac('sha1', ROOT_KEY.secretAccessKey).update(policy).digest('base64')],
  ];
}

/** Posts a form: `fields` in order, then the file (if any), then `after` (which S3 ignores). */
async function post(target: string, fields: readonly Field[], file: FileSpec | undefined, after: readonly Field[] = []): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of fields) form.append(name, value);
  if (file) form.append('file', new Blob([typeof file.content === 'string' ? file.content : new Uint8Array(file.content)], { type: file.type ?? 'application/octet-stream' }), file.filename ?? 'upload.bin');
  for (const [name, value] of after) form.append(name, value);
  return fetch(`${server.endpoint}/${target}`, { method: 'POST', body: form, redirect: 'manual' });
}

async function assertError(response: Response, status: number, code: string, message?: string): Promise<string> {
  const body = await response.text();
  assert.equal(response.status, status, body);
  assert.equal(xmlValue(body, 'Code'), code, body);
  if (message !== undefined) assert.equal(xmlValue(body, 'Message')?.replace(/&quot;/g, '"').replace(/&apos;/g, '\''), message);
  return body;
}

async function assertAbsent(key: string, where = bucket): Promise<void> {
  await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: where, Key: key })), 'NotFound', 404);
}

before(async () => {
  server = await startServer();
  s3 = s3Client(server);
  bucket = uniqueBucket('post-object');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
after(async () => {
  s3.destroy();
  await server.stop();
});

describe('signed forms that S3 accepts', () => {
  test('V4: ${filename} in the key, headers, metadata and 201 with a PostResponse', async () => {
    const fields: Field[] = [
      ['key', 'uploads/${filename}'], ['Content-Type', 'image/png'], ['x-amz-meta-color', 'blue'], ['success_action_status', '201'],
      ...signV4([
        { bucket }, ['starts-with', '$key', 'uploads/'], ['starts-with', '$Content-Type', 'image/'], { 'x-amz-meta-color': 'blue' },
        ['eq', '$success_action_status', '201'], ['content-length-range', 1, 1024],
      ]),
    ];
    const content = Buffer.from('\x89PNG fake image bytes');
    const response = await post(bucket, fields, { content, filename: 'photo.png', type: 'image/png' });
    const body = await response.text();
    assert.equal(response.status, 201, body);
    assert.equal(xmlValue(body, 'Bucket'), bucket);
    assert.equal(xmlValue(body, 'Key'), 'uploads/photo.png');
    assert.equal(xmlValue(body, 'ETag')?.replace(/&quot;/g, '"'), `"${md5Hex(content)}"`);
    assert.equal(xmlValue(body, 'Location'), `${server.endpoint}/${bucket}/uploads/photo.png`);
    assert.equal(response.headers.get('etag'), `"${md5Hex(content)}"`);

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'uploads/photo.png' }));
    assert.deepEqual(await bodyBytes(got.Body), content);
    assert.equal(got.ContentType, 'image/png');
    assert.deepEqual(got.Metadata, { color: 'blue' });
  });

  test('V2: AWSAccessKeyId and signature; the acl field applies; 204 by default', async () => {
    const fields: Field[] = [['key', 'v2/public.txt'], ['acl', 'public-read'], ...signV2([{ bucket }, { key: 'v2/public.txt' }, { acl: 'public-read' }])];
    const response = await post(bucket, fields, { content: 'hello from a form' });
    assert.equal(response.status, 204, await response.text());
    assert.equal(response.headers.get('location'), `${server.endpoint}/${bucket}/v2/public.txt`);
    // public-read: anyone may fetch it without a signature.
    const anonymous = await fetch(`${server.endpoint}/${bucket}/v2/public.txt`);
    assert.equal(anonymous.status, 200);
    assert.equal(await anonymous.text(), 'hello from a form');
  });

  test('success_action_status 200 and unknown values; success_action_redirect answers 303', async () => {
    const status = (value: string): Field[] => [['key', `status-${value}`], ['success_action_status', value],
      ...signV4([{ bucket }, { key: `status-${value}` }, { success_action_status: value }])];
    const ok = await post(bucket, status('200'), { content: 'a' });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), '');
    assert.equal((await post(bucket, status('404'), { content: 'b' })).status, 204);

    const redirect = 'https://app.example.com/done?upload=1';
    const fields: Field[] = [['key', 'redirected file.txt'], ['success_action_redirect', redirect],
      ...signV4([{ bucket }, { key: 'redirected file.txt' }, ['starts-with', '$success_action_redirect', 'https://app.example.com/']])];
    const response = await post(bucket, fields, { content: 'c' });
    assert.equal(response.status, 303);
    const location = new URL(response.headers.get('location') ?? '');
    assert.equal(`${location.origin}${location.pathname}`, 'https://app.example.com/done');
    assert.equal(location.searchParams.get('upload'), '1');
    assert.equal(location.searchParams.get('bucket'), bucket);
    assert.equal(location.searchParams.get('key'), 'redirected file.txt');
    assert.equal(location.searchParams.get('etag'), `"${md5Hex('c')}"`);
  });

  test('fields after the file are ignored; x-ignore- fields need no condition', async () => {
    const fields: Field[] = [['key', 'late-fields'], ['x-ignore-tracker', '42'], ...signV4([{ bucket }, { key: 'late-fields' }])];
    const response = await post(bucket, fields, { content: 'late' }, [['x-amz-meta-late', 'yes'], ['key', 'elsewhere']]);
    assert.equal(response.status, 204, await response.text());
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'late-fields' }));
    assert.deepEqual(head.Metadata, {});
    await assertAbsent('elsewhere');
  });

  test('the tagging field, a <Tagging> document, tags the object; a broken one is S3\'s error and stores nothing', async () => {
    const tagged = (key: string, tagging: string): Field[] => [['key', key], ['tagging', tagging], ...signV4([{ bucket }, { key }, { tagging }])];
    const doc = '<Tagging><TagSet><Tag><Key>source</Key><Value>browser form</Value></Tag><Tag><Key>n</Key><Value>1</Value></Tag></TagSet></Tagging>';
    const response = await post(bucket, tagged('tagged-by-form', doc), { content: 'tagged' });
    assert.equal(response.status, 204, await response.text());
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged-by-form' }));
    assert.deepEqual(tags.TagSet, [{ Key: 'source', Value: 'browser form' }, { Key: 'n', Value: '1' }]);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'tagged-by-form' }))).TagCount, 2);

    await assertError(await post(bucket, tagged('badly-tagged', 'source=form'), { content: 'x' }), 400, 'MalformedXML');
    await assertError(await post(bucket, tagged('badly-tagged', '<Tagging><TagSet><Tag><Key>aws:x</Key><Value>v</Value></Tag></TagSet></Tagging>'), { content: 'x' }), 400, 'InvalidTag');
    await assertAbsent('badly-tagged');
  });

  test('a 128 MiB file streams into storage without the server holding it', async () => {
    const size = 128 * 1024 * 1024;
    const content = randomBytes(size);
    const pids = await serverPids();
    const before = await highWater(pids);
    const fields: Field[] = [['key', 'big.bin'], ...signV4([{ bucket }, { key: 'big.bin' }, ['content-length-range', size, size]])];
    const response = await post(bucket, fields, { content });
    assert.equal(response.status, 204, await response.text());
    // Streaming leaves some tens of MiB of garbage for the collector (as PutObject does); holding the file would take all of it.
    const grown = (await highWater(pids)) - before;
    assert.ok(grown < 80 * 1024 * 1024, `the server's peak RSS grew by ${(grown / 2 ** 20).toFixed(1)} MiB for a 128 MiB form`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
    assert.equal(got.ContentLength, size);
    assert.equal(createHash('md5').update(await bodyBytes(got.Body)).digest('hex'), md5Hex(content));
  });
});

/** The server process and any workers under it, whose peak resident sets are summed. */
async function serverPids(): Promise<number[]> {
  const root = server.child.pid!;
  const pids = [root];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === root) pids.push(Number(name));
  }
  return pids;
}

async function highWater(pids: readonly number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    total += Number(m?.[1] ?? 0) * 1024;
  }
  return total;
}

describe('forms that violate their policy get S3\'s error and store nothing', () => {
  // Built when the tests run: the bucket name is only known then.
  const cases = (): [name: string, key: string, conditions: Condition[], extra: Field[], file: string, status: number, code: string, message: string][] => [
    ['eq on the key', 'eq-key', [{ bucket }, ['eq', '$key', 'something-else']], [], 'x', 403, 'AccessDenied',
      'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "something-else"]'],
    ['exact-match object form on the key', 'object-key', [{ bucket }, { key: 'other' }], [], 'x', 403, 'AccessDenied',
      'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "other"]'],
    ['starts-with on the key', 'wrong/place', [{ bucket }, ['starts-with', '$key', 'uploads/']], [], 'x', 403, 'AccessDenied',
      'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "uploads/"]'],
    ['the bucket', 'bucket-check', [{ bucket: 'another-bucket' }, { key: 'bucket-check' }], [], 'x', 403, 'AccessDenied',
      'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "another-bucket"]'],
    ['starts-with on Content-Type', 'typed', [{ bucket }, { key: 'typed' }, ['starts-with', '$Content-Type', 'image/']], [['Content-Type', 'text/html']], 'x', 403,
      'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$content-type", "image/"]'],
    ['eq on metadata', 'meta', [{ bucket }, { key: 'meta' }, ['eq', '$x-amz-meta-color', 'blue']], [['x-amz-meta-color', 'red']], 'x', 403,
      'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["eq", "$x-amz-meta-color", "blue"]'],
    ['a field no condition names', 'extra', [{ bucket }, { key: 'extra' }], [['x-amz-meta-note', 'hi'], ['Content-Type', 'text/plain']], 'x', 403,
      'AccessDenied', 'Invalid according to Policy: Extra input fields: x-amz-meta-note, content-type'],
    ['content-length-range maximum', 'too-big', [{ bucket }, { key: 'too-big' }, ['content-length-range', 0, 10]], [], 'eleven bytes', 400,
      'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size'],
    ['content-length-range minimum', 'too-small', [{ bucket }, { key: 'too-small' }, ['content-length-range', 5, 10]], [], 'abc', 400,
      'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size'],
  ];
  for (const [index, [name]] of cases().entries()) {
    test(name, async () => {
      const [, key, conditions, extra, file, status, code, message] = cases()[index]!;
      const response = await post(bucket, [['key', key], ...extra, ...signV4(conditions)], { content: file });
      await assertError(response, status, code, message);
      await assertAbsent(key);
    });
  }

  test('an expired policy', async () => {
    const fields: Field[] = [['key', 'expired'], ...signV4([{ bucket }, { key: 'expired' }], { expiration: new Date(Date.now() - 60_000) })];
    await assertError(await post(bucket, fields, { content: 'x' }), 403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
    await assertAbsent('expired');
  });

  test('signatures: a tampered V4 or V2 signature, an unknown key, a policy not signed at all', async () => {
    const v4 = signV4([{ bucket }, { key: 'sig' }]).map(([n, v]): Field => [n, n === 'x-amz-signature' ? v.replace(/^./, (c) => (c === '0' ? '1' : '0')) : v]);
    await assertError(await post(bucket, [['key', 'sig'], ...v4], { content: 'x' }), 403, 'SignatureDoesNotMatch');
    const v2 = signV2([{ bucket }, { key: 'sig' }]).map(([n, v]): Field => [n, n === 'signature' ? Buffer.alloc(20).toString('base64') : v]);
    await assertError(await post(bucket, [['key', 'sig'], ...v2], { content: 'x' }), 403, 'SignatureDoesNotMatch');
    const stranger = signV4([{ bucket }, { key: 'sig' }], { key: { accessKeyId: 'NOSUCHKEY00000000000', secretAccessKey: 'x' } });
    await assertError(await post(bucket, [['key', 'sig'], ...stranger], { content: 'x' }), 403, 'InvalidAccessKeyId');
    const unsigned = signV4([{ bucket }, { key: 'sig' }]).filter(([n]) => n !== 'x-amz-signature');
    await assertError(await post(bucket, [['key', 'sig'], ...unsigned], { content: 'x' }), 400, 'InvalidArgument');
    const noPolicy = signV4([{ bucket }, { key: 'sig' }]).filter(([n]) => n !== 'policy');
    await assertError(await post(bucket, [['key', 'sig'], ...noPolicy], { content: 'x' }), 400, 'InvalidArgument');
    await assertAbsent('sig');
  });

  test('policy documents S3 cannot read', async () => {
    const sign = (document: string): Field[] => {
      const policy = Buffer.from(document).toString('base64');
      return [['AWSAccessKeyId', ROOT_KEY.accessKeyId], ['policy', policy],
        ['signature', createHmac('sha1', ROOT_KEY.secretAccessKey).update(policy).digest('base64')]];
    };
    const expiration = new Date(Date.now() + HOUR).toISOString();
    await assertError(await post(bucket, [['key', 'doc'], ...sign('{not json')], { content: 'x' }), 400, 'InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
    await assertError(await post(bucket, [['key', 'doc'], ...sign('{"conditions": []}')], { content: 'x' }), 400, 'InvalidPolicyDocument',
      'Invalid Policy: Policy missing expiration.');
    await assertError(await post(bucket, [['key', 'doc'], ...sign(`{"expiration": "${expiration}"}`)], { content: 'x' }), 400, 'InvalidPolicyDocument',
      'Invalid Policy: Policy missing conditions.');
    await assertError(await post(bucket, [['key', 'doc'], ...sign(`{"expiration": "${expiration}", "conditions": [["ends-with", "$key", "c"]]}`)], { content: 'x' }),
      400, 'InvalidPolicyDocument');
    await assertError(await post(bucket, [['key', 'doc'], ...sign(`{"expiration": "${expiration}", "conditions": [{"key": "doc", "acl": "private"}]}`)], { content: 'x' }),
      400, 'InvalidPolicyDocument', 'Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.');
    await assertAbsent('doc');
  });

  test('forms S3 cannot take: no key, no file, not multipart, fields too long, a broken body', async () => {
    await assertError(await post(bucket, signV4([{ bucket }]), { content: 'x' }), 400, 'InvalidArgument',
      'Bucket POST must contain a field named \'key\'.  If it is specified, please check the order of the fields.');
    await assertError(await post(bucket, [['key', 'no-file'], ...signV4([{ bucket }, { key: 'no-file' }])], undefined), 400, 'InvalidArgument',
      'POST requires exactly one file upload per request.');
    const urlencoded = await fetch(`${server.endpoint}/${bucket}`, { method: 'POST', body: new URLSearchParams({ key: 'form' }) });
    const body = await assertError(urlencoded, 412, 'PreconditionFailed');
    assert.equal(xmlValue(body, 'Condition'), 'Bucket POST must be of the enclosure-type multipart/form-data');
    await assertError(await post(bucket, [['key', 'long'], ['x-ignore-padding', 'p'.repeat(21 * 1024)]], { content: 'x' }), 400, 'MaxPostPreDataLengthExceededError');

    const boundary = 'cairn-boundary';
    const broken = `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nbroken\r\n`
      + `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nthe form breaks off here`;
    const response = await fetch(`${server.endpoint}/${bucket}`, {
      method: 'POST', body: broken, headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
    });
    // Anonymous, and nothing allows anonymous writes here; a public bucket takes the form but not its broken body.
    await assertError(response, 403, 'AccessDenied');
    const open = uniqueBucket('post-public');
    await s3.send(new CreateBucketCommand({ Bucket: open, ACL: 'public-read-write' }));
    const again = await fetch(`${server.endpoint}/${open}`, {
      method: 'POST', body: broken, headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
    });
    await assertError(again, 400, 'MalformedPOSTRequest');
    await assertAbsent('broken', open);
  });
});

describe('anonymous forms', () => {
  test('are refused where the ACL does not let everyone write, and taken where it does', async () => {
    await assertError(await post(bucket, [['key', 'anonymous']], { content: 'x' }), 403, 'AccessDenied');
    await assertAbsent('anonymous');
    const open = uniqueBucket('post-open');
    await s3.send(new CreateBucketCommand({ Bucket: open, ACL: 'public-read-write' }));
    const response = await post(open, [['key', 'dropbox/${filename}'], ['Content-Type', 'text/plain']], { content: 'anyone', filename: 'note.txt' });
    assert.equal(response.status, 204, await response.text());
    const got = await s3.send(new GetObjectCommand({ Bucket: open, Key: 'dropbox/note.txt' }));
    assert.equal(got.ContentType, 'text/plain');
    assert.equal((await bodyBytes(got.Body)).toString(), 'anyone');
  });
});
