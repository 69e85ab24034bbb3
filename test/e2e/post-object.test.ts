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

type SignatureField = 'x-amz-algorithm' | 'x-amz-credential' | 'x-amz-date';

interface SignOptions {
  readonly expiration?: Date;
  readonly key?: typeof ROOT_KEY;
  /** Values the policy's own conditions on the signature fields ask for instead of the form's. */
  readonly policyValues?: Partial<Record<SignatureField, string>>;
}

/**
 * The signature fields of a V4 form whose policy holds `conditions` plus the
 * ones S3 wants for the signature fields themselves.
 */
function signV4(conditions: readonly Condition[], options: SignOptions = {}): Field[] {
  const key = options.key ?? ROOT_KEY;
  const now = new Date();
  const date = amzDate(now);
  const credential = `${key.accessKeyId}/${date.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const own: Record<SignatureField, string> = { 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': credential, 'x-amz-date': date };
  const policy = encodePolicy([
    ...conditions,
    ...Object.entries({ ...own, ...options.policyValues }).map(([name, value]) => ({ [name]: value })),
  ], options.expiration ?? new Date(now.getTime() + HOUR));
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${key.secretAccessKey}`, date.slice(0, 8)), 'us-east-1'), 's3'), 'aws4_request');
  return [
    ['x-amz-algorithm', 'AWS4-HMAC-SHA256'], ['x-amz-credential', credential], ['x-amz-date', date],
    ['policy', policy], ['x-amz-signature', hmac(signingKey, policy).toString('hex')],
  ];
}

function signV2(conditions: readonly Condition[]): Field[] {
  return signV2Document(JSON.stringify({ expiration: new Date(Date.now() + HOUR).toISOString(), conditions }));
}

/** The V2 signature fields for any policy document, readable or not. */
function signV2Document(document: string): Field[] {
  const policy = Buffer.from(document).toString('base64');
  return [
    ['AWSAccessKeyId', ROOT_KEY.accessKeyId], ['policy', policy],
    ['signature', createHmac('sha1', ROOT_KEY.secretAccessKey).update(policy).digest('base64')],
  ];
}

/** `fields` with the value of `name` replaced, as a form altered after signing would send it. */
function replaced(fields: readonly Field[], name: string, value: string): Field[] {
  return fields.map(([n, v]): Field => [n, n === name ? value : v]);
}

/** Posts a form: `fields` in order, then the file (if any), then `after` (which S3 ignores). */
async function post(target: string, fields: readonly Field[], file: FileSpec | undefined, after: readonly Field[] = []): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of fields) form.append(name, value);
  if (file) form.append('file', new Blob([typeof file.content === 'string' ? file.content : new Uint8Array(file.content)], { type: file.type ?? 'application/octet-stream' }), file.filename ?? 'upload.bin');
  for (const [name, value] of after) form.append(name, value);
  return fetch(`${server.endpoint}/${target}`, { method: 'POST', body: form, redirect: 'manual' });
}

const XML_ENTITIES: Record<string, string> = { quot: '"', apos: '\'', lt: '<', gt: '>', amp: '&' };

function unescapeXml(text: string): string {
  return text.replace(/&(quot|apos|lt|gt|amp);/g, (_, name: string) => XML_ENTITIES[name] ?? '');
}

