/**
 * The bucket policy matrix, through @aws-sdk/client-s3 against a real server:
 *
 *   6 policy shapes (none, public read, deny writes to everyone, another account
 *                    may write under one prefix, conditions on the source address,
 *                    deny everything not over TLS)
 * × 3 principals (the owner, another account, anonymous)
 * × 7 operations (GetObject, ListObjectsV2, PutObject inside and outside the
 *                 prefix, DeleteObject, DeleteObjects, GetBucketPolicy)
 *
 * one named subtest per cell. The bucket and its objects are the owner's with
 * private ACLs, so whatever a non-owner may do comes from the policy alone.
 * Expected outcomes are AWS's: an explicit Deny wins, even over the bucket owner,
 * except that the owner (a root account) may always manage the policy itself;
 * otherwise a policy Allow, or ownership, admits the request. DeleteObjects is
 * decided per key: a key the policy denies is reported AccessDenied in its
 * DeleteResult (or the whole request refused when the bucket itself is). Writes and deletes
 * are also checked for their effect, seen by the owner once the policy is gone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand, DeleteBucketPolicyCommand, DeleteObjectCommand, DeleteObjectsCommand, GetBucketPolicyCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, PutBucketPolicyCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import type { MetadataBearer } from '@smithy/types';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { anonymousClient, assertUnsigned, createAccount, expectAllowed, expectError, settle, type Account, type AnonymousClient } from './acl-helpers.js';

const OTHER: Account = {
  id: 'fedcba9876543210'.repeat(4), name: 'Other', email: 'other@example.com',
  key: { accessKeyId: 'POLICYMATRIXOTHER001', secretAccessKey: 'policy-matrix-other-secret-0000000000000' },
};
const BUCKET = 'policy-matrix';
const OBJECT_KEY = 'the-object';
const BODY = 'policy matrix body';

type PrincipalName = 'owner' | 'other' | 'anonymous';
const PRINCIPALS: readonly PrincipalName[] = ['owner', 'other', 'anonymous'];
type OperationName = 'GetObject' | 'ListObjectsV2' | 'PutObject uploads/' | 'PutObject elsewhere' | 'DeleteObject' | 'DeleteObjects' | 'GetBucketPolicy';
const OPERATIONS: readonly OperationName[] = ['GetObject', 'ListObjectsV2', 'PutObject uploads/', 'PutObject elsewhere', 'DeleteObject', 'DeleteObjects', 'GetBucketPolicy'];

const bucketArn = `arn:aws:s3:::${BUCKET}`;
const objectsArn = `arn:aws:s3:::${BUCKET}/*`;

interface Shape {
  readonly name: string;
  readonly statements: readonly object[] | undefined;
  /** The operations each principal may perform under this shape. */
  readonly allowed: Readonly<Record<PrincipalName, readonly OperationName[]>>;
}

const EVERYTHING = OPERATIONS;
const NOTHING: readonly OperationName[] = [];

const SHAPES: readonly Shape[] = [
  { name: 'no policy', statements: undefined, allowed: { owner: EVERYTHING, other: NOTHING, anonymous: NOTHING } },
  {
    name: 'public read',
    statements: [
      { Sid: 'ReadObjects', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: objectsArn },
      { Sid: 'ListBucket', Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:ListBucket', Resource: bucketArn },
    ],
    allowed: { owner: EVERYTHING, other: ['GetObject', 'ListObjectsV2'], anonymous: ['GetObject', 'ListObjectsV2'] },
  },
  {
    name: 'deny writes to everyone',
    statements: [{ Effect: 'Deny', Principal: '*', Action: ['s3:PutObject', 's3:DeleteObject'], Resource: objectsArn }],
    allowed: { owner: ['GetObject', 'ListObjectsV2', 'GetBucketPolicy'], other: NOTHING, anonymous: NOTHING },
  },
  {
    name: 'another account may write under uploads/',
    statements: [{ Effect: 'Allow', Principal: { AWS: [`arn:aws:iam::${OTHER.id}:root`] }, Action: 's3:PutObject', Resource: `${bucketArn}/uploads/*` }],
    allowed: { owner: EVERYTHING, other: ['PutObject uploads/'], anonymous: NOTHING },
  },
  {
    // The server sees its clients at 127.0.0.1: listing is allowed from there, reading only from 10/8.
    name: 'conditions on the source address',
    statements: [
      { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: objectsArn, Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
      { Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: bucketArn, Condition: { IpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '::1/128'] } } },
    ],
    allowed: { owner: EVERYTHING, other: ['ListObjectsV2'], anonymous: ['ListObjectsV2'] },
  },
  {
    name: 'deny everything not over TLS',
    statements: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [bucketArn, objectsArn], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }],
    allowed: { owner: ['GetBucketPolicy'], other: NOTHING, anonymous: NOTHING },
  },
];

let server: RunningServer;
let owner: S3Client;
let clients: Record<PrincipalName, S3Client>;
let anonymous: AnonymousClient;

