/**
 * ACL grants through @aws-sdk/client-s3 (default settings): x-amz-grant-*
 * headers on CreateBucket, PutObject, CopyObject and CreateMultipartUpload,
 * AccessControlPolicy bodies on PutBucketAcl / PutObjectAcl, what
 * GetBucketAcl / GetObjectAcl answer (and their raw XML), the errors S3 gives
 * for grants it cannot honour, and what a grant lets the grantee do.
 *
 * Rules checked here (S3's):
 * - grant headers give exactly the grants named: the owner gets no implicit
 *   FULL_CONTROL grant (its implicit READ_ACP / WRITE_ACP remain);
 * - an e-mail grantee is resolved when the ACL is written and read back as the
 *   account's CanonicalUser (ID and DisplayName);
 * - a copy gets a fresh ACL (private unless the request says otherwise);
 * - object READ lets a grantee GET the object, not list the bucket; bucket
 *   WRITE lets it PUT and DELETE objects, not read the owner's.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketCommand,
  DeleteObjectCommand, GetBucketAclCommand, GetBucketLocationCommand, GetObjectAclCommand, GetObjectCommand, HeadBucketCommand,
  HeadObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutBucketAclCommand, PutObjectAclCommand, PutObjectCommand, S3Client, UploadPartCommand,
  type AccessControlPolicy, type Grant,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3Client, startServer, type RunningServer } from './harness.js';
import {
  ALL_USERS, AUTHENTICATED_USERS, XSI, anonymousClient, assertUnsigned, createAccount, expectAllowed, expectError, grantStrings,
  withHeaders, type Account, type AnonymousClient,
} from './acl-helpers.js';

const OTHER: Account = {
  id: 'fedcba9876543210'.repeat(4), name: 'Grace Grantee', email: 'grace@example.com',
  key: { accessKeyId: 'ACLTESTGRANTEEKEY001', secretAccessKey: 'acl-test-grantee-secret-00000000000000' },
};
const UNKNOWN_EMAIL = 'nobody@example.com';
const UNKNOWN_ID = '9'.repeat(64);

let server: RunningServer;
let dataDir: string;
let owner: S3Client;
let other: S3Client;
let anon: AnonymousClient;
let rootId: string;

/** `user:<id>:<name>:<permission>` for the root account. */
const rootGrant = (permission: string): string => `user:${rootId}:root:${permission}`;
const otherGrant = (permission: string): string => `user:${OTHER.id}:${OTHER.name}:${permission}`;
const groupGrant = (uri: string, permission: string): string => `group:${uri}:${permission}`;

async function bucketAcl(bucket: string): Promise<{ owner: [string | undefined, string | undefined]; grants: string[] }> {
  const r = await owner.send(new GetBucketAclCommand({ Bucket: bucket }));
  return { owner: [r.Owner?.ID, r.Owner?.DisplayName], grants: grantStrings(r.Grants) };
}

async function objectAcl(client: S3Client, bucket: string, key: string): Promise<{ owner: [string | undefined, string | undefined]; grants: string[] }> {
  const r = await client.send(new GetObjectAclCommand({ Bucket: bucket, Key: key }));
  return { owner: [r.Owner?.ID, r.Owner?.DisplayName], grants: grantStrings(r.Grants) };
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cairn-acl-'));
  server = await startServer({ dataDir });
  await createAccount(dataDir, OTHER);
  owner = s3Client(server);
  other = s3Client(server, { ...OTHER.key });
  anon = anonymousClient(server);
  const me = await owner.send(new ListBucketsCommand({}));
  assert.ok(me.Owner?.ID, 'ListBuckets names its owner');
  rootId = me.Owner.ID;
});

