/**
 * The ACL matrix, through @aws-sdk/client-s3 with its default settings:
 *
 *   4 canned ACLs (private, public-read, public-read-write, authenticated-read)
 * × 4 ways to apply one (bucket: CreateBucket x-amz-acl, PutBucketAcl;
 *                        object: PutObject x-amz-acl, PutObjectAcl)
 * × 19 operations an ACL (or ownership) guards
 * × 3 principals (the owner, another account, anonymous)
 *
 * one named subtest per cell, plus ListBuckets per principal. The bucket and
 * its object are always the owner's; the resource the ACL is not applied to
 * stays private, so every scenario also shows that a bucket's ACL does not leak
 * to its objects nor an object's to its bucket.
 *
 * Expected outcomes are S3's ACL semantics:
 * - bucket READ: ListObjects, ListObjectsV2, HeadBucket; bucket WRITE: PutObject,
 *   DeleteObject; bucket READ_ACP / WRITE_ACP: GetBucketAcl / PutBucketAcl;
 * - object READ: GetObject, HeadObject, GetObjectAttributes; object READ_ACP / WRITE_ACP:
 *   GetObjectAcl / PutObjectAcl;
 * - DeleteBucket, GetBucketLocation, GetObjectTagging, PutObjectTagging,
 *   GetBucketTagging and PutBucketTagging: the bucket owner only (no ACL grants them);
 * - AllUsers covers everyone, signed or not; AuthenticatedUsers any signed account;
 * - the owner may do everything (it owns both resources here);
 * - GetObject / HeadObject of a missing key: 404 NoSuchKey for a caller with
 *   bucket READ (s3:ListBucket), else 403 AccessDenied.
 * Mutating operations are also checked for their effect (or its absence), seen
 * by the owner, and undone afterwards so that every cell starts from the same state.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand, DeleteBucketCommand, DeleteBucketTaggingCommand, DeleteObjectCommand, GetBucketAclCommand, GetBucketLocationCommand,
  GetBucketTaggingCommand, GetObjectAclCommand, GetObjectAttributesCommand, GetObjectCommand, GetObjectTaggingCommand, HeadBucketCommand, HeadObjectCommand, ListBucketsCommand,
  ListObjectsCommand, ListObjectsV2Command, PutBucketAclCommand, PutBucketTaggingCommand, PutObjectAclCommand, PutObjectCommand, PutObjectTaggingCommand, S3Client,
} from '@aws-sdk/client-s3';
import type { MetadataBearer } from '@smithy/types';
import { s3Client, startServer, type RunningServer } from './harness.js';
import {
  ALL_USERS, AUTHENTICATED_USERS, anonymousClient, assertUnsigned, createAccount, expectAllowed, expectError, grantStrings,
  settle, type Account, type AnonymousClient,
} from './acl-helpers.js';

const OTHER: Account = {
  id: '0123456789abcdef'.repeat(4), name: 'Other', email: 'other@example.com',
  key: { accessKeyId: 'ACLMATRIXOTHERKEY001', secretAccessKey: 'acl-matrix-other-secret-000000000000000' },
};
const OBJECT_KEY = 'the-object';
const OBJECT_BODY = 'matrix body';
const MISSING_KEY = 'no-such-key';

const CANNED = ['private', 'public-read', 'public-read-write', 'authenticated-read'] as const;
type Canned = (typeof CANNED)[number];
type PrincipalName = 'owner' | 'other' | 'anonymous';
const PRINCIPALS: readonly PrincipalName[] = ['owner', 'other', 'anonymous'];
type Permission = 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP';

interface Way {
  readonly via: 'CreateBucket' | 'PutBucketAcl' | 'PutObject' | 'PutObjectAcl';
  readonly target: 'bucket' | 'object';
  readonly label: string;
}
const WAYS: readonly Way[] = [
  { via: 'CreateBucket', target: 'bucket', label: 'CreateBucket x-amz-acl' },
  { via: 'PutBucketAcl', target: 'bucket', label: 'PutBucketAcl' },
  { via: 'PutObject', target: 'object', label: 'PutObject x-amz-acl' },
  { via: 'PutObjectAcl', target: 'object', label: 'PutObjectAcl' },
];

interface Scenario {
  readonly canned: Canned;
  readonly way: Way;
  readonly bucket: string;
  /** The ACL each resource carries in this scenario (the other one is private). */
  readonly bucketAcl: Canned;
  readonly objectAcl: Canned;
}

