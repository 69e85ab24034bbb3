/**
 * The Metadata contract, back-end neutral: every engine (SQLite now, PostgreSQL
 * later) runs these cases through the Metadata interface alone, so what S3 users
 * rely on (conditional writes, versions, listing order, multipart completion, the
 * blob queue, leases) means the same whatever holds the rows.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { S3Error } from '../../src/errors.js';
import { compareUtf8 } from '../../src/store/listing.js';
import type {
  Bucket, BucketConfigKind, Metadata, ObjectRecord, ObjectSummary, Part, Retention, Upload, VersionId,
} from '../../src/store/types.js';

export type MetadataFactory = () => Promise<{ metadata: Metadata; close(): Promise<void> }>;

const OWNER = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);
const ACL = { owner: OWNER, grants: [] };
const EMPTY_MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
/** Keys whose UTF-8 byte order differs from JS's UTF-16 order: BMP characters above the surrogates sort before astral ones in UTF-8 only. */
const AWKWARD_KEYS = [
  'a', 'a.', 'a/', 'a/b', 'a/c/d', 'a0', 'b', '~', '\u{7f}', '\u{e9}', '\u{e000}', '\u{ff61}', '\u{fffd}', '\u{ffff}',
  '\u{1f600}', '\u{1f600}/x', '\u{10ffff}', 'z\u{1f600}', 'z\u{ffff}',
];

interface ObjectOptions {
  readonly etag?: string;
  readonly blob?: string;
  readonly body?: string;
  readonly retention?: Retention;
  readonly legalHold?: boolean;
}

function record(bucket: string, key: string, o: ObjectOptions = {}): ObjectRecord {
  const bytes = Buffer.from(o.body ?? '');
  return {
    bucket, key, versionId: 'ignored', size: o.blob ? 10 : bytes.length, etag: o.etag ?? EMPTY_MD5, lastModified: new Date(),
    owner: OWNER, storageClass: 'STANDARD', headers: { contentType: 'binary/octet-stream' }, userMetadata: {},
    acl: ACL, tags: [],
    data: o.blob ? { kind: 'blobs', extents: [{ blob: o.blob, size: 10 }] } : { kind: 'inline', bytes },
    ...(o.retention ? { retention: o.retention } : {}),
    ...(o.legalHold ? { legalHold: true } : {}),
  };
}

function bucketOf(name: string, owner = OWNER): Bucket {
  return { name, owner, createdAt: new Date(), location: '', acl: { owner, grants: [] }, configs: {} };
}

