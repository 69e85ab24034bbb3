/**
 * Object and bucket tagging through the AWS SDK for JavaScript v3 (raw signed
 * requests where the SDK cannot send a broken document): PutObjectTagging,
 * GetObjectTagging and DeleteObjectTagging, their bucket counterparts, tags given with x-amz-tagging on
 * PutObject, CreateMultipartUpload and CopyObject, x-amz-tagging-count on GET
 * and HEAD, S3's validation errors, and who may touch tags.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketCommand,
  DeleteBucketTaggingCommand, DeleteObjectTaggingCommand, GetBucketTaggingCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, ListObjectsV2Command, PutBucketAclCommand, PutObjectAclCommand,
  PutBucketTaggingCommand, PutObjectCommand, PutObjectTaggingCommand, UploadPartCommand, type S3Client, type Tag, type TaggingDirective,
} from '@aws-sdk/client-s3';
import { createAccount, expectAllowed, expectError, type Account } from './acl-helpers.js';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { bodyBytes, md5Base64, newBucket, rejectsWith, signedFetch, xmlValue } from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;

before(async () => {
  server = await startServer();
  s3 = s3Client(server);
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

async function tagsOf(bucket: string, key: string, client: S3Client = s3): Promise<Tag[]> {
  return (await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }))).TagSet ?? [];
}

const tag = (Key: string, Value: string): Tag => ({ Key, Value });

/** A <Tagging> document, sent raw with a correct Content-MD5 unless headers say otherwise; expects an S3 error. */
async function rejectsDocument(bucket: string, key: string, xml: string, code: string, status: number, headers?: Record<string, string>): Promise<string> {
  const res = await signedFetch(server, {
    method: 'PUT', path: `/${bucket}/${key}`, query: { tagging: '' }, body: xml, headers: headers ?? { 'content-md5': md5Base64(xml) },
  });
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.equal(xmlValue(text, 'Code'), code, text);
  return text;
}

const tagging = (tags: string): string => `<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>${tags}</TagSet></Tagging>`;
const tagXml = (key: string, value: string): string => `<Tag><Key>${key}</Key><Value>${value}</Value></Tag>`;