let server: RunningServer;
let dataDir: string;
let ownerId: string;
let clients: Record<PrincipalName, S3Client>;
let anonymous: AnonymousClient;

/** Whether a canned ACL on a resource owned by the owner gives the principal the permission. */
function grants(canned: Canned, principal: PrincipalName, permission: Permission): boolean {
  if (principal === 'owner') return true;
  switch (canned) {
    case 'private': return false;
    case 'public-read': return permission === 'READ';
    case 'public-read-write': return permission === 'READ' || permission === 'WRITE';
    case 'authenticated-read': return permission === 'READ' && principal === 'other';
  }
}

/** The grants GetBucketAcl / GetObjectAcl must show for a canned ACL applied by the owner. */
function cannedGrants(canned: Canned): string[] {
  const owner = `user:${ownerId}:root:FULL_CONTROL`;
  switch (canned) {
    case 'private': return [owner];
    case 'public-read': return [owner, `group:${ALL_USERS}:READ`].sort();
    case 'public-read-write': return [owner, `group:${ALL_USERS}:READ`, `group:${ALL_USERS}:WRITE`].sort();
    case 'authenticated-read': return [owner, `group:${AUTHENTICATED_USERS}:READ`].sort();
  }
}

type Outcome = 'allow' | 'deny' | 'NoSuchKey';
type Need = { readonly on: 'bucket' | 'object'; readonly permission: Permission } | 'bucket-owner';

interface Cell {
  readonly scenario: Scenario;
  readonly principal: PrincipalName;
  readonly client: S3Client;
}

interface Operation {
  readonly name: string;
  readonly need: Need;
  /** A missing key: NoSuchKey with bucket READ, else AccessDenied. */
  readonly missingKey: boolean;
  run(cell: Cell, outcome: Outcome): Promise<void>;
}

interface OperationSpec<O extends MetadataBearer> {
  readonly name: string;
  readonly need: Need;
  readonly missingKey?: boolean;
  /** HEAD: the answer has no body, so only the status tells. */
  readonly head?: boolean;
  prepare?(cell: Cell): Promise<void>;
  attempt(cell: Cell): Promise<O>;
  /** Checks the answer of an allowed request. */
  check?(cell: Cell, output: O): Promise<void> | void;
  /** Checks, as the owner, that the request had its effect exactly when allowed. */
  verify?(cell: Cell, allowed: boolean): Promise<void>;
  /** Restores the scenario's state (always runs). */
  cleanup?(cell: Cell): Promise<void>;
}

function operation<O extends MetadataBearer>(spec: OperationSpec<O>): Operation {
  return {
    name: spec.name,
    need: spec.need,
    missingKey: spec.missingKey ?? false,
    async run(cell, outcome) {
      await spec.prepare?.(cell);
      try {
        if (outcome === 'allow') {
          const output = await expectAllowed(spec.attempt(cell));
          await spec.check?.(cell, output);
        } else if (outcome === 'NoSuchKey') {
          await expectError(spec.attempt(cell), 404, spec.head ? undefined : 'NoSuchKey');
        } else {
          await expectError(spec.attempt(cell), 403, spec.head ? undefined : 'AccessDenied');
        }
        await spec.verify?.(cell, outcome === 'allow');
      } finally {
        await spec.cleanup?.(cell);
      }
    },
  };
}