after(async () => {
  owner?.destroy();
  other?.destroy();
  anon?.client.destroy();
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('grant headers', () => {
  test('CreateBucket: id, emailAddress and group uri grants are exactly what GetBucketAcl returns', async () => {
    await owner.send(new CreateBucketCommand({
      Bucket: 'hdr-bucket',
      GrantRead: `id="${OTHER.id}"`,
      GrantFullControl: `emailAddress="${OTHER.email}"`,
      GrantWrite: `uri="${ALL_USERS}"`,
    }));
    const acl = await bucketAcl('hdr-bucket');
    assert.deepEqual(acl.owner, [rootId, 'root']);
    // The e-mail grantee comes back as the account's canonical user; the owner gets no grant of its own.
    assert.deepEqual(acl.grants, [groupGrant(ALL_USERS, 'WRITE'), otherGrant('FULL_CONTROL'), otherGrant('READ')].sort());
  });

  test('CreateBucket: AllUsers WRITE lets anonymous callers PUT and DELETE objects, not list', async () => {
    await expectAllowed(anon.client.send(new PutObjectCommand({ Bucket: 'hdr-bucket', Key: 'from-anyone', Body: 'x' })));
    await expectAllowed(anon.client.send(new DeleteObjectCommand({ Bucket: 'hdr-bucket', Key: 'from-anyone' })));
    await expectError(anon.client.send(new ListObjectsV2Command({ Bucket: 'hdr-bucket' })), 403, 'AccessDenied');
    // The grantee named twice holds FULL_CONTROL: it reads and rewrites the bucket ACL.
    await expectAllowed(other.send(new GetBucketAclCommand({ Bucket: 'hdr-bucket' })));
  });

  test('a FULL_CONTROL grantee rewrites the bucket ACL, but DeleteBucket and GetBucketLocation stay the owner\'s', async () => {
    await expectError(other.send(new DeleteBucketCommand({ Bucket: 'hdr-bucket' })), 403, 'AccessDenied');
    await expectError(other.send(new GetBucketLocationCommand({ Bucket: 'hdr-bucket' })), 403, 'AccessDenied');
    await expectAllowed(other.send(new PutBucketAclCommand({ Bucket: 'hdr-bucket', GrantFullControl: `id="${OTHER.id}"`, GrantWrite: `uri="${ALL_USERS}"` })));
    const acl = await bucketAcl('hdr-bucket');
    assert.deepEqual(acl.owner, [rootId, 'root'], 'the bucket keeps its owner');
    assert.deepEqual(acl.grants, [groupGrant(ALL_USERS, 'WRITE'), otherGrant('FULL_CONTROL')].sort());
    await expectAllowed(owner.send(new HeadBucketCommand({ Bucket: 'hdr-bucket' })));
  });

  test('an unknown group uri → 400 InvalidArgument', async () => {
    await expectError(owner.send(new PutObjectCommand({
      Bucket: 'hdr-bucket', Key: 'k', Body: 'x', GrantRead: 'uri="http://acs.amazonaws.com/groups/global/Everybody"',
    })), 400, 'InvalidArgument');
  });

  test('one header may name several grantees', async () => {
    await owner.send(new CreateBucketCommand({ Bucket: 'hdr-multi' }));
    await owner.send(new PutObjectCommand({
      Bucket: 'hdr-multi', Key: 'k', Body: 'multi',
      GrantRead: `id="${OTHER.id}", uri="${AUTHENTICATED_USERS}"`,
      GrantReadACP: `emailAddress="${OTHER.email}"`,
    }));
    const acl = await objectAcl(owner, 'hdr-multi', 'k');
    assert.deepEqual(acl.grants, [otherGrant('READ'), groupGrant(AUTHENTICATED_USERS, 'READ'), otherGrant('READ_ACP')].sort());
  });

  test('PutObject: READ to the other account lets it GET the object but not list the bucket', async () => {
    await owner.send(new CreateBucketCommand({ Bucket: 'hdr-object' }));
    await owner.send(new PutObjectCommand({ Bucket: 'hdr-object', Key: 'shared', Body: 'for grace', GrantRead: `id="${OTHER.id}"` }));
    await owner.send(new PutObjectCommand({ Bucket: 'hdr-object', Key: 'unshared', Body: 'not for grace' }));
    const acl = await objectAcl(owner, 'hdr-object', 'shared');
    assert.deepEqual(acl.owner, [rootId, 'root']);
    assert.deepEqual(acl.grants, [otherGrant('READ')]);

    const got = await expectAllowed(other.send(new GetObjectCommand({ Bucket: 'hdr-object', Key: 'shared' })));
    assert.equal(await got.Body?.transformToString(), 'for grace');
    await expectAllowed(other.send(new HeadObjectCommand({ Bucket: 'hdr-object', Key: 'shared' })));
    await expectError(other.send(new ListObjectsV2Command({ Bucket: 'hdr-object' })), 403, 'AccessDenied');
    await expectError(other.send(new GetObjectCommand({ Bucket: 'hdr-object', Key: 'unshared' })), 403, 'AccessDenied');
    // READ is not READ_ACP, and nobody else gained anything.
    await expectError(other.send(new GetObjectAclCommand({ Bucket: 'hdr-object', Key: 'shared' })), 403, 'AccessDenied');
    await expectError(anon.client.send(new GetObjectCommand({ Bucket: 'hdr-object', Key: 'shared' })), 403, 'AccessDenied');
    // Without bucket READ a missing key is AccessDenied, not NoSuchKey.
    await expectError(other.send(new GetObjectCommand({ Bucket: 'hdr-object', Key: 'missing' })), 403, 'AccessDenied');
  });

  test('the owner keeps its implicit READ_ACP and WRITE_ACP when the grants leave it out', async () => {
    // hdr-object/shared grants only the other account: the owner still reads and rewrites its ACL.
    await expectAllowed(owner.send(new GetObjectAclCommand({ Bucket: 'hdr-object', Key: 'shared' })));
    await expectAllowed(owner.send(new PutObjectAclCommand({ Bucket: 'hdr-object', Key: 'shared', GrantRead: `id="${OTHER.id}"` })));
  });

  test('CopyObject: the copy carries the request\'s grants, never the source\'s ACL', async () => {
    await owner.send(new CreateBucketCommand({ Bucket: 'hdr-copy' }));
    await owner.send(new PutObjectCommand({ Bucket: 'hdr-copy', Key: 'source', Body: 'copied', ACL: 'public-read' }));
    await owner.send(new CopyObjectCommand({
      Bucket: 'hdr-copy', Key: 'granted-copy', CopySource: 'hdr-copy/source',
      GrantRead: `uri="${ALL_USERS}"`, GrantFullControl: `emailAddress="${OTHER.email}"`,
    }));
    const acl = await objectAcl(owner, 'hdr-copy', 'granted-copy');
    assert.deepEqual(acl.owner, [rootId, 'root']);
    assert.deepEqual(acl.grants, [groupGrant(ALL_USERS, 'READ'), otherGrant('FULL_CONTROL')].sort());
    const got = await expectAllowed(anon.client.send(new GetObjectCommand({ Bucket: 'hdr-copy', Key: 'granted-copy' })));
    assert.equal(await got.Body?.transformToString(), 'copied');
    // FULL_CONTROL covers WRITE_ACP.
    await expectAllowed(other.send(new PutObjectAclCommand({ Bucket: 'hdr-copy', Key: 'granted-copy', GrantFullControl: `id="${OTHER.id}"` })));

    // A plain copy of a public-read source is private.
    await owner.send(new CopyObjectCommand({ Bucket: 'hdr-copy', Key: 'plain-copy', CopySource: 'hdr-copy/source' }));
    assert.deepEqual((await objectAcl(owner, 'hdr-copy', 'plain-copy')).grants, [rootGrant('FULL_CONTROL')]);
    await expectError(anon.client.send(new GetObjectCommand({ Bucket: 'hdr-copy', Key: 'plain-copy' })), 403, 'AccessDenied');
  });

  test('CreateMultipartUpload: the completed object carries the grants', async () => {
    await owner.send(new CreateBucketCommand({ Bucket: 'hdr-multipart' }));
    const upload = await owner.send(new CreateMultipartUploadCommand({
      Bucket: 'hdr-multipart', Key: 'assembled', GrantRead: `emailAddress="${OTHER.email}"`, GrantReadACP: `id="${OTHER.id}"`,
    }));
    const part = await owner.send(new UploadPartCommand({ Bucket: 'hdr-multipart', Key: 'assembled', UploadId: upload.UploadId, PartNumber: 1, Body: 'one part' }));
    await owner.send(new CompleteMultipartUploadCommand({
      Bucket: 'hdr-multipart', Key: 'assembled', UploadId: upload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
    }));
    const acl = await objectAcl(other, 'hdr-multipart', 'assembled');
    assert.deepEqual(acl.owner, [rootId, 'root']);
    assert.deepEqual(acl.grants, [otherGrant('READ'), otherGrant('READ_ACP')].sort());
    const got = await expectAllowed(other.send(new GetObjectCommand({ Bucket: 'hdr-multipart', Key: 'assembled' })));
    assert.equal(await got.Body?.transformToString(), 'one part');
    await expectError(anon.client.send(new GetObjectCommand({ Bucket: 'hdr-multipart', Key: 'assembled' })), 403, 'AccessDenied');
  });

  test('PutBucketAcl and PutObjectAcl by headers replace the whole ACL', async () => {
    await owner.send(new CreateBucketCommand({ Bucket: 'hdr-replace', ACL: 'public-read' }));
    await owner.send(new PutBucketAclCommand({ Bucket: 'hdr-replace', GrantReadACP: `id="${OTHER.id}"` }));
    assert.deepEqual((await bucketAcl('hdr-replace')).grants, [otherGrant('READ_ACP')]);
    await expectError(anon.client.send(new ListObjectsV2Command({ Bucket: 'hdr-replace' })), 403, 'AccessDenied');
    await expectAllowed(other.send(new GetBucketAclCommand({ Bucket: 'hdr-replace' })));

    await owner.send(new PutObjectCommand({ Bucket: 'hdr-replace', Key: 'k', Body: 'x', ACL: 'public-read' }));
    await owner.send(new PutObjectAclCommand({ Bucket: 'hdr-replace', Key: 'k', GrantWriteACP: `emailAddress="${OTHER.email}"` }));
    assert.deepEqual((await objectAcl(owner, 'hdr-replace', 'k')).grants, [otherGrant('WRITE_ACP')]);
    await expectError(anon.client.send(new GetObjectCommand({ Bucket: 'hdr-replace', Key: 'k' })), 403, 'AccessDenied');
    // WRITE_ACP without READ_ACP: it may write the ACL but not read it.
    await expectError(other.send(new GetObjectAclCommand({ Bucket: 'hdr-replace', Key: 'k' })), 403, 'AccessDenied');
    await expectAllowed(other.send(new PutObjectAclCommand({ Bucket: 'hdr-replace', Key: 'k', ACL: 'public-read' })));
    await expectAllowed(anon.client.send(new GetObjectCommand({ Bucket: 'hdr-replace', Key: 'k' })));
  });
});

describe('AccessControlPolicy bodies', () => {
  const policy = (ownerId: string, grants: Grant[]): AccessControlPolicy => ({ Owner: { ID: ownerId }, Grants: grants });

  test('PutBucketAcl: CanonicalUser, AmazonCustomerByEmail and Group grantees', async () => {
    await owner.send(new CreateBucketCommand({ Bucket: 'body-bucket' }));
    await owner.send(new PutBucketAclCommand({
      Bucket: 'body-bucket',
      AccessControlPolicy: policy(rootId, [
        { Grantee: { Type: 'CanonicalUser', ID: rootId }, Permission: 'FULL_CONTROL' },
        { Grantee: { Type: 'AmazonCustomerByEmail', EmailAddress: OTHER.email }, Permission: 'WRITE' },
        { Grantee: { Type: 'Group', URI: AUTHENTICATED_USERS }, Permission: 'READ_ACP' },
      ]),
    }));
    const acl = await bucketAcl('body-bucket');
    assert.deepEqual(acl.owner, [rootId, 'root']);
    assert.deepEqual(acl.grants, [rootGrant('FULL_CONTROL'), otherGrant('WRITE'), groupGrant(AUTHENTICATED_USERS, 'READ_ACP')].sort());
  });

  test('bucket WRITE lets the other account PUT and DELETE objects, but not list nor read the owner\'s', async () => {
    await owner.send(new PutObjectCommand({ Bucket: 'body-bucket', Key: 'owners', Body: 'mine' }));
    await expectAllowed(other.send(new PutObjectCommand({ Bucket: 'body-bucket', Key: 'graces', Body: 'hers' })));
    // Its object is its own: it owns the object's ACL.
    const acl = await objectAcl(other, 'body-bucket', 'graces');
    assert.deepEqual(acl.owner, [OTHER.id, OTHER.name]);
    assert.deepEqual(acl.grants, [otherGrant('FULL_CONTROL')]);
    await expectAllowed(other.send(new DeleteObjectCommand({ Bucket: 'body-bucket', Key: 'graces' })));
    // WRITE covers deleting any object in the bucket, the owner's too.
    await owner.send(new PutObjectCommand({ Bucket: 'body-bucket', Key: 'owners-doomed', Body: 'mine' }));
    await expectAllowed(other.send(new DeleteObjectCommand({ Bucket: 'body-bucket', Key: 'owners-doomed' })));
    await expectError(owner.send(new HeadObjectCommand({ Bucket: 'body-bucket', Key: 'owners-doomed' })), 404, undefined);

    await expectError(other.send(new ListObjectsV2Command({ Bucket: 'body-bucket' })), 403, 'AccessDenied');
    await expectError(other.send(new GetObjectCommand({ Bucket: 'body-bucket', Key: 'owners' })), 403, 'AccessDenied');
    // AuthenticatedUsers READ_ACP: any signed account reads the bucket ACL, anonymous callers do not.
    await expectAllowed(other.send(new GetBucketAclCommand({ Bucket: 'body-bucket' })));
    await expectError(anon.client.send(new GetBucketAclCommand({ Bucket: 'body-bucket' })), 403, 'AccessDenied');
    await expectError(anon.client.send(new PutObjectCommand({ Bucket: 'body-bucket', Key: 'anon', Body: 'x' })), 403, 'AccessDenied');
  });

  test('PutObjectAcl: the object owner keeps READ_ACP / WRITE_ACP after granting itself nothing', async () => {
    await expectAllowed(other.send(new PutObjectCommand({ Bucket: 'body-bucket', Key: 'graces-own', Body: 'hers' })));
    await expectAllowed(other.send(new PutObjectAclCommand({
      Bucket: 'body-bucket', Key: 'graces-own',
      AccessControlPolicy: policy(OTHER.id, [
        { Grantee: { Type: 'CanonicalUser', ID: rootId }, Permission: 'READ' },
        { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ_ACP' },
      ]),
    })));
    const acl = await objectAcl(other, 'body-bucket', 'graces-own');
    assert.deepEqual(acl.owner, [OTHER.id, OTHER.name], 'ownership never changes through an ACL');
    assert.deepEqual(acl.grants, [rootGrant('READ'), groupGrant(ALL_USERS, 'READ_ACP')].sort());
    // The ACL it wrote names it nowhere, yet it still reads and rewrites that ACL (below).
    await expectAllowed(anon.client.send(new GetObjectAclCommand({ Bucket: 'body-bucket', Key: 'graces-own' })));
    const got = await expectAllowed(owner.send(new GetObjectCommand({ Bucket: 'body-bucket', Key: 'graces-own' })));
    assert.equal(await got.Body?.transformToString(), 'hers');
    await expectAllowed(other.send(new PutObjectAclCommand({ Bucket: 'body-bucket', Key: 'graces-own', ACL: 'private' })));
    assert.deepEqual((await objectAcl(other, 'body-bucket', 'graces-own')).grants, [otherGrant('FULL_CONTROL')]);
  });

  test('an ACL naming another Owner cannot give the resource away → 403 AccessDenied', async () => {
    await owner.send(new CreateBucketCommand({ Bucket: 'body-giveaway' }));
    await owner.send(new PutObjectCommand({ Bucket: 'body-giveaway', Key: 'k', Body: 'x' }));
    const toOther = policy(OTHER.id, [{ Grantee: { Type: 'CanonicalUser', ID: OTHER.id }, Permission: 'FULL_CONTROL' }]);
    await expectError(owner.send(new PutBucketAclCommand({ Bucket: 'body-giveaway', AccessControlPolicy: toOther })), 403, 'AccessDenied');
    await expectError(owner.send(new PutObjectAclCommand({ Bucket: 'body-giveaway', Key: 'k', AccessControlPolicy: toOther })), 403, 'AccessDenied');
    assert.deepEqual(await bucketAcl('body-giveaway'), { owner: [rootId, 'root'], grants: [rootGrant('FULL_CONTROL')] });
    assert.deepEqual(await objectAcl(owner, 'body-giveaway', 'k'), { owner: [rootId, 'root'], grants: [rootGrant('FULL_CONTROL')] });
    // Naming the real owner is fine.
    await expectAllowed(owner.send(new PutObjectAclCommand({
      Bucket: 'body-giveaway', Key: 'k', AccessControlPolicy: policy(rootId, [{ Grantee: { Type: 'CanonicalUser', ID: OTHER.id }, Permission: 'READ' }]),
    })));
    assert.deepEqual((await objectAcl(owner, 'body-giveaway', 'k')).grants, [otherGrant('READ')]);
  });
});

describe('grants S3 refuses', () => {
  before(async () => {
    await owner.send(new CreateBucketCommand({ Bucket: 'refused', ACL: 'public-read' }));
    await owner.send(new PutObjectCommand({ Bucket: 'refused', Key: 'k', Body: 'x', ACL: 'public-read' }));
  });

  /** The bucket and object ACLs a refused request must leave as they were. */
  async function assertUnchanged(): Promise<void> {
    assert.deepEqual((await bucketAcl('refused')).grants, [rootGrant('FULL_CONTROL'), groupGrant(ALL_USERS, 'READ')].sort());
    assert.deepEqual((await objectAcl(owner, 'refused', 'k')).grants, [rootGrant('FULL_CONTROL'), groupGrant(ALL_USERS, 'READ')].sort());
  }

  test('an unknown e-mail address → 400 UnresolvableGrantByEmailAddress', async () => {
    const grant = `emailAddress="${UNKNOWN_EMAIL}"`;
    await expectError(owner.send(new CreateBucketCommand({ Bucket: 'refused-email', GrantRead: grant })), 400, 'UnresolvableGrantByEmailAddress');
    await expectError(owner.send(new HeadBucketCommand({ Bucket: 'refused-email' })), 404, undefined);
    await expectError(owner.send(new PutObjectCommand({ Bucket: 'refused', Key: 'new', Body: 'x', GrantRead: grant })), 400, 'UnresolvableGrantByEmailAddress');
    await expectError(owner.send(new HeadObjectCommand({ Bucket: 'refused', Key: 'new' })), 404, undefined);
    await expectError(owner.send(new PutObjectAclCommand({ Bucket: 'refused', Key: 'k', GrantFullControl: grant })), 400, 'UnresolvableGrantByEmailAddress');
    await expectError(owner.send(new PutBucketAclCommand({
      Bucket: 'refused',
      AccessControlPolicy: { Owner: { ID: rootId }, Grants: [{ Grantee: { Type: 'AmazonCustomerByEmail', EmailAddress: UNKNOWN_EMAIL }, Permission: 'READ' }] },
    })), 400, 'UnresolvableGrantByEmailAddress');
    await assertUnchanged();
  });

  test('an unknown canonical id → 400 InvalidArgument', async () => {
    const grant = `id="${UNKNOWN_ID}"`;
    await expectError(owner.send(new CreateBucketCommand({ Bucket: 'refused-id', GrantFullControl: grant })), 400, 'InvalidArgument');
    await expectError(owner.send(new HeadBucketCommand({ Bucket: 'refused-id' })), 404, undefined);
    await expectError(owner.send(new CopyObjectCommand({ Bucket: 'refused', Key: 'copy', CopySource: 'refused/k', GrantRead: grant })), 400, 'InvalidArgument');
    await expectError(owner.send(new CreateMultipartUploadCommand({ Bucket: 'refused', Key: 'mpu', GrantRead: grant })), 400, 'InvalidArgument');
    await expectError(owner.send(new PutBucketAclCommand({ Bucket: 'refused', GrantRead: grant })), 400, 'InvalidArgument');
    await expectError(owner.send(new PutObjectAclCommand({
      Bucket: 'refused', Key: 'k',
      AccessControlPolicy: { Owner: { ID: rootId }, Grants: [{ Grantee: { Type: 'CanonicalUser', ID: UNKNOWN_ID }, Permission: 'READ' }] },
    })), 400, 'InvalidArgument');
    await assertUnchanged();
  });

  test('a canned ACL together with grant headers → 400 InvalidRequest', async () => {
    const both = { ACL: 'public-read', GrantRead: `id="${OTHER.id}"` } as const;
    await expectError(owner.send(new CreateBucketCommand({ Bucket: 'refused-both', ...both })), 400, 'InvalidRequest');
    await expectError(owner.send(new HeadBucketCommand({ Bucket: 'refused-both' })), 404, undefined);
    await expectError(owner.send(new PutObjectCommand({ Bucket: 'refused', Key: 'new', Body: 'x', ...both })), 400, 'InvalidRequest');
    await expectError(owner.send(new PutBucketAclCommand({ Bucket: 'refused', ...both })), 400, 'InvalidRequest');
    await expectError(owner.send(new PutObjectAclCommand({ Bucket: 'refused', Key: 'k', ...both })), 400, 'InvalidRequest');
    await assertUnchanged();
  });

  test('an invalid canned ACL name → 400 InvalidArgument', async () => {
    const bad = { 'x-amz-acl': 'public-write' };
    await expectError(owner.send(withHeaders(new CreateBucketCommand({ Bucket: 'refused-canned' }), bad)), 400, 'InvalidArgument');
    await expectError(owner.send(new HeadBucketCommand({ Bucket: 'refused-canned' })), 404, undefined);
    await expectError(owner.send(withHeaders(new PutObjectCommand({ Bucket: 'refused', Key: 'new', Body: 'x' }), bad)), 400, 'InvalidArgument');
    await expectError(owner.send(withHeaders(new PutBucketAclCommand({ Bucket: 'refused', ACL: 'private' }), bad)), 400, 'InvalidArgument');
    await expectError(owner.send(withHeaders(new PutObjectAclCommand({ Bucket: 'refused', Key: 'k', ACL: 'private' }), bad)), 400, 'InvalidArgument');
    await assertUnchanged();
  });
});

describe('what an ACL write leaves alone', () => {
  test('PutObjectAcl changes neither Last-Modified (HEAD, ListObjectsV2) nor the ETag or bytes', async () => {
    await owner.send(new CreateBucketCommand({ Bucket: 'acl-mtime' }));
    await owner.send(new PutObjectCommand({ Bucket: 'acl-mtime', Key: 'k', Body: 'unchanged bytes' }));
    const before = await owner.send(new HeadObjectCommand({ Bucket: 'acl-mtime', Key: 'k' }));
    // Last-Modified has whole seconds: wait past the next one so that a rewrite would show.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await owner.send(new PutObjectAclCommand({ Bucket: 'acl-mtime', Key: 'k', ACL: 'public-read' }));
    const after = await owner.send(new HeadObjectCommand({ Bucket: 'acl-mtime', Key: 'k' }));
    assert.equal(after.LastModified?.getTime(), before.LastModified?.getTime());
    assert.equal(after.ETag, before.ETag);
    const listed = await owner.send(new ListObjectsV2Command({ Bucket: 'acl-mtime' }));
    assert.equal(listed.Contents?.[0]?.LastModified?.getTime(), before.LastModified?.getTime());
    const read = await anon.client.send(new GetObjectCommand({ Bucket: 'acl-mtime', Key: 'k' }));
    assert.equal(await read.Body?.transformToString(), 'unchanged bytes');
  });
});

describe('the order of Grants', () => {
  /** Grants as answered, in order (not sorted). */
  const inOrder = (grants: readonly Grant[] | undefined): string[] => (grants ?? []).map((g) =>
    g.Grantee?.Type === 'Group' ? groupGrant(g.Grantee.URI ?? '', g.Permission ?? '') : `user:${g.Grantee?.ID}:${g.Grantee?.DisplayName}:${g.Permission}`);

  test('canned ACLs answer group grants before the owner\'s FULL_CONTROL', async () => {
    await owner.send(new CreateBucketCommand({ Bucket: 'order-canned', ACL: 'public-read-write' }));
    const bucket = await owner.send(new GetBucketAclCommand({ Bucket: 'order-canned' }));
    assert.deepEqual(inOrder(bucket.Grants), [groupGrant(ALL_USERS, 'READ'), groupGrant(ALL_USERS, 'WRITE'), rootGrant('FULL_CONTROL')]);

    await owner.send(new PutObjectCommand({ Bucket: 'order-canned', Key: 'k', Body: 'x', ACL: 'authenticated-read' }));
    const object = await owner.send(new GetObjectAclCommand({ Bucket: 'order-canned', Key: 'k' }));
    assert.deepEqual(inOrder(object.Grants), [groupGrant(AUTHENTICATED_USERS, 'READ'), rootGrant('FULL_CONTROL')]);
  });

  test('bucket-owner-read written by another account: its FULL_CONTROL, then the bucket owner\'s READ', async () => {
    await other.send(new PutObjectCommand({ Bucket: 'order-canned', Key: 'theirs', Body: 'x', ACL: 'bucket-owner-read' }));
    const acl = await other.send(new GetObjectAclCommand({ Bucket: 'order-canned', Key: 'theirs' }));
    assert.deepEqual(inOrder(acl.Grants), [otherGrant('FULL_CONTROL'), rootGrant('READ')]);
    await other.send(new PutObjectAclCommand({ Bucket: 'order-canned', Key: 'theirs', ACL: 'bucket-owner-full-control' }));
    const full = await other.send(new GetObjectAclCommand({ Bucket: 'order-canned', Key: 'theirs' }));
    assert.deepEqual(inOrder(full.Grants), [otherGrant('FULL_CONTROL'), rootGrant('FULL_CONTROL')]);
  });

  test('a policy written owner-first is answered with its group grant first, accounts in the order written', async () => {
    await owner.send(new PutBucketAclCommand({
      Bucket: 'order-canned',
      AccessControlPolicy: {
        Owner: { ID: rootId },
        Grants: [
          { Grantee: { Type: 'CanonicalUser', ID: rootId }, Permission: 'FULL_CONTROL' },
          { Grantee: { Type: 'CanonicalUser', ID: OTHER.id }, Permission: 'READ' },
          { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' },
        ],
      },
    }));
    const acl = await owner.send(new GetBucketAclCommand({ Bucket: 'order-canned' }));
    assert.deepEqual(inOrder(acl.Grants), [groupGrant(ALL_USERS, 'READ'), rootGrant('FULL_CONTROL'), otherGrant('READ')]);
  });
});

describe('raw GET ?acl', () => {
  /** Every <Grantee …> start tag of an AccessControlPolicy document. */
  const granteeTags = (xml: string): string[] => [...xml.matchAll(/<Grantee\b[^>]*>/g)].map((m) => m[0]);

  async function fetchAcl(url: string): Promise<string> {
    const response = await fetch(url);
    const body = await response.text();
    assert.equal(response.status, 200, body);
    assert.match(response.headers.get('content-type') ?? '', /xml/);
    assert.match(body, /<AccessControlPolicy xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/">/);
    return body;
  }

  function assertGrantee(tag: string | undefined, type: 'CanonicalUser' | 'Group'): void {
    assert.ok(tag, `no Grantee of type ${type}`);
    assert.ok(tag.includes(`xmlns:xsi="${XSI}"`), `${tag} declares the xsi namespace`);
    assert.ok(tag.includes(`xsi:type="${type}"`), `${tag} carries xsi:type="${type}"`);
  }

  test('GetBucketAcl and GetObjectAcl through presigned URLs: each Grantee carries xsi:type', async () => {
    await owner.send(new CreateBucketCommand({ Bucket: 'raw-acl', GrantFullControl: `id="${rootId}"`, GrantRead: `uri="${ALL_USERS}"` }));
    await owner.send(new PutObjectCommand({ Bucket: 'raw-acl', Key: 'k', Body: 'x', GrantRead: `emailAddress="${OTHER.email}", uri="${AUTHENTICATED_USERS}"` }));

    const bucketXml = await fetchAcl(await getSignedUrl(owner, new GetBucketAclCommand({ Bucket: 'raw-acl' }), { expiresIn: 300 }));
    const bucketTags = granteeTags(bucketXml);
    assert.equal(bucketTags.length, 2, bucketXml);
    assertGrantee(bucketTags.find((t) => t.includes('CanonicalUser')), 'CanonicalUser');
    assertGrantee(bucketTags.find((t) => t.includes('Group')), 'Group');
    assert.match(bucketXml, new RegExp(`<Owner><ID>${rootId}</ID><DisplayName>root</DisplayName></Owner>`));
    assert.match(bucketXml, new RegExp(`<URI>${ALL_USERS}</URI>`));

    const objectXml = await fetchAcl(await getSignedUrl(owner, new GetObjectAclCommand({ Bucket: 'raw-acl', Key: 'k' }), { expiresIn: 300 }));
    const objectTags = granteeTags(objectXml);
    assert.equal(objectTags.length, 2, objectXml);
    assertGrantee(objectTags.find((t) => t.includes('CanonicalUser')), 'CanonicalUser');
    assertGrantee(objectTags.find((t) => t.includes('Group')), 'Group');
    // The e-mail grant is stored as the account it named, never as the address.
    assert.match(objectXml, new RegExp(`<ID>${OTHER.id}</ID><DisplayName>${OTHER.name}</DisplayName>`));
    assert.doesNotMatch(objectXml, /EmailAddress|AmazonCustomerByEmail/);
  });
});

test('the anonymous client sent every request without any signature', () => {
  assertUnsigned(anon.sent);
});