describe('object tagging', () => {
  test('PutObjectTagging, GetObjectTagging and DeleteObjectTagging round-trip a tag set', async () => {
    const bucket = await newBucket(s3, 'tag-roundtrip');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'obj', Body: 'tagged bytes' }));
    assert.deepEqual(await tagsOf(bucket, 'obj'), []);

    const set = [tag('project', 'cairn'), tag('Émoji-free key_1.2:3/4=5+6-7@8', 'value with spaces'), tag('empty', '')];
    const put = await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'obj', Tagging: { TagSet: set } }));
    assert.equal(put.$metadata.httpStatusCode, 200);
    // An unversioned bucket's object has no version id to report.
    assert.equal(put.VersionId, undefined);
    const got = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'obj' }));
    // S3 answers a tag set in key order, whatever order it was written in.
    assert.deepEqual(got.TagSet, [set[2], set[0], set[1]]);
    assert.equal(got.VersionId, undefined);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'obj' }))).TagCount, 3);
    // Tagging touches neither the bytes nor the ETag.
    const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'obj' }));
    assert.equal(read.TagCount, 3);
    assert.equal((await bodyBytes(read.Body)).toString(), 'tagged bytes');

    // A new tag set replaces the old one whole; versionId=null names the only version.
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'obj', VersionId: 'null', Tagging: { TagSet: [tag('only', 'one')] } }));
    assert.deepEqual(await tagsOf(bucket, 'obj'), [tag('only', 'one')]);
    await rejectsWith(s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'obj', VersionId: 'v1' })), 'NoSuchVersion', 404);

    const deleted = await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'obj' }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    assert.deepEqual(await tagsOf(bucket, 'obj'), []);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'obj' }))).TagCount, undefined);
    assert.equal((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'obj' }))).TagCount, undefined);

    // Ten tags of the longest allowed keys and values (counted in characters, not bytes) fit; an empty TagSet clears.
    const ten = Array.from({ length: 10 }, (_, i) => tag(`${i}${'é'.repeat(127)}`, 'ü'.repeat(256)));
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'obj', Tagging: { TagSet: ten } }));
    assert.deepEqual(await tagsOf(bucket, 'obj'), ten);
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'obj', Tagging: { TagSet: [] } }));
    assert.deepEqual(await tagsOf(bucket, 'obj'), []);
  });

  test('x-amz-tagging on PutObject sets the tags, GET and HEAD count them, and an overwrite without it clears them', async () => {
    const bucket = await newBucket(s3, 'tag-put');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'one', Tagging: 'a=1&b=two%20words%3A%20%C3%A9&&empty=&flag' }));
    assert.deepEqual(await tagsOf(bucket, 'k'), [tag('a', '1'), tag('b', 'two words: é'), tag('empty', ''), tag('flag', '')]);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }))).TagCount, 4);
    assert.equal((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))).TagCount, 4);

    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'two', Tagging: 'z=26' }));
    assert.deepEqual(await tagsOf(bucket, 'k'), [tag('z', '26')]);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'three' }));
    assert.deepEqual(await tagsOf(bucket, 'k'), []);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }))).TagCount, undefined);

    // Tags set by PutObjectTagging go too when the key is written again.
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'k', Tagging: { TagSet: [tag('later', 'yes')] } }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'four' }));
    assert.deepEqual(await tagsOf(bucket, 'k'), []);
  });

  test('x-amz-tagging and PutObjectTagging sets are answered in key order', async () => {
    const bucket = await newBucket(s3, 'tag-order');
    // A pair without '=' is a key with an empty value.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', Tagging: 'zeta=last&Alpha=upper&beta' }));
    assert.deepEqual(await tagsOf(bucket, 'k'), [tag('Alpha', 'upper'), tag('beta', ''), tag('zeta', 'last')]);
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'k', Tagging: { TagSet: [tag('2', 'b'), tag('10', 'a'), tag('1', 'c')] } }));
    assert.deepEqual(await tagsOf(bucket, 'k'), [tag('1', 'c'), tag('10', 'a'), tag('2', 'b')]);
  });

  test('CreateMultipartUpload keeps x-amz-tagging until CompleteMultipartUpload gives it to the object', async () => {
    const bucket = await newBucket(s3, 'tag-mpu');
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', Tagging: 'stage=upload&team=storage' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: upload.UploadId!, PartNumber: 1, Body: 'only part' }));
    // No object yet: its tags wait with the upload.
    await rejectsWith(s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'mp' })), 'NoSuchKey', 404);
    await s3.send(new CompleteMultipartUploadCommand({
      Bucket: bucket, Key: 'mp', UploadId: upload.UploadId!, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] },
    }));
    assert.deepEqual(await tagsOf(bucket, 'mp'), [tag('stage', 'upload'), tag('team', 'storage')]);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mp' }))).TagCount, 2);

    // A multipart object written over a tagged one without x-amz-tagging has none.
    const again = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }));
    const p = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: again.UploadId!, PartNumber: 1, Body: 'untagged' }));
    await s3.send(new CompleteMultipartUploadCommand({
      Bucket: bucket, Key: 'mp', UploadId: again.UploadId!, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag! }] },
    }));
    assert.deepEqual(await tagsOf(bucket, 'mp'), []);
  });

  test('CopyObject copies the source\'s tags by default and with COPY, and takes x-amz-tagging with REPLACE', async () => {
    const bucket = await newBucket(s3, 'tag-copy');
    const source = [tag('n', '1'), tag('origin', 'source')];
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'copied bytes', Tagging: 'origin=source&n=1' }));

    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'default', CopySource: `${bucket}/src` }));
    assert.deepEqual(await tagsOf(bucket, 'default'), source);
    // Under COPY an x-amz-tagging header is ignored.
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy', CopySource: `${bucket}/src`, TaggingDirective: 'COPY', Tagging: 'x=y' }));
    assert.deepEqual(await tagsOf(bucket, 'copy'), source);
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'replace', CopySource: `${bucket}/src`, TaggingDirective: 'REPLACE', Tagging: 'x=y' }));
    assert.deepEqual(await tagsOf(bucket, 'replace'), [tag('x', 'y')]);
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'cleared', CopySource: `${bucket}/src`, TaggingDirective: 'REPLACE' }));
    assert.deepEqual(await tagsOf(bucket, 'cleared'), []);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'replace' }))).TagCount, 1);
    assert.equal((await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'replace' }))).Body)).toString(), 'copied bytes');
    // The source kept its tags.
    assert.deepEqual(await tagsOf(bucket, 'src'), source);

    await rejectsWith(s3.send(new CopyObjectCommand({
      Bucket: bucket, Key: 'bad', CopySource: `${bucket}/src`, TaggingDirective: 'MERGE' as TaggingDirective,
    })), 'InvalidArgument', 400);
    await rejectsWith(s3.send(new CopyObjectCommand({
      Bucket: bucket, Key: 'bad', CopySource: `${bucket}/src`, TaggingDirective: 'REPLACE', Tagging: 'a=1&a=2',
    })), 'InvalidArgument', 400);
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bad' })), 'NotFound', 404);
  });

  test('S3\'s validation errors, none of which changes the tags', async () => {
    const bucket = await newBucket(s3, 'tag-errors');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'obj', Body: 'x', Tagging: 'keep=me' }));
    const put = (TagSet: Tag[]): Promise<unknown> => s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'obj', Tagging: { TagSet } }));

    await rejectsWith(put(Array.from({ length: 11 }, (_, i) => tag(`k${i}`, 'v'))), 'BadRequest', 400);
    await rejectsWith(put([tag('é'.repeat(129), 'v')]), 'InvalidTag', 400);
    await rejectsWith(put([tag('k', 'ü'.repeat(257))]), 'InvalidTag', 400);
    await rejectsWith(put([tag('', 'v')]), 'InvalidTag', 400);
    await rejectsWith(put([tag('dup', '1'), tag('dup', '2')]), 'InvalidTag', 400);
    await rejectsWith(put([tag('aws:reserved', 'v')]), 'InvalidTag', 400);
    await rejectsWith(put([tag('k', 'a&b')]), 'InvalidTag', 400);
    await rejectsWith(put([tag('what?', 'v')]), 'InvalidTag', 400);

    await rejectsDocument(bucket, 'obj', '<Tagging><TagSet>', 'MalformedXML', 400);
    await rejectsDocument(bucket, 'obj', '<Tagging></Tagging>', 'MalformedXML', 400);
    await rejectsDocument(bucket, 'obj', '<NotTagging><TagSet/></NotTagging>', 'MalformedXML', 400);
    await rejectsDocument(bucket, 'obj', tagging('<Tag><Key>k</Key></Tag>'), 'MalformedXML', 400);
    await rejectsDocument(bucket, 'obj', tagging('<Tag><Key>k</Key><Key>k2</Key><Value>v</Value></Tag>'), 'MalformedXML', 400);
    await rejectsDocument(bucket, 'obj', tagging(`${tagXml('k', 'v')}<Other/>`), 'MalformedXML', 400);
    const dup = await rejectsDocument(bucket, 'obj', tagging(tagXml('same', '1') + tagXml('same', '2')), 'InvalidTag', 400);
    assert.equal(xmlValue(dup, 'TagKey'), 'same');
    // S3 takes a tag set only with an integrity check of the body.
    const valid = tagging(tagXml('k', 'v'));
    await rejectsDocument(bucket, 'obj', valid, 'InvalidRequest', 400, {});
    await rejectsDocument(bucket, 'obj', valid, 'BadDigest', 400, { 'content-md5': md5Base64('something else') });

    // x-amz-tagging that is not an URL-encoded query without duplicates.
    for (const header of ['a=1&a=2', '=v', '%zz=1', 'k=%C3%28']) {
      await rejectsWith(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'new', Body: 'x', Tagging: header })), 'InvalidArgument', 400);
      await rejectsWith(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'new', Tagging: header })), 'InvalidArgument', 400);
    }
    const eleven = Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&');
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'new', Body: 'x', Tagging: eleven })), 'BadRequest', 400);
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'new', Body: 'x', Tagging: 'aws%3Akey=v' })), 'InvalidTag', 400);
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'new', Body: 'x', Tagging: `k=${'v'.repeat(257)}` })), 'InvalidTag', 400);

    // A missing object.
    await rejectsWith(s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'missing', Tagging: { TagSet: [tag('k', 'v')] } })), 'NoSuchKey', 404);
    await rejectsWith(s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'missing' })), 'NoSuchKey', 404);
    await rejectsWith(s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'missing' })), 'NoSuchKey', 404);

    assert.deepEqual(await tagsOf(bucket, 'obj'), [tag('keep', 'me')]);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual((listed.Contents ?? []).map((o) => o.Key), ['obj']);
  });

  test('only the bucket owner reads and writes tags, even where ACLs let another account read and write', async () => {
    const bucket = await newBucket(s3, 'tag-owner');
    const other: Account = {
      id: 'd'.repeat(64), name: 'tagger', email: 'tagger@example.com',
      key: { accessKeyId: 'CAIRNTAGGINGOTHER001', secretAccessKey: 'tagging-other-secret-000000000000000000' },
    };
    await createAccount(server.dataDir, other);
    const stranger = s3Client(server, { ...other.key });
    try {
      await s3.send(new PutBucketAclCommand({ Bucket: bucket, GrantFullControl: `id="${other.id}"` }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'owned', Body: 'x', Tagging: 'owner=yes' }));
      await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'owned', GrantFullControl: `id="${other.id}"` }));
      // The grants work for what ACLs govern ...
      await expectAllowed(stranger.send(new GetObjectCommand({ Bucket: bucket, Key: 'owned' })));
      await expectAllowed(stranger.send(new PutObjectCommand({ Bucket: bucket, Key: 'theirs', Body: 'y' })));
      // ... but tags are not among it.
      await expectError(stranger.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'owned' })), 403, 'AccessDenied');
      await expectError(stranger.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'owned', Tagging: { TagSet: [tag('owner', 'no')] } })), 403, 'AccessDenied');
      await expectError(stranger.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'owned' })), 403, 'AccessDenied');
      await expectError(stranger.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'missing' })), 403, 'AccessDenied');
      assert.deepEqual(await tagsOf(bucket, 'owned'), [tag('owner', 'yes')]);
      // The bucket owner tags what the other account wrote.
      await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'theirs', Tagging: { TagSet: [tag('seen', 'by owner')] } }));
      assert.deepEqual(await tagsOf(bucket, 'theirs'), [tag('seen', 'by owner')]);
    } finally {
      stranger.destroy();
    }
  });
});