async function objectExists(bucket: string, key: string): Promise<boolean> {
  const r = await settle(clients.owner.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
  if (!r.ok) assert.equal(r.error.$metadata.httpStatusCode, 404, `owner HEAD ${bucket}/${key}`);
  return r.ok;
}

async function bucketExists(bucket: string): Promise<boolean> {
  const r = await settle(clients.owner.send(new HeadBucketCommand({ Bucket: bucket })));
  if (!r.ok) assert.equal(r.error.$metadata.httpStatusCode, 404, `owner HEAD ${bucket}`);
  return r.ok;
}

/** Creates an owner's bucket carrying `acl` the way the scenario applies bucket ACLs. */
async function createBucketAs(scenario: Scenario, bucket: string): Promise<void> {
  if (scenario.way.via === 'CreateBucket') {
    await clients.owner.send(new CreateBucketCommand({ Bucket: bucket, ACL: scenario.bucketAcl }));
  } else {
    await clients.owner.send(new CreateBucketCommand({ Bucket: bucket }));
    if (scenario.way.via === 'PutBucketAcl') await clients.owner.send(new PutBucketAclCommand({ Bucket: bucket, ACL: scenario.bucketAcl }));
  }
}

/** An ACL different from `current`, so that a PUT ?acl that wrongly succeeds shows. */
function differentAcl(current: Canned): Canned {
  return current === 'public-read-write' ? 'private' : 'public-read-write';
}

const listedKeys = (contents: readonly { Key?: string }[] | undefined): string[] => (contents ?? []).map((c) => c.Key ?? '');

const OPERATIONS: readonly Operation[] = [
  operation({
    name: 'ListObjects',
    need: { on: 'bucket', permission: 'READ' },
    attempt: ({ client, scenario }) => client.send(new ListObjectsCommand({ Bucket: scenario.bucket })),
    check: (_, out) => assert.deepEqual(listedKeys(out.Contents), [OBJECT_KEY]),
  }),
  operation({
    name: 'ListObjectsV2',
    need: { on: 'bucket', permission: 'READ' },
    attempt: ({ client, scenario }) => client.send(new ListObjectsV2Command({ Bucket: scenario.bucket })),
    check: (_, out) => assert.deepEqual(listedKeys(out.Contents), [OBJECT_KEY]),
  }),
  operation({
    name: 'HeadBucket',
    need: { on: 'bucket', permission: 'READ' },
    head: true,
    attempt: ({ client, scenario }) => client.send(new HeadBucketCommand({ Bucket: scenario.bucket })),
  }),
  operation({
    name: 'PutObject',
    need: { on: 'bucket', permission: 'WRITE' },
    attempt: ({ client, scenario, principal }) => client.send(new PutObjectCommand({ Bucket: scenario.bucket, Key: `put-by-${principal}`, Body: 'written' })),
    verify: async ({ scenario, principal }, allowed) => assert.equal(await objectExists(scenario.bucket, `put-by-${principal}`), allowed, 'object written'),
    cleanup: async ({ scenario, principal }) => { await clients.owner.send(new DeleteObjectCommand({ Bucket: scenario.bucket, Key: `put-by-${principal}` })); },
  }),
  operation({
    name: 'DeleteObject',
    need: { on: 'bucket', permission: 'WRITE' },
    prepare: async ({ scenario, principal }) => { await clients.owner.send(new PutObjectCommand({ Bucket: scenario.bucket, Key: `delete-by-${principal}`, Body: 'doomed' })); },
    attempt: ({ client, scenario, principal }) => client.send(new DeleteObjectCommand({ Bucket: scenario.bucket, Key: `delete-by-${principal}` })),
    verify: async ({ scenario, principal }, allowed) => assert.equal(await objectExists(scenario.bucket, `delete-by-${principal}`), !allowed, 'object still there'),
    cleanup: async ({ scenario, principal }) => { await clients.owner.send(new DeleteObjectCommand({ Bucket: scenario.bucket, Key: `delete-by-${principal}` })); },
  }),
  operation({
    name: 'GetBucketAcl',
    need: { on: 'bucket', permission: 'READ_ACP' },
    attempt: ({ client, scenario }) => client.send(new GetBucketAclCommand({ Bucket: scenario.bucket })),
    check: ({ scenario }, out) => {
      assert.equal(out.Owner?.ID, ownerId);
      assert.deepEqual(grantStrings(out.Grants), cannedGrants(scenario.bucketAcl));
    },
  }),
  operation({
    name: 'PutBucketAcl',
    need: { on: 'bucket', permission: 'WRITE_ACP' },
    attempt: ({ client, scenario }) => client.send(new PutBucketAclCommand({ Bucket: scenario.bucket, ACL: differentAcl(scenario.bucketAcl) })),
    verify: async ({ scenario }, allowed) => {
      const acl = await clients.owner.send(new GetBucketAclCommand({ Bucket: scenario.bucket }));
      assert.deepEqual(grantStrings(acl.Grants), cannedGrants(allowed ? differentAcl(scenario.bucketAcl) : scenario.bucketAcl));
    },
    cleanup: async ({ scenario }) => { await clients.owner.send(new PutBucketAclCommand({ Bucket: scenario.bucket, ACL: scenario.bucketAcl })); },
  }),
  operation({
    name: 'GetObject',
    need: { on: 'object', permission: 'READ' },
    attempt: ({ client, scenario }) => client.send(new GetObjectCommand({ Bucket: scenario.bucket, Key: OBJECT_KEY })),
    check: async (_, out) => assert.equal(await out.Body?.transformToString(), OBJECT_BODY),
  }),
  operation({
    name: 'HeadObject',
    need: { on: 'object', permission: 'READ' },
    head: true,
    attempt: ({ client, scenario }) => client.send(new HeadObjectCommand({ Bucket: scenario.bucket, Key: OBJECT_KEY })),
    check: (_, out) => assert.equal(out.ContentLength, Buffer.byteLength(OBJECT_BODY)),
  }),
  operation({
    name: 'GetObjectAttributes',
    need: { on: 'object', permission: 'READ' },
    attempt: ({ client, scenario }) => client.send(new GetObjectAttributesCommand({ Bucket: scenario.bucket, Key: OBJECT_KEY, ObjectAttributes: ['ObjectSize'] })),
    check: (_, out) => assert.equal(out.ObjectSize, Buffer.byteLength(OBJECT_BODY)),
  }),
  operation({
    name: 'GetObjectAcl',
    need: { on: 'object', permission: 'READ_ACP' },
    attempt: ({ client, scenario }) => client.send(new GetObjectAclCommand({ Bucket: scenario.bucket, Key: OBJECT_KEY })),
    check: ({ scenario }, out) => {
      assert.equal(out.Owner?.ID, ownerId);
      assert.deepEqual(grantStrings(out.Grants), cannedGrants(scenario.objectAcl));
    },
  }),
  operation({
    name: 'PutObjectAcl',
    need: { on: 'object', permission: 'WRITE_ACP' },
    attempt: ({ client, scenario }) => client.send(new PutObjectAclCommand({ Bucket: scenario.bucket, Key: OBJECT_KEY, ACL: differentAcl(scenario.objectAcl) })),
    verify: async ({ scenario }, allowed) => {
      const acl = await clients.owner.send(new GetObjectAclCommand({ Bucket: scenario.bucket, Key: OBJECT_KEY }));
      assert.deepEqual(grantStrings(acl.Grants), cannedGrants(allowed ? differentAcl(scenario.objectAcl) : scenario.objectAcl));
    },
    cleanup: async ({ scenario }) => {
      await clients.owner.send(new PutObjectAclCommand({ Bucket: scenario.bucket, Key: OBJECT_KEY, ACL: scenario.objectAcl }));
    },
  }),
  operation({
    name: 'DeleteBucket',
    need: 'bucket-owner',
    // An empty bucket of its own with the scenario's bucket ACL: the scenario's bucket is not empty.
    prepare: ({ scenario, principal }) => createBucketAs(scenario, `${scenario.bucket}-${principal}`),
    attempt: ({ client, scenario, principal }) => client.send(new DeleteBucketCommand({ Bucket: `${scenario.bucket}-${principal}` })),
    verify: async ({ scenario, principal }, allowed) => assert.equal(await bucketExists(`${scenario.bucket}-${principal}`), !allowed, 'bucket still there'),
    cleanup: async ({ scenario, principal }) => {
      const r = await settle(clients.owner.send(new DeleteBucketCommand({ Bucket: `${scenario.bucket}-${principal}` })));
      if (!r.ok) assert.equal(r.error.name, 'NoSuchBucket');
    },
  }),
  operation({
    name: 'GetBucketLocation',
    need: 'bucket-owner',
    attempt: ({ client, scenario }) => client.send(new GetBucketLocationCommand({ Bucket: scenario.bucket })),
  }),
  operation({
    name: 'GetObjectTagging',
    need: 'bucket-owner',
    attempt: ({ client, scenario }) => client.send(new GetObjectTaggingCommand({ Bucket: scenario.bucket, Key: OBJECT_KEY })),
    check: (_, out) => assert.deepEqual(out.TagSet, []),
  }),
  operation({
    name: 'PutObjectTagging',
    need: 'bucket-owner',
    attempt: ({ client, scenario, principal }) => client.send(new PutObjectTaggingCommand({
      Bucket: scenario.bucket, Key: OBJECT_KEY, Tagging: { TagSet: [{ Key: 'by', Value: principal }] },
    })),
    verify: async ({ scenario }, allowed) => {
      const tags = await clients.owner.send(new GetObjectTaggingCommand({ Bucket: scenario.bucket, Key: OBJECT_KEY }));
      assert.equal(tags.TagSet?.length, allowed ? 1 : 0, 'tags written');
    },
    cleanup: async ({ scenario }) => {
      await clients.owner.send(new PutObjectTaggingCommand({ Bucket: scenario.bucket, Key: OBJECT_KEY, Tagging: { TagSet: [] } }));
    },
  }),
  operation({
    name: 'GetBucketTagging',
    need: 'bucket-owner',
    prepare: async ({ scenario }) => {
      await clients.owner.send(new PutBucketTaggingCommand({ Bucket: scenario.bucket, Tagging: { TagSet: [{ Key: 'by', Value: 'owner' }] } }));
    },
    attempt: ({ client, scenario }) => client.send(new GetBucketTaggingCommand({ Bucket: scenario.bucket })),
    check: (_, out) => assert.deepEqual(out.TagSet, [{ Key: 'by', Value: 'owner' }]),
    cleanup: async ({ scenario }) => {
      await clients.owner.send(new DeleteBucketTaggingCommand({ Bucket: scenario.bucket }));
    },
  }),
  operation({
    name: 'PutBucketTagging',
    need: 'bucket-owner',
    attempt: ({ client, scenario, principal }) => client.send(new PutBucketTaggingCommand({
      Bucket: scenario.bucket, Tagging: { TagSet: [{ Key: 'by', Value: principal }] },
    })),
    verify: async ({ scenario }, allowed) => {
      const tags = await settle(clients.owner.send(new GetBucketTaggingCommand({ Bucket: scenario.bucket })));
      if (!tags.ok) assert.equal(tags.error.name, 'NoSuchTagSet');
      assert.equal(tags.ok, allowed, 'bucket tags written');
    },
    cleanup: async ({ scenario }) => {
      await clients.owner.send(new DeleteBucketTaggingCommand({ Bucket: scenario.bucket }));
    },
  }),
  operation({
    name: 'GetObject of a missing key',
    need: { on: 'bucket', permission: 'READ' },
    missingKey: true,
    attempt: ({ client, scenario }) => client.send(new GetObjectCommand({ Bucket: scenario.bucket, Key: MISSING_KEY })),
  }),
  operation({
    name: 'HeadObject of a missing key',
    need: { on: 'bucket', permission: 'READ' },
    missingKey: true,
    head: true,
    attempt: ({ client, scenario }) => client.send(new HeadObjectCommand({ Bucket: scenario.bucket, Key: MISSING_KEY })),
  }),
];

function expectedOutcome(op: Operation, scenario: Scenario, principal: PrincipalName): Outcome {
  if (op.need === 'bucket-owner') return principal === 'owner' ? 'allow' : 'deny';
  const acl = op.need.on === 'bucket' ? scenario.bucketAcl : scenario.objectAcl;
  const allowed = grants(acl, principal, op.need.permission);
  if (op.missingKey) return allowed ? 'NoSuchKey' : 'deny';
  return allowed ? 'allow' : 'deny';
}

const SCENARIOS: readonly Scenario[] = CANNED.flatMap((canned) => WAYS.map((way): Scenario => ({
  canned,
  way,
  bucket: `matrix-${canned}-${way.via.toLowerCase()}`,
  bucketAcl: way.target === 'bucket' ? canned : 'private',
  objectAcl: way.target === 'object' ? canned : 'private',
})));

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cairn-acl-matrix-'));
  server = await startServer({ dataDir });
  await createAccount(dataDir, OTHER);
  anonymous = anonymousClient(server);
  clients = { owner: s3Client(server), other: s3Client(server, { ...OTHER.key }), anonymous: anonymous.client };
  const me = await clients.owner.send(new ListBucketsCommand({}));
  assert.ok(me.Owner?.ID, 'ListBuckets names its owner');
  ownerId = me.Owner.ID;
});