/** Rejects with an S3Error of this code. */
async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof S3Error, `expected S3Error ${code}, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

const blobId = (): string => `contract-${randomUUID()}`;
const later = (ms: number): Date => new Date(Date.now() + ms);

async function setVersioning(m: Metadata, bucket: string, status: 'Enabled' | 'Suspended'): Promise<void> {
  await m.putBucketConfig(bucket, 'versioning', () => status);
}

async function allGarbage(m: Metadata): Promise<string[]> {
  return m.takeGarbage(10_000, Date.now() + 1);
}

async function everyVersion(m: Metadata, bucket: string): Promise<ObjectSummary[]> {
  const page = await m.listObjectVersions(bucket, { prefix: '', delimiter: '', keyMarker: '', versionIdMarker: '', maxKeys: 10_000 });
  assert.equal(page.isTruncated, false);
  return [...page.versions];
}

/** Registers the contract's cases; each gets a fresh, empty store from `factory`, with the owner's account in it. */
export function metadataContract(engine: string, factory: MetadataFactory): void {
  const it = (title: string, body: (m: Metadata) => Promise<void>): void => {
    test(title, async () => {
      const store = await factory();
      try {
        await store.metadata.createAccount({ id: OWNER, displayName: 'owner', email: 'owner@example.com', createdAt: new Date() });
        await body(store.metadata);
      } finally {
        await store.close();
      }
    });
  };
  /** A fresh store with one bucket, `b`, of the owner's. */
  const withBucket = (title: string, body: (m: Metadata) => Promise<void>): void => {
    it(title, async (m) => {
      assert.equal(await m.createBucket(bucketOf('b')), 'created');
      await body(m);
    });
  };

  describe(`Metadata contract (${engine})`, () => {
    describe('accounts and access keys', () => {
      it('accounts are found by id and e-mail; one owning buckets is not deleted', async (m) => {
        await m.createAccount({ id: OTHER, displayName: 'other', email: 'other@example.com', createdAt: new Date(1000) });
        assert.equal((await m.getAccount(OTHER))?.displayName, 'other');
        assert.equal((await m.getAccountByEmail('other@example.com'))?.id, OTHER);
        assert.equal((await m.getAccount('c'.repeat(64))), undefined);
        assert.deepEqual((await m.listAccounts()).map((a) => a.id).sort(), [OWNER, OTHER]);
        await m.createBucket(bucketOf('others', OTHER));
        await assert.rejects(m.deleteAccount(OTHER));
        assert.ok(await m.getAccount(OTHER));
        await m.deleteBucket('others');
        await m.deleteAccount(OTHER);
        assert.equal(await m.getAccount(OTHER), undefined);
      });

      it('access keys are added, listed per account and revoked once', async (m) => {
        await m.addAccessKey({ accessKeyId: 'AKIA1', secretKey: 's1', accountId: OWNER, createdAt: new Date(1000) });
        await m.addAccessKey({ accessKeyId: 'AKIA2', secretKey: 's2', accountId: OWNER, createdAt: new Date(2000) });
        await assert.rejects(m.addAccessKey({ accessKeyId: 'AKIA1', secretKey: 'again', accountId: OWNER, createdAt: new Date() }));
        m.refreshCaches();
        assert.deepEqual(await m.getAccessKey('AKIA1'), { accessKeyId: 'AKIA1', secretKey: 's1', accountId: OWNER, createdAt: new Date(1000) });
        assert.deepEqual((await m.listAccessKeys(OWNER)).map((k) => k.accessKeyId), ['AKIA1', 'AKIA2']);
        assert.equal(await m.revokeAccessKey('AKIA1'), true);
        assert.equal(await m.revokeAccessKey('AKIA1'), false);
        m.refreshCaches();
        assert.equal(await m.getAccessKey('AKIA1'), undefined);
        assert.deepEqual((await m.listAccessKeys(OWNER)).map((k) => k.accessKeyId), ['AKIA2']);
      });
    });

    describe('buckets and their configuration slot', () => {
      it('creating answers who owns the name; buckets list per owner in name order', async (m) => {
        await m.createAccount({ id: OTHER, displayName: 'other', email: 'other@example.com', createdAt: new Date() });
        assert.equal(await m.createBucket(bucketOf('zeta')), 'created');
        assert.equal(await m.createBucket(bucketOf('alpha')), 'created');
        assert.equal(await m.createBucket(bucketOf('alpha')), 'owned-by-you');
        assert.equal(await m.createBucket(bucketOf('alpha', OTHER)), 'owned-by-other');
        assert.deepEqual((await m.listBuckets(OWNER)).map((b) => b.name), ['alpha', 'zeta']);
        assert.deepEqual(await m.listBuckets(OTHER), []);
        const alpha = await m.getBucket('alpha');
        assert.equal(alpha?.owner, OWNER);
        assert.deepEqual(alpha?.configs, {});
      });

      withBucket('putBucketConfig sets, shows the current document to the update, and removes', async (m) => {
        const seen: (string | undefined)[] = [];
        const put = (kind: BucketConfigKind, next: string | undefined) => m.putBucketConfig('b', kind, (current) => { seen.push(current); return next; });
        await put('policy', '{"v":1}');
        await put('tagging', '<Tagging/>');
        await put('policy', '{"v":2}');
        m.refreshCaches();
        assert.deepEqual((await m.getBucket('b'))?.configs, { policy: '{"v":2}', tagging: '<Tagging/>' });
        await put('policy', undefined);
        assert.deepEqual(seen, [undefined, undefined, '{"v":1}', '{"v":2}']);
        m.refreshCaches();
        assert.deepEqual((await m.getBucket('b'))?.configs, { tagging: '<Tagging/>' });
        // An update that refuses changes nothing.
        await rejectsWith(m.putBucketConfig('b', 'tagging', () => { throw new S3Error('InvalidBucketState'); }), 'InvalidBucketState');
        m.refreshCaches();
        assert.deepEqual((await m.getBucket('b'))?.configs, { tagging: '<Tagging/>' });
        await rejectsWith(m.putBucketConfig('missing', 'policy', () => '{}'), 'NoSuchBucket');
      });

      withBucket('ACLs are replaced; a bucket with objects is not deleted', async (m) => {
        const acl = { owner: OWNER, grants: [{ grantee: { kind: 'group' as const, uri: 'http://acs.amazonaws.com/groups/global/AllUsers' }, permission: 'READ' as const }] };
        await m.putBucketAcl('b', acl);
        m.refreshCaches();
        assert.deepEqual((await m.getBucket('b'))?.acl, acl);
        await rejectsWith(m.putBucketAcl('missing', acl), 'NoSuchBucket');
        await m.putObject(record('b', 'k'));
        await rejectsWith(m.deleteBucket('b'), 'BucketNotEmpty');
        await m.deleteObject('b', 'k');
        await m.deleteBucket('b');
        m.refreshCaches();
        assert.equal(await m.getBucket('b'), undefined);
        await rejectsWith(m.deleteBucket('b'), 'NoSuchBucket');
        await rejectsWith(m.putObject(record('b', 'k')), 'NoSuchBucket');
      });
    });

    describe('conditional writes', () => {
      withBucket('If-None-Match: * writes only where no object is; If-Match compares the current ETag', async (m) => {
        await m.putObject(record('b', 'k', { etag: 'e1' }), { ifNoneMatch: '*' });
        await rejectsWith(m.putObject(record('b', 'k', { etag: 'e2' }), { ifNoneMatch: '*' }), 'PreconditionFailed');
        await rejectsWith(m.putObject(record('b', 'k', { etag: 'e2' }), { ifMatch: 'other' }), 'PreconditionFailed');
        await rejectsWith(m.putObject(record('b', 'absent', { etag: 'e2' }), { ifMatch: '*' }), 'NoSuchKey');
        assert.equal((await m.getObject('b', 'k'))?.etag, 'e1');
        await m.putObject(record('b', 'k', { etag: 'e2' }), { ifMatch: 'e1' });
        await m.putObject(record('b', 'k', { etag: 'e3' }), { ifMatch: '*' });
        assert.equal((await m.getObject('b', 'k'))?.etag, 'e3');
        // A key whose current version is a delete marker has no object: If-None-Match: * writes.
        await setVersioning(m, 'b', 'Enabled');
        await m.deleteObject('b', 'k');
        await rejectsWith(m.putObject(record('b', 'k', { etag: 'e4' }), { ifMatch: '*' }), 'NoSuchKey');
        await m.putObject(record('b', 'k', { etag: 'e4' }), { ifNoneMatch: '*' });
        assert.equal((await m.getObject('b', 'k'))?.etag, 'e4');
      });

      withBucket('of concurrent If-None-Match: * writers exactly one wins', async (m) => {
        const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, i) =>
          m.putObject(record('b', 'race', { etag: `writer-${i}` }), { ifNoneMatch: '*' })));
        const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
        assert.equal(winners.length, 1, 'one writer wins');
        for (const o of outcomes) if (o.status === 'rejected') assert.equal((o.reason as S3Error).code, 'PreconditionFailed');
        assert.equal((await m.getObject('b', 'race'))?.etag, `writer-${winners[0]}`);
      });

      withBucket('of concurrent If-Match writers holding the same ETag exactly one wins', async (m) => {
        await m.putObject(record('b', 'race', { etag: 'start' }));
        const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, i) =>
          m.putObject(record('b', 'race', { etag: `writer-${i}` }), { ifMatch: 'start' })));
        const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
        assert.equal(winners.length, 1, 'one writer wins');
        assert.equal((await m.getObject('b', 'race'))?.etag, `writer-${winners[0]}`);
      });
    });

    describe('versions', () => {
      withBucket('unversioned: every write is the null version and replaces the one before, queueing its blobs', async (m) => {
        const first = blobId();
        assert.equal(await m.putObject(record('b', 'k', { blob: first })), 'null');
        assert.equal(await m.putObject(record('b', 'k', { body: 'two' })), 'null');
        const versions = await everyVersion(m, 'b');
        assert.deepEqual(versions.map((v) => [v.key, v.versionId, v.isLatest]), [['k', 'null', true]]);
        assert.ok((await allGarbage(m)).includes(first));
        const got = await m.getObject('b', 'k');
        assert.equal(got?.data.kind === 'inline' && got.data.bytes.toString(), 'two');
        assert.equal(await m.deleteObject('b', 'k'), true);
        assert.equal(await m.deleteObject('b', 'k'), false);
        assert.equal(await m.getObject('b', 'k'), undefined);
        assert.deepEqual(await everyVersion(m, 'b'), []);
      });

      withBucket('Enabled: each write gets a fresh id; a delete puts a marker on top; a version is read and removed by id', async (m) => {
        await setVersioning(m, 'b', 'Enabled');
        const blob1 = blobId();
        const v1 = await m.putObject(record('b', 'k', { etag: 'e1', blob: blob1 }));
        const v2 = await m.putObject(record('b', 'k', { etag: 'e2' }));
        assert.notEqual(v1, 'null');
        assert.notEqual(v1, v2);
        assert.equal((await m.getObject('b', 'k'))?.versionId, v2);
        assert.equal((await m.getObject('b', 'k', v1))?.etag, 'e1');
        assert.equal((await m.headObject('b', 'k', v1))?.etag, 'e1');
        assert.equal(await m.getObject('b', 'k', 'no-such-version'), undefined);
        assert.ok(!(await allGarbage(m)).includes(blob1), 'an older version keeps its blobs');

        const [marker] = await m.deleteObjects('b', [{ key: 'k' }]);
        assert.equal(marker?.deleteMarker, true);
        const markerId = marker!.versionId!;
        assert.ok(markerId !== v1 && markerId !== v2 && markerId !== 'null');
        assert.equal((await m.getObject('b', 'k'))?.deleteMarker, true);
        assert.equal((await m.headObject('b', 'k'))?.deleteMarker, true);
        assert.deepEqual((await m.listObjects('b', { prefix: '', delimiter: '', after: '', maxKeys: 10 })).objects, []);
        assert.deepEqual((await everyVersion(m, 'b')).map((v) => [v.versionId, v.isLatest, v.deleteMarker]),
          [[markerId, true, true], [v2, false, false], [v1, false, false]]);
        await rejectsWith(m.putObjectTags('b', 'k', [{ key: 't', value: 'v' }]), 'NoSuchKey');
        await rejectsWith(m.putObjectTags('b', 'k', [{ key: 't', value: 'v' }], markerId), 'MethodNotAllowed');
        await rejectsWith(m.putObjectAcl('b', 'k', ACL, 'no-such-version'), 'NoSuchVersion');
        assert.equal(await m.putObjectTags('b', 'k', [{ key: 't', value: 'v' }], v1), v1);
        assert.deepEqual((await m.getObject('b', 'k', v1))?.tags, [{ key: 't', value: 'v' }]);

        // Removing the marker brings the newest version back as current.
        const [unmarked] = await m.deleteObjects('b', [{ key: 'k', versionId: markerId }]);
        assert.deepEqual([unmarked?.versionId, unmarked?.deleteMarker, unmarked?.error], [markerId, true, undefined]);
        assert.equal((await m.getObject('b', 'k'))?.versionId, v2);
        assert.deepEqual((await m.listObjects('b', { prefix: '', delimiter: '', after: '', maxKeys: 10 })).objects.map((o) => o.versionId), [v2]);

        // Removing a specific older version queues its blobs; a version that is not there is a no-op success.
        const [removed, absent] = await m.deleteObjects('b', [{ key: 'k', versionId: v1 }, { key: 'k', versionId: 'no-such-version' }]);
        assert.deepEqual([removed?.versionId, removed?.deleteMarker, removed?.error], [v1, false, undefined]);
        assert.deepEqual([absent?.versionId, absent?.error], ['no-such-version', undefined]);
        assert.equal(await m.getObject('b', 'k', v1), undefined);
        assert.ok((await allGarbage(m)).includes(blob1));
        assert.deepEqual((await everyVersion(m, 'b')).map((v) => [v.versionId, v.isLatest]), [[v2, true]]);

        // Removing the current version by id makes the next newest current.
        const v3 = await m.putObject(record('b', 'k', { etag: 'e3' }));
        await m.deleteObjects('b', [{ key: 'k', versionId: v3 }]);
        assert.equal((await m.getObject('b', 'k'))?.versionId, v2);
      });

      withBucket('Suspended: writes and deletes replace the null version and keep the others', async (m) => {
        const original = blobId();
        assert.equal(await m.putObject(record('b', 'k', { etag: 'e0', blob: original })), 'null');
        await setVersioning(m, 'b', 'Enabled');
        const v1 = await m.putObject(record('b', 'k', { etag: 'e1' }));
        assert.deepEqual((await everyVersion(m, 'b')).map((v) => [v.versionId, v.isLatest]), [[v1, true], ['null', false]]);
        assert.equal((await m.getObject('b', 'k', 'null'))?.etag, 'e0', 'the object from before versioning is its null version');

        await setVersioning(m, 'b', 'Suspended');
        const replacement = blobId();
        assert.equal(await m.putObject(record('b', 'k', { etag: 'e2', blob: replacement })), 'null');
        assert.ok((await allGarbage(m)).includes(original), 'the replaced null version released its blobs');
        assert.deepEqual((await everyVersion(m, 'b')).map((v) => [v.versionId, v.isLatest, v.deleteMarker]), [['null', true, false], [v1, false, false]]);
        assert.equal((await m.getObject('b', 'k'))?.etag, 'e2');

        // A delete puts a null marker in place of the null version.
        const [marker] = await m.deleteObjects('b', [{ key: 'k' }]);
        assert.deepEqual([marker?.versionId, marker?.deleteMarker], ['null', true]);
        assert.ok((await allGarbage(m)).includes(replacement));
        assert.deepEqual((await everyVersion(m, 'b')).map((v) => [v.versionId, v.isLatest, v.deleteMarker]), [['null', true, true], [v1, false, false]]);
        assert.equal((await m.getObject('b', 'k', v1))?.etag, 'e1');
        // A write over the null marker replaces it.
        assert.equal(await m.putObject(record('b', 'k', { etag: 'e3' })), 'null');
        assert.deepEqual((await everyVersion(m, 'b')).map((v) => [v.versionId, v.deleteMarker]), [['null', false], [v1, false]]);
      });
    });

    describe('Object Lock inside deleteObjects', () => {
      withBucket('a locked version is refused alone; GOVERNANCE yields to bypass, COMPLIANCE and legal holds do not', async (m) => {
        await setVersioning(m, 'b', 'Enabled');
        const governed = await m.putObject(record('b', 'governed', { retention: { mode: 'GOVERNANCE', retainUntil: later(3600_000) } }));
        const complied = await m.putObject(record('b', 'complied', { retention: { mode: 'COMPLIANCE', retainUntil: later(3600_000) } }));
        const held = await m.putObject(record('b', 'held', { legalHold: true }));
        const expired = await m.putObject(record('b', 'expired', { retention: { mode: 'COMPLIANCE', retainUntil: new Date(Date.now() - 1000) } }));
        const free = await m.putObject(record('b', 'free'));
        const targets = [
          { key: 'governed', versionId: governed }, { key: 'complied', versionId: complied }, { key: 'held', versionId: held },
          { key: 'expired', versionId: expired }, { key: 'free', versionId: free },
        ];
        const first = await m.deleteObjects('b', targets);
        assert.deepEqual(first.map((o) => [o.key, o.error?.code]),
          [['governed', 'AccessDenied'], ['complied', 'AccessDenied'], ['held', 'AccessDenied'], ['expired', undefined], ['free', undefined]]);
        assert.ok(await m.getObject('b', 'governed', governed), 'a refused target is untouched');
        assert.equal(await m.getObject('b', 'free', free), undefined);

        const bypassed = await m.deleteObjects('b', targets.slice(0, 3), { bypassGovernance: true });
        assert.deepEqual(bypassed.map((o) => [o.key, o.error?.code]), [['governed', undefined], ['complied', 'AccessDenied'], ['held', 'AccessDenied']]);
        assert.equal(await m.getObject('b', 'governed', governed), undefined);
        assert.ok(await m.getObject('b', 'complied', complied));

        // A delete without a version id only adds a marker: locks do not stop it.
        const [marker] = await m.deleteObjects('b', [{ key: 'complied' }]);
        assert.deepEqual([marker?.deleteMarker, marker?.error], [true, undefined]);
        assert.ok(await m.getObject('b', 'complied', complied));
        // Lifting the hold frees its version.
        await m.putObjectLock('b', 'held', held, { legalHold: false });
        assert.equal((await m.deleteObjects('b', [{ key: 'held', versionId: held }]))[0]?.error, undefined);
        await rejectsWith(m.putObjectLock('b', 'complied', complied, { retention: null }), 'AccessDenied');
      });
    });

    describe('listing order and paging', () => {
      withBucket('listObjects: UTF-8 byte order, prefixes, delimiters, and pages that join up', async (m) => {
        for (const key of AWKWARD_KEYS) await m.putObject(record('b', key));
        const utf8 = [...AWKWARD_KEYS].sort(compareUtf8);
        assert.notDeepEqual(utf8, [...AWKWARD_KEYS].sort(), 'the keys sort differently in UTF-16');
        const all = await m.listObjects('b', { prefix: '', delimiter: '', after: '', maxKeys: 1000 });
        assert.deepEqual(all.objects.map((o) => o.key), utf8);
        assert.equal(all.isTruncated, false);
        assert.ok(all.objects.every((o) => o.versionId === 'null' && o.etag === EMPTY_MD5 && o.size === 0));

        for (const maxKeys of [1, 2, 7]) {
          const seen: string[] = [];
          let after = '';
          for (let pages = 0; ; pages++) {
            assert.ok(pages <= AWKWARD_KEYS.length, 'paging ends');
            const page = await m.listObjects('b', { prefix: '', delimiter: '', after, maxKeys });
            assert.ok(page.objects.length <= maxKeys);
            seen.push(...page.objects.map((o) => o.key));
            if (!page.isTruncated) break;
            after = page.last!;
          }
          assert.deepEqual(seen, utf8, `pages of ${maxKeys}`);
        }

        const rolled = await m.listObjects('b', { prefix: '', delimiter: '/', after: '', maxKeys: 1000 });
        assert.deepEqual(rolled.commonPrefixes, ['a/', '\u{1f600}/']);
        assert.deepEqual(rolled.objects.map((o) => o.key), utf8.filter((k) => !k.includes('/')));
        const inA = await m.listObjects('b', { prefix: 'a/', delimiter: '/', after: '', maxKeys: 1000 });
        assert.deepEqual(inA.objects.map((o) => o.key), ['a/', 'a/b']);
        assert.deepEqual(inA.commonPrefixes, ['a/c/']);
        const astral = await m.listObjects('b', { prefix: '\u{1f600}', delimiter: '', after: '', maxKeys: 1000 });
        assert.deepEqual(astral.objects.map((o) => o.key), ['\u{1f600}', '\u{1f600}/x']);
        const afterBmp = await m.listObjects('b', { prefix: '', delimiter: '', after: '\u{ffff}', maxKeys: 1000 });
        assert.deepEqual(afterBmp.objects.map((o) => o.key), ['\u{1f600}', '\u{1f600}/x', '\u{10ffff}']);
        const empty = await m.listObjects('b', { prefix: '', delimiter: '', after: '', maxKeys: 0 });
        assert.deepEqual([empty.objects.length, empty.isTruncated], [0, false]);
      });

      withBucket('listObjectVersions: keys in UTF-8 order, versions newest first, pages by key and version marker', async (m) => {
        await setVersioning(m, 'b', 'Enabled');
        const keys = ['\u{1f600}', '\u{ff61}', 'x/1', 'x/2', 'y'];
        const expected: [string, VersionId, boolean][] = [];
        for (const key of [...keys].sort(compareUtf8)) {
          const ids: VersionId[] = [];
          for (let v = 0; v < 3; v++) ids.push(await m.putObject(record('b', key, { etag: `${key}-${v}` })));
          let markerId: VersionId | undefined;
          if (key === 'y') markerId = (await m.deleteObjects('b', [{ key }]))[0]!.versionId!;
          const newestFirst = [...(markerId ? [markerId] : []), ...ids.reverse()];
          newestFirst.forEach((id, i) => expected.push([key, id, i === 0]));
        }
        const listed = await everyVersion(m, 'b');
        assert.deepEqual(listed.map((v) => [v.key, v.versionId, v.isLatest]), expected);
        assert.equal(listed.filter((v) => v.deleteMarker).length, 1);

        for (const maxKeys of [1, 2, 4]) {
          const seen: [string, VersionId, boolean][] = [];
          let keyMarker = '';
          let versionIdMarker = '';
          for (let pages = 0; ; pages++) {
            assert.ok(pages <= expected.length, 'paging ends');
            const page = await m.listObjectVersions('b', { prefix: '', delimiter: '', keyMarker, versionIdMarker, maxKeys });
            assert.ok(page.versions.length <= maxKeys);
            seen.push(...page.versions.map((v): [string, VersionId, boolean] => [v.key, v.versionId, v.isLatest ?? false]));
            if (!page.isTruncated) break;
            keyMarker = page.nextKeyMarker!;
            versionIdMarker = page.nextVersionIdMarker ?? '';
          }
          assert.deepEqual(seen, expected, `pages of ${maxKeys}`);
        }

        // A key marker alone starts after all of that key's versions.
        const afterKey = await m.listObjectVersions('b', { prefix: '', delimiter: '', keyMarker: 'x/2', versionIdMarker: '', maxKeys: 100 });
        assert.deepEqual([...new Set(afterKey.versions.map((v) => v.key))], ['y', '\u{ff61}', '\u{1f600}']);
        const rolled = await m.listObjectVersions('b', { prefix: '', delimiter: '/', keyMarker: '', versionIdMarker: '', maxKeys: 100 });
        assert.deepEqual(rolled.commonPrefixes, ['x/']);
        assert.equal(rolled.versions.filter((v) => v.key.startsWith('x/')).length, 0);
        const rolledPage = await m.listObjectVersions('b', { prefix: '', delimiter: '/', keyMarker: '', versionIdMarker: '', maxKeys: 1 });
        assert.deepEqual([rolledPage.commonPrefixes, rolledPage.versions.length, rolledPage.isTruncated, rolledPage.nextKeyMarker], [['x/'], 0, true, 'x/']);
      });
    });

    describe('multipart uploads', () => {
      const upload = (uploadId: string, key: string): Upload => ({
        uploadId, bucket: 'b', key, initiated: new Date(), owner: OWNER, storageClass: 'STANDARD',
        headers: { contentType: 'binary/octet-stream' }, userMetadata: { a: '1' }, acl: ACL, tags: [],
      });
      const part = (uploadId: string, partNumber: number, blob: string): Part => ({
        uploadId, partNumber, blob, size: 5, etag: `etag-${blob}`, lastModified: new Date(),
      });
      const assembleFrom = (numbers: readonly number[]) => (u: Upload, parts: readonly Part[]): ObjectRecord => {
        const used = parts.filter((p) => numbers.includes(p.partNumber));
        return {
          ...record(u.bucket, u.key, { etag: `mpu-${used.length}` }), size: used.length * 5, userMetadata: u.userMetadata,
          data: { kind: 'blobs', extents: used.map((p) => ({ blob: p.blob, size: p.size })) },
        };
      };

      withBucket('completeUpload commits the object from the parts it uses and queues the rest, replaced parts too', async (m) => {
        await setVersioning(m, 'b', 'Enabled');
        await m.createUpload(upload('u1', 'big'));
        const [p1, p2, p2again, p3] = [blobId(), blobId(), blobId(), blobId()];
        await m.putPart(part('u1', 1, p1));
        await m.putPart(part('u1', 2, p2));
        await m.putPart(part('u1', 3, p3));
        await m.putPart(part('u1', 2, p2again));
        assert.ok((await allGarbage(m)).includes(p2), 'a replaced part is queued at once');
        assert.deepEqual((await m.listParts('u1', 0, 10)).map((p) => [p.partNumber, p.blob]), [[1, p1], [2, p2again], [3, p3]]);
        assert.deepEqual((await m.listParts('u1', 1, 1)).map((p) => p.partNumber), [2]);

        // An assembly that refuses commits nothing and keeps the upload.
        await rejectsWith(m.completeUpload('u1', () => { throw new S3Error('InvalidPart'); }), 'InvalidPart');
        assert.ok(await m.getUpload('u1'));
        assert.equal(await m.getObject('b', 'big'), undefined);

        let seenParts: number[] = [];
        const stored = await m.completeUpload('u1', (u, parts) => {
          seenParts = parts.map((p) => p.partNumber);
          return assembleFrom([1, 3])(u, parts);
        });
        assert.deepEqual(seenParts, [1, 2, 3]);
        assert.notEqual(stored.versionId, 'null');
        const got = await m.getObject('b', 'big');
        assert.equal(got?.versionId, stored.versionId);
        assert.deepEqual(got?.data, { kind: 'blobs', extents: [{ blob: p1, size: 5 }, { blob: p3, size: 5 }] });
        assert.deepEqual(got?.userMetadata, { a: '1' });
        const garbage = await allGarbage(m);
        assert.ok(garbage.includes(p2again), 'an unused part is queued');
        assert.ok(!garbage.includes(p1) && !garbage.includes(p3), 'used parts stay');
        assert.ok(await m.knowsBlob(p1));
        assert.equal(await m.getUpload('u1'), undefined);
        await rejectsWith(m.putPart(part('u1', 4, blobId())), 'NoSuchUpload');
        await rejectsWith(m.completeUpload('u1', assembleFrom([1])), 'NoSuchUpload');
      });

      withBucket('uploads list by key then initiation; an abort queues its parts once', async (m) => {
        await m.createUpload(upload('u-2', 'k2'));
        await m.createUpload(upload('u-1a', 'k1'));
        await m.createUpload(upload('u-1b', 'k1'));
        await rejectsWith(m.createUpload({ ...upload('u-x', 'k'), bucket: 'missing' }), 'NoSuchBucket');
        const page = await m.listUploads('b', { prefix: '', delimiter: '', keyMarker: '', uploadIdMarker: '', maxUploads: 10 });
        assert.deepEqual(page.uploads.map((u) => u.uploadId), ['u-1a', 'u-1b', 'u-2']);
        const next = await m.listUploads('b', { prefix: '', delimiter: '', keyMarker: 'k1', uploadIdMarker: 'u-1a', maxUploads: 10 });
        assert.deepEqual(next.uploads.map((u) => u.uploadId), ['u-1b', 'u-2']);
        const blob = blobId();
        await m.putPart(part('u-2', 1, blob));
        assert.equal(await m.abortUpload('u-2'), true);
        assert.equal(await m.abortUpload('u-2'), false);
        assert.ok((await allGarbage(m)).includes(blob));
      });
    });

    describe('the blob queue', () => {
      withBucket('blobs are known while live or queued; taken once dead long enough; forgotten only when dead', async (m) => {
        const blob = blobId();
        assert.equal(await m.knowsBlob(blob), false);
        await m.putObject(record('b', 'k', { blob }));
        assert.equal(await m.knowsBlob(blob), true);
        assert.ok(!(await allGarbage(m)).includes(blob));
        await m.forgetGarbage([blob]);
        assert.equal(await m.knowsBlob(blob), true, 'forgetting a live blob does nothing');

        const diedAfter = Date.now() - 1;
        await m.deleteObject('b', 'k');
        assert.equal(await m.knowsBlob(blob), true, 'a queued blob is still known');
        assert.ok(!(await m.takeGarbage(100, diedAfter - 1000)).includes(blob), 'a blob dead for less than the grace is not taken');
        assert.ok((await allGarbage(m)).includes(blob));
        const limited = await m.takeGarbage(1, Date.now() + 1);
        assert.equal(limited.length, 1);
        await m.forgetGarbage([blob]);
        assert.equal(await m.knowsBlob(blob), false);
        assert.ok(!(await allGarbage(m)).includes(blob));
      });
    });

    describe('leases', () => {
      it('one holder at a time; renewed by its holder; released or expired, another takes it', async (m) => {
        assert.equal(await m.acquireLease('work', 'p1', 60_000), true);
        assert.equal(await m.acquireLease('work', 'p2', 60_000), false);
        assert.equal(await m.acquireLease('work', 'p1', 60_000), true, 'the holder renews');
        assert.equal(await m.acquireLease('other-work', 'p2', 60_000), true, 'leases are per name');
        await m.releaseLease('work', 'p2');
        assert.equal(await m.acquireLease('work', 'p2', 60_000), false, 'only the holder releases');
        await m.releaseLease('work', 'p1');
        assert.equal(await m.acquireLease('work', 'p2', 100), true);
        assert.equal(await m.acquireLease('work', 'p1', 60_000), false);
        await sleep(250);
        assert.equal(await m.acquireLease('work', 'p1', 60_000), true, 'an expired lease is free');
        assert.equal(await m.acquireLease('work', 'p2', 60_000), false);
      });

      it('of concurrent claimants exactly one gets the lease', async (m) => {
        const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => m.acquireLease('race', `p${i}`, 60_000)));
        assert.equal(claims.filter(Boolean).length, 1);
      });
    });
  });
}