describe('bucket tagging', () => {
  async function bucketTags(bucket: string): Promise<Tag[] | undefined> {
    return (await s3.send(new GetBucketTaggingCommand({ Bucket: bucket }))).TagSet;
  }

  test('PutBucketTagging, GetBucketTagging and DeleteBucketTagging; an untagged bucket is 404 NoSuchTagSet', async () => {
    const bucket = await newBucket(s3, 'btag-roundtrip');
    await rejectsWith(s3.send(new GetBucketTaggingCommand({ Bucket: bucket })), 'NoSuchTagSet', 404);

    const put = await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [tag('team', 'storage'), tag('cost-centre', '42'), tag('empty', '')] } }));
    assert.equal(put.$metadata.httpStatusCode, 204);
    assert.deepEqual(await bucketTags(bucket), [tag('cost-centre', '42'), tag('empty', ''), tag('team', 'storage')]);
    // The bucket's tags are not its objects'.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'obj', Body: 'x' }));
    assert.deepEqual(await tagsOf(bucket, 'obj'), []);

    // A new set replaces the old one whole.
    await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [tag('only', 'one')] } }));
    assert.deepEqual(await bucketTags(bucket), [tag('only', 'one')]);

    const deleted = await s3.send(new DeleteBucketTaggingCommand({ Bucket: bucket }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    await rejectsWith(s3.send(new GetBucketTaggingCommand({ Bucket: bucket })), 'NoSuchTagSet', 404);
    // Deleting what is not there is no error; neither is an empty set, which leaves the bucket untagged.
    assert.equal((await s3.send(new DeleteBucketTaggingCommand({ Bucket: bucket }))).$metadata.httpStatusCode, 204);
    await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [tag('k', 'v')] } }));
    await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [] } }));
    await rejectsWith(s3.send(new GetBucketTaggingCommand({ Bucket: bucket })), 'NoSuchTagSet', 404);
  });

  test('a bucket takes 50 tags, not 51; S3\'s tag rules and errors hold, and a refused set changes nothing', async () => {
    const bucket = await newBucket(s3, 'btag-limits');
    const fifty = Array.from({ length: 50 }, (_, i) => tag(`${String(i).padStart(2, '0')}${'é'.repeat(126)}`, 'ü'.repeat(256)));
    await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: fifty } }));
    assert.deepEqual(await bucketTags(bucket), fifty);

    const put = (TagSet: Tag[]): Promise<unknown> => s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet } }));
    await rejectsWith(put(Array.from({ length: 51 }, (_, i) => tag(`k${i}`, 'v'))), 'InvalidTag', 400);
    await rejectsWith(put([tag('é'.repeat(129), 'v')]), 'InvalidTag', 400);
    await rejectsWith(put([tag('k', 'ü'.repeat(257))]), 'InvalidTag', 400);
    await rejectsWith(put([tag('dup', '1'), tag('dup', '2')]), 'InvalidTag', 400);
    await rejectsWith(put([tag('aws:cloudformation', 'v')]), 'InvalidTag', 400);

    const raw = (body: string, headers: Record<string, string>): Promise<Response> =>
      signedFetch(server, { method: 'PUT', path: `/${bucket}`, query: { tagging: '' }, body, headers });
    for (const [body, headers, code] of [
      ['<Tagging><TagSet>', { 'content-md5': md5Base64('<Tagging><TagSet>') }, 'MalformedXML'],
      [tagging('<Tag><Key>k</Key></Tag>'), { 'content-md5': md5Base64(tagging('<Tag><Key>k</Key></Tag>')) }, 'MalformedXML'],
      [tagging(tagXml('k', 'v')), {}, 'InvalidRequest'],
      [tagging(tagXml('k', 'v')), { 'content-md5': md5Base64('other') }, 'BadDigest'],
    ] as const) {
      const res = await raw(body, headers);
      const text = await res.text();
      assert.equal(res.status, 400, text);
      assert.equal(xmlValue(text, 'Code'), code, text);
    }
    assert.deepEqual(await bucketTags(bucket), fifty);
  });

  test('only the bucket owner, even against a FULL_CONTROL grant; a missing bucket is NoSuchBucket; a new bucket of the name starts untagged', async () => {
    const bucket = await newBucket(s3, 'btag-owner');
    await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [tag('owner', 'yes')] } }));
    const other: Account = {
      id: 'e'.repeat(64), name: 'bucket tagger', email: 'bucket-tagger@example.com',
      key: { accessKeyId: 'CAIRNBUCKETTAGGER001', secretAccessKey: 'bucket-tagger-secret-00000000000000000' },
    };
    await createAccount(server.dataDir, other);
    const stranger = s3Client(server, { ...other.key });
    try {
      await s3.send(new PutBucketAclCommand({ Bucket: bucket, GrantFullControl: `id="${other.id}"` }));
      await expectError(stranger.send(new GetBucketTaggingCommand({ Bucket: bucket })), 403, 'AccessDenied');
      await expectError(stranger.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [tag('owner', 'no')] } })), 403, 'AccessDenied');
      await expectError(stranger.send(new DeleteBucketTaggingCommand({ Bucket: bucket })), 403, 'AccessDenied');
      assert.deepEqual(await bucketTags(bucket), [tag('owner', 'yes')]);
    } finally {
      stranger.destroy();
    }

    await rejectsWith(s3.send(new GetBucketTaggingCommand({ Bucket: `${bucket}-missing` })), 'NoSuchBucket', 404);
    await rejectsWith(s3.send(new PutBucketTaggingCommand({ Bucket: `${bucket}-missing`, Tagging: { TagSet: [tag('k', 'v')] } })), 'NoSuchBucket', 404);

    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await rejectsWith(s3.send(new GetBucketTaggingCommand({ Bucket: bucket })), 'NoSuchTagSet', 404);
  });
});