after(async () => {
  for (const c of Object.values(clients ?? {})) c.destroy();
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

for (const scenario of SCENARIOS) {
  const subject = `${scenario.canned} ${scenario.way.target} (${scenario.way.label})`;
  describe(subject, () => {
    before(async () => {
      await createBucketAs(scenario, scenario.bucket);
      await clients.owner.send(new PutObjectCommand({
        Bucket: scenario.bucket, Key: OBJECT_KEY, Body: OBJECT_BODY, ...(scenario.way.via === 'PutObject' ? { ACL: scenario.objectAcl } : {}),
      }));
      if (scenario.way.via === 'PutObjectAcl') {
        await clients.owner.send(new PutObjectAclCommand({ Bucket: scenario.bucket, Key: OBJECT_KEY, ACL: scenario.objectAcl }));
      }
    });

    for (const principal of PRINCIPALS) {
      for (const op of OPERATIONS) {
        const outcome = expectedOutcome(op, scenario, principal);
        const shown = outcome === 'NoSuchKey' ? '404 NoSuchKey' : outcome;
        test(`${subject} × ${principal} × ${op.name} → ${shown}`, () => op.run({ scenario, principal, client: clients[principal] }, outcome));
      }
    }
  });
}

describe('ListBuckets', () => {
  const otherBucket = 'matrix-owned-by-other';

  before(async () => {
    await clients.other.send(new CreateBucketCommand({ Bucket: otherBucket, ACL: 'public-read' }));
  });

  test('ListBuckets × owner → allow, only its own buckets (not the other account\'s public one)', async () => {
    const out = await expectAllowed(clients.owner.send(new ListBucketsCommand({})));
    assert.equal(out.Owner?.ID, ownerId);
    assert.deepEqual((out.Buckets ?? []).map((b) => b.Name).sort(), SCENARIOS.map((s) => s.bucket).sort());
  });

  test('ListBuckets × other → allow, only its own bucket (none of the owner\'s public ones)', async () => {
    const out = await expectAllowed(clients.other.send(new ListBucketsCommand({})));
    assert.equal(out.Owner?.ID, OTHER.id);
    assert.equal(out.Owner?.DisplayName, OTHER.name);
    assert.deepEqual((out.Buckets ?? []).map((b) => b.Name), [otherBucket]);
  });

  test('ListBuckets × anonymous → deny', async () => {
    await expectError(clients.anonymous.send(new ListBucketsCommand({})), 403, 'AccessDenied');
  });
});

test('the anonymous client sent every request without any signature', () => {
  assertUnsigned(anonymous.sent);
  // One request per anonymous cell at least, plus ListBuckets.
  assert.ok(anonymous.sent.length >= SCENARIOS.length * OPERATIONS.length + 1, `only ${anonymous.sent.length} anonymous requests`);
});