function policyText(statements: readonly object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

const putKey = (principal: PrincipalName, inside: boolean): string => `${inside ? 'uploads' : 'elsewhere'}/${principal}`;
const victimKey = (principal: PrincipalName): string => `victim-${principal}`;
const batchVictimKey = (principal: PrincipalName): string => `batch-victim-${principal}`;

function send(client: S3Client, op: OperationName, principal: PrincipalName): Promise<MetadataBearer> {
  switch (op) {
    case 'GetObject': return client.send(new GetObjectCommand({ Bucket: BUCKET, Key: OBJECT_KEY }));
    case 'ListObjectsV2': return client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    case 'PutObject uploads/': return client.send(new PutObjectCommand({ Bucket: BUCKET, Key: putKey(principal, true), Body: principal }));
    case 'PutObject elsewhere': return client.send(new PutObjectCommand({ Bucket: BUCKET, Key: putKey(principal, false), Body: principal }));
    case 'DeleteObject': return client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: victimKey(principal) }));
    case 'DeleteObjects': return client.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: batchVictimKey(principal) }] } }));
    case 'GetBucketPolicy': return client.send(new GetBucketPolicyCommand({ Bucket: BUCKET }));
  }
}

async function exists(key: string): Promise<boolean> {
  const r = await settle(owner.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })));
  if (!r.ok) assert.equal(r.error.$metadata.httpStatusCode, 404);
  return r.ok;
}

before(async () => {
  server = await startServer();
  await createAccount(server.dataDir, OTHER);
  anonymous = anonymousClient(server);
  owner = s3Client(server);
  clients = { owner, other: s3Client(server, { ...OTHER.key }), anonymous: anonymous.client };
  await owner.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await owner.send(new PutObjectCommand({ Bucket: BUCKET, Key: OBJECT_KEY, Body: BODY }));
});

after(async () => {
  assertUnsigned(anonymous.sent);
  await server.stop();
});

for (const shape of SHAPES) {
  describe(`policy: ${shape.name}`, () => {
    before(async () => {
      for (const p of PRINCIPALS) {
        await owner.send(new PutObjectCommand({ Bucket: BUCKET, Key: victimKey(p), Body: 'victim' }));
        await owner.send(new PutObjectCommand({ Bucket: BUCKET, Key: batchVictimKey(p), Body: 'victim' }));
      }
      if (shape.statements) await expectAllowed(owner.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: policyText(shape.statements) })));
    });

    for (const principal of PRINCIPALS) {
      for (const op of OPERATIONS) {
        const allowed = shape.allowed[principal].includes(op);
        test(`${principal} ${op}: ${allowed ? 'allowed' : 'AccessDenied'}`, async () => {
          const client = clients[principal];
          if (!allowed && op === 'DeleteObjects' && principal === 'owner') {
            // A policy denying the bucket too refuses the request; one denying only the key reports it refused.
            if (shape.name === 'deny everything not over TLS') {
              await expectError(send(client, op, principal), 403, 'AccessDenied');
              return;
            }
            const out = await expectAllowed(client.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: batchVictimKey(principal) }] } })));
            assert.deepEqual(out.Errors?.map((e) => [e.Key, e.Code]), [[batchVictimKey(principal), 'AccessDenied']]);
            assert.equal(out.Deleted, undefined);
            return;
          }
          if (!allowed) {
            await expectError(send(client, op, principal), 403, 'AccessDenied');
            return;
          }
          if (op === 'GetBucketPolicy' && !shape.statements) {
            // Allowed to ask, but there is nothing to answer.
            await expectError(send(client, op, principal), 404, 'NoSuchBucketPolicy');
            return;
          }
          const out = await expectAllowed(send(client, op, principal));
          if (op === 'GetObject') assert.equal(await (out as { Body?: { transformToString(): Promise<string> } }).Body?.transformToString(), BODY);
          if (op === 'ListObjectsV2') assert.ok((out as { Contents?: { Key?: string }[] }).Contents?.some((c) => c.Key === OBJECT_KEY));
          if (op === 'DeleteObjects') assert.deepEqual((out as { Deleted?: { Key?: string }[] }).Deleted?.map((d) => d.Key), [batchVictimKey(principal)]);
          if (op === 'GetBucketPolicy') assert.deepEqual(JSON.parse((out as { Policy?: string }).Policy ?? ''), JSON.parse(policyText(shape.statements ?? [])));
        });
      }
    }

    after(async () => {
      // Only the policy's removal lets the owner check and undo what each cell did.
      if (shape.statements) await expectAllowed(owner.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET })));
      for (const p of PRINCIPALS) {
        for (const inside of [true, false]) {
          const op: OperationName = inside ? 'PutObject uploads/' : 'PutObject elsewhere';
          assert.equal(await exists(putKey(p, inside)), shape.allowed[p].includes(op), `${shape.name}: ${p}'s ${op} left its object iff allowed`);
          await owner.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: putKey(p, inside) }));
        }
        assert.equal(await exists(victimKey(p)), !shape.allowed[p].includes('DeleteObject'), `${shape.name}: ${p}'s DeleteObject removed the object iff allowed`);
        assert.equal(await exists(batchVictimKey(p)), !shape.allowed[p].includes('DeleteObjects'), `${shape.name}: ${p}'s DeleteObjects removed the object iff allowed`);
      }
    });
  });
}