async function assertError(response: Response, status: number, code: string, message?: string): Promise<string> {
  const body = await response.text();
  assert.equal(response.status, status, body);
  assert.equal(xmlValue(body, 'Code'), code, body);
  if (message !== undefined) assert.equal(unescapeXml(xmlValue(body, 'Message') ?? ''), message);
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
    assert.deepEqual(tags.TagSet, [{ Key: 'n', Value: '1' }, { Key: 'source', Value: 'browser form' }]);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'tagged-by-form' }))).TagCount, 2);

    await assertError(await post(bucket, tagged('badly-tagged', 'source=form'), { content: 'x' }), 400, 'MalformedXML');
    await assertError(await post(bucket, tagged('badly-tagged', '<Tagging><TagSet><Tag><Key>aws:x</Key><Value>v</Value></Tag></TagSet></Tagging>'), { content: 'x' }), 400, 'InvalidTag');
    await assertAbsent('badly-tagged');
  });

  test('${filename} is expanded in every field, and the policy checks the expanded values', async () => {
    const fields: Field[] = [['key', 'named/${filename}'], ['Content-Disposition', 'attachment; filename="${filename}"'], ['x-amz-meta-original', '${filename}'],
      ...signV4([{ bucket }, { key: 'named/report.pdf' }, { 'Content-Disposition': 'attachment; filename="report.pdf"' }, { 'x-amz-meta-original': 'report.pdf' }])];
    const response = await post(bucket, fields, { content: '%PDF', filename: 'report.pdf' });
    assert.equal(response.status, 204, await response.text());
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'named/report.pdf' }));
    assert.equal(head.ContentDisposition, 'attachment; filename="report.pdf"');
    assert.deepEqual(head.Metadata, { original: 'report.pdf' });
    // A text file has no name: the variable becomes ''.
    const form = new FormData();
    form.append('key', 'named/text-${filename}');
    form.append('file', 'typed in');
    const open = uniqueBucket('post-text');
    await s3.send(new CreateBucketCommand({ Bucket: open, ACL: 'public-read-write' }));
    const text = await fetch(`${server.endpoint}/${open}`, { method: 'POST', body: form });
    assert.equal(text.status, 204, await text.text());
    assert.equal((await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: open, Key: 'named/text-' }))).Body)).toString(), 'typed in');
  });

  test('fields sent as file parts (a filename on every part, as Python requests sends them) are fields; only the part named file is the file', async () => {
    const fields: Field[] = [['key', 'parts/${filename}'], ['Content-Type', 'text/plain'], ['x-amz-meta-origin', 'blob'],
      ...signV4([{ bucket }, ['starts-with', '$key', 'parts/'], { 'Content-Type': 'text/plain' }, { 'x-amz-meta-origin': 'blob' }])];
    const form = new FormData();
    for (const [name, value] of fields) form.append(name, new Blob([value], { type: 'application/octet-stream' }), name);
    form.append('file', new Blob(['from blob parts']), 'blob.txt');
    const response = await fetch(`${server.endpoint}/${bucket}`, { method: 'POST', body: form });
    assert.equal(response.status, 204, await response.text());
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'parts/blob.txt' }));
    assert.equal((await bodyBytes(got.Body)).toString(), 'from blob parts');
    assert.equal(got.ContentType, 'text/plain');
    assert.deepEqual(got.Metadata, { origin: 'blob' });

    // A form whose only file part is named otherwise has no file.
    const fileless = new FormData();
    fileless.append('key', 'parts/none');
    fileless.append('upload', new Blob(['x']), 'x.txt');
    const refused = await fetch(`${server.endpoint}/${bucket}`, { method: 'POST', body: fileless });
    await assertError(refused, 400, 'InvalidArgument', 'POST requires exactly one file upload per request.');
    await assertAbsent('parts/none');
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
  const failed = (condition: string): string => `Invalid according to Policy: Policy Condition failed: ${condition}`;
  interface Violation {
    readonly name: string;
    readonly key: string;
    /** The policy's conditions besides the bucket's (which every case but one names) and the signature fields'. */
    readonly conditions: readonly Condition[];
    readonly fields?: readonly Field[];
    readonly file?: string;
    readonly status?: number;
    readonly code?: string;
    readonly message: string;
    /** Leave the bucket condition out. */
    readonly noBucket?: boolean;
  }
  const violations: readonly Violation[] = [
    { name: 'eq on the key', key: 'eq-key', conditions: [['eq', '$key', 'something-else']], message: failed('["eq", "$key", "something-else"]') },
    { name: 'exact-match object form on the key', key: 'object-key', conditions: [{ key: 'other' }], message: failed('["eq", "$key", "other"]') },
    { name: 'starts-with on the key', key: 'wrong/place', conditions: [['starts-with', '$key', 'uploads/']], message: failed('["starts-with", "$key", "uploads/"]') },
    { name: 'the bucket', key: 'bucket-check', noBucket: true, conditions: [{ bucket: 'another-bucket' }, { key: 'bucket-check' }],
      message: failed('["eq", "$bucket", "another-bucket"]') },
    { name: 'no condition on the bucket', key: 'no-bucket', noBucket: true, conditions: [{ key: 'no-bucket' }],
      message: 'Invalid according to Policy: Extra input fields: bucket' },
    { name: 'eq on acl', key: 'acl-eq', conditions: [{ key: 'acl-eq' }, { acl: 'public-read' }], fields: [['acl', 'private']],
      message: failed('["eq", "$acl", "public-read"]') },
    { name: 'starts-with on acl', key: 'acl-prefix', conditions: [{ key: 'acl-prefix' }, ['starts-with', '$acl', 'public-']], fields: [['acl', 'private']],
      message: failed('["starts-with", "$acl", "public-"]') },
    { name: 'success_action_status', key: 'status', conditions: [{ key: 'status' }, { success_action_status: '201' }], fields: [['success_action_status', '200']],
      message: failed('["eq", "$success_action_status", "201"]') },
    { name: 'starts-with on success_action_redirect', key: 'redirect', conditions: [{ key: 'redirect' }, ['starts-with', '$success_action_redirect', 'https://app.example.com/']],
      fields: [['success_action_redirect', 'https://evil.example.com/done']], message: failed('["starts-with", "$success_action_redirect", "https://app.example.com/"]') },
    { name: 'eq on the legacy redirect', key: 'legacy-redirect', conditions: [{ key: 'legacy-redirect' }, { redirect: 'https://app.example.com/done' }],
      fields: [['redirect', 'https://app.example.com/elsewhere']], message: failed('["eq", "$redirect", "https://app.example.com/done"]') },
    { name: 'eq on a field the form does not send', key: 'unsent', conditions: [{ key: 'unsent' }, ['eq', '$x-amz-meta-owner', 'alice']],
      message: failed('["eq", "$x-amz-meta-owner", "alice"]') },
    { name: 'starts-with "" on a field the form does not send', key: 'unsent-any', conditions: [{ key: 'unsent-any' }, ['starts-with', '$Content-Type', '']],
      message: failed('["starts-with", "$Content-Type", ""]') },
    { name: 'starts-with on Content-Type', key: 'typed', conditions: [{ key: 'typed' }, ['starts-with', '$Content-Type', 'image/']], fields: [['Content-Type', 'text/html']],
      message: failed('["starts-with", "$Content-Type", "image/"]') },
    { name: 'eq on Content-Type', key: 'typed-eq', conditions: [{ key: 'typed-eq' }, { 'Content-Type': 'image/png' }], fields: [['Content-Type', 'image/gif']],
      message: failed('["eq", "$Content-Type", "image/png"]') },
    { name: 'eq on Cache-Control', key: 'cached', conditions: [{ key: 'cached' }, ['eq', '$Cache-Control', 'max-age=60']], fields: [['Cache-Control', 'no-cache']],
      message: failed('["eq", "$Cache-Control", "max-age=60"]') },
    { name: 'eq on Content-Disposition', key: 'disposed', conditions: [{ key: 'disposed' }, ['eq', '$Content-Disposition', 'attachment']],
      fields: [['Content-Disposition', 'inline']], message: failed('["eq", "$Content-Disposition", "attachment"]') },
    { name: 'eq on Content-Encoding', key: 'encoded', conditions: [{ key: 'encoded' }, { 'Content-Encoding': 'gzip' }], fields: [['Content-Encoding', 'identity']],
      message: failed('["eq", "$Content-Encoding", "gzip"]') },
    { name: 'eq on Expires', key: 'expiring', conditions: [{ key: 'expiring' }, ['eq', '$Expires', 'Thu, 01 Jan 2037 00:00:00 GMT']],
      fields: [['Expires', 'Fri, 02 Jan 2037 00:00:00 GMT']], message: failed('["eq", "$Expires", "Thu, 01 Jan 2037 00:00:00 GMT"]') },
    { name: 'eq on metadata', key: 'meta', conditions: [{ key: 'meta' }, ['eq', '$x-amz-meta-color', 'blue']], fields: [['x-amz-meta-color', 'red']],
      message: failed('["eq", "$x-amz-meta-color", "blue"]') },
    { name: 'starts-with on metadata', key: 'meta-prefix', conditions: [{ key: 'meta-prefix' }, ['starts-with', '$x-amz-meta-path', 'allowed/']],
      fields: [['x-amz-meta-path', 'forbidden/file']], message: failed('["starts-with", "$x-amz-meta-path", "allowed/"]') },
    { name: 'eq on x-amz-storage-class', key: 'classed', conditions: [{ key: 'classed' }, { 'x-amz-storage-class': 'STANDARD' }],
      fields: [['x-amz-storage-class', 'STANDARD_IA']], message: failed('["eq", "$x-amz-storage-class", "STANDARD"]') },
    { name: 'a field no condition names', key: 'extra', conditions: [{ key: 'extra' }], fields: [['x-amz-meta-note', 'hi'], ['Content-Type', 'text/plain']],
      message: 'Invalid according to Policy: Extra input fields: x-amz-meta-note, content-type' },
    { name: 'content-length-range maximum', key: 'too-big', conditions: [{ key: 'too-big' }, ['content-length-range', 0, 10]], file: 'eleven bytes',
      status: 400, code: 'EntityTooLarge', message: 'Your proposed upload exceeds the maximum allowed size' },
    { name: 'content-length-range minimum', key: 'too-small', conditions: [{ key: 'too-small' }, ['content-length-range', 5, 10]], file: 'abc',
      status: 400, code: 'EntityTooSmall', message: 'Your proposed upload is smaller than the minimum allowed size' },
  ];
  for (const v of violations) {
    test(v.name, async () => {
      const conditions = v.noBucket ? v.conditions : [{ bucket }, ...v.conditions];
      const response = await post(bucket, [['key', v.key], ...(v.fields ?? []), ...signV4(conditions)], { content: v.file ?? 'x' });
      await assertError(response, v.status ?? 403, v.code ?? 'AccessDenied', v.message);
      await assertAbsent(v.key);
    });
  }

  test('the key is checked once ${filename} is substituted', async () => {
    const exact: Field[] = [['key', 'uploads/${filename}'], ...signV4([{ bucket }, { key: 'uploads/${filename}' }])];
    await assertError(await post(bucket, exact, { content: 'x', filename: 'denied.png' }), 403, 'AccessDenied', failed('["eq", "$key", "uploads/${filename}"]'));
    const prefixed: Field[] = [['key', '${filename}'], ...signV4([{ bucket }, ['starts-with', '$key', 'images/']])];
    await assertError(await post(bucket, prefixed, { content: 'x', filename: 'denied.png' }), 403, 'AccessDenied', failed('["starts-with", "$key", "images/"]'));
    await assertAbsent('uploads/denied.png');
    await assertAbsent('uploads/${filename}');
    await assertAbsent('denied.png');
  });

  test('a V2-signed form that breaks its policy', async () => {
    const typed: Field[] = [['key', 'v2/typed'], ['Content-Type', 'text/html'], ...signV2([{ bucket }, { key: 'v2/typed' }, ['starts-with', '$Content-Type', 'image/']])];
    await assertError(await post(bucket, typed, { content: 'x' }), 403, 'AccessDenied', failed('["starts-with", "$Content-Type", "image/"]'));
    const big: Field[] = [['key', 'v2/big'], ...signV2([{ bucket }, { key: 'v2/big' }, ['content-length-range', 0, 3]])];
    await assertError(await post(bucket, big, { content: 'four' }), 400, 'EntityTooLarge');
    await assertAbsent('v2/typed');
    await assertAbsent('v2/big');
  });

  test('an acl the policy allows but S3 has no canned ACL by that name', async () => {
    const fields: Field[] = [['key', 'bad-acl'], ['acl', 'world-readable'], ...signV4([{ bucket }, { key: 'bad-acl' }, { acl: 'world-readable' }])];
    await assertError(await post(bucket, fields, { content: 'x' }), 400, 'InvalidArgument');
    await assertAbsent('bad-acl');
  });

  test('the policy\'s conditions on x-amz-date and x-amz-credential', async () => {
    const dated: Field[] = [['key', 'dated'], ...signV4([{ bucket }, { key: 'dated' }], { policyValues: { 'x-amz-date': '20000101T000000Z' } })];
    await assertError(await post(bucket, dated, { content: 'x' }), 403, 'AccessDenied', failed('["eq", "$x-amz-date", "20000101T000000Z"]'));
    const someone = 'AKIDSOMEONEELSE00000/20000101/us-east-1/s3/aws4_request';
    const credited: Field[] = [['key', 'dated'], ...signV4([{ bucket }, { key: 'dated' }], { policyValues: { 'x-amz-credential': someone } })];
    await assertError(await post(bucket, credited, { content: 'x' }), 403, 'AccessDenied', failed(`["eq", "$x-amz-credential", "${someone}"]`));
    await assertAbsent('dated');
  });

  test('V4 signature fields S3 cannot use', async () => {
    const day = amzDate(new Date()).slice(0, 8);
    const credential = (scope: string): string => `${ROOT_KEY.accessKeyId}/${scope}`;
    const cases: [field: SignatureField, value: string, message?: string][] = [
      ['x-amz-algorithm', 'AWS4-HMAC-SHA512'],
      ['x-amz-credential', 'malformed-no-slashes', 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'],
      ['x-amz-credential', credential(`${day}/us-east-1/ec2/aws4_request`), 'incorrect service "ec2". This endpoint belongs to "s3".'],
      ['x-amz-credential', credential(`${day}/us-east-1/s3/aws4_reqest`), 'incorrect terminal "aws4_reqest". This endpoint uses "aws4_request".'],
      // Not the day of x-amz-date.
      ['x-amz-credential', credential('20000101/us-east-1/s3/aws4_request')],
      ['x-amz-date', new Date().toISOString()],
    ];
    for (const [field, value, message] of cases) {
      const fields = replaced([['key', 'v4-fields'], ...signV4([{ bucket }, { key: 'v4-fields' }])], field, value);
      await assertError(await post(bucket, fields, { content: 'x' }), 400, 'InvalidArgument', message);
    }
    await assertAbsent('v4-fields');
  });

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
    const expiration = new Date(Date.now() + HOUR).toISOString();
    const withConditions = (conditions: string): string => `{"expiration": "${expiration}", "conditions": ${conditions}}`;
    const documents: [document: string, message?: string][] = [
      ['{not json', 'Invalid Policy: Invalid JSON.'],
      ['{"conditions": []}', 'Invalid Policy: Policy missing expiration.'],
      // No Z: not a time in GMT.
      ['{"expiration": "2037-01-01T00:00:00.000", "conditions": []}', 'Invalid Policy: Invalid \'expiration\' value: \'2037-01-01T00:00:00.000\''],
      ['{"expiration": "tomorrow", "conditions": []}', 'Invalid Policy: Invalid \'expiration\' value: \'tomorrow\''],
      [`{"expiration": "${expiration}"}`, 'Invalid Policy: Policy missing conditions.'],
      [withConditions('{"key": "doc"}'), 'Invalid Policy: Invalid \'conditions\' value: must be a List.'],
      [withConditions('[["ends-with", "$key", "c"]]')],
      [withConditions('[true]')],
      [withConditions('[{"key": "doc", "acl": "private"}]'), 'Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.'],
      [withConditions('[{"success_action_status": 201}]'), 'Invalid Policy: Invalid Simple-Condition: value must be a string.'],
      [withConditions('[["content-length-range", 0.5, 10]]')],
      [withConditions('[["content-length-range", "ten", 100]]')],
      [withConditions('[["content-length-range", -1, 0]]')],
      [withConditions('[["content-length-range", 0]]')],
    ];
    for (const [document, message] of documents) {
      await assertError(await post(bucket, [['key', 'doc'], ...signV2Document(document)], { content: 'x' }), 400, 'InvalidPolicyDocument', message);
    }
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
    // Broken off inside a field sent as a file part, before any file.
    const inField = `--${boundary}\r\nContent-Disposition: form-data; name="key"; filename="key"\r\n\r\nbroken-in-field`;
    const third = await fetch(`${server.endpoint}/${open}`, {
      method: 'POST', body: inField, headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
    });
    await assertError(third, 400, 'MalformedPOSTRequest');
    await assertAbsent('broken', open);
    await assertAbsent('broken-in-field', open);
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
