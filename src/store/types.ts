import type { Readable, Writable } from 'node:stream';
import type { S3Error } from '../errors.js';
import type { LifecycleMetadata } from './lifecycle-types.js';

export type AccountId = string;
export type BucketName = string;
export type ObjectKey = string;
/** `null` (the string) for objects written while versioning was never enabled, as S3 reports them. */
export type VersionId = string;
export type BlobId = string;

export interface Account {
  readonly id: AccountId;
  readonly displayName: string;
  readonly email: string;
  readonly createdAt: Date;
}

export interface AccessKey {
  readonly accessKeyId: string;
  readonly secretKey: string;
  readonly accountId: AccountId;
  readonly createdAt: Date;
}

export type AclPermission = 'FULL_CONTROL' | 'WRITE' | 'WRITE_ACP' | 'READ' | 'READ_ACP';

/** Who a grant is for: an account (e-mail grants are resolved to it when written) or one of S3's groups. */
export type Grantee =
  | { readonly kind: 'user'; readonly id: AccountId }
  | { readonly kind: 'group'; readonly uri: string };

export interface Grant {
  readonly grantee: Grantee;
  readonly permission: AclPermission;
}

/** An access control list: its owner and grants, as S3 keeps on every bucket and object. */
export interface Acl {
  readonly owner: AccountId;
  readonly grants: readonly Grant[];
}

export interface Bucket {
  readonly name: BucketName;
  readonly owner: AccountId;
  readonly createdAt: Date;
  /** LocationConstraint as given at creation; '' is us-east-1. */
  readonly location: string;
  readonly acl: Acl;
  /** The bucket's CORS rules, in the order they are evaluated; absent when none are configured. */
  readonly cors?: readonly CorsRule[];
  /**
   * The bucket's other sub-resource documents (versioning, policy, tagging, …) by kind,
   * each as its module serialised it; read with the bucket, so checking one costs no query.
   */
  readonly configs: Readonly<Partial<Record<BucketConfigKind, string>>>;
}

/**
 * Bucket sub-resources kept in the one generic configuration slot: a new one is a
 * new name here, with no store method or migration of its own.
 */
export type BucketConfigKind =
  | 'versioning' | 'object-lock' | 'policy' | 'public-access-block' | 'ownership' | 'encryption'
  | 'tagging' | 'notification' | 'logging' | 'website' | 'request-payment' | 'accelerate';

/** One rule of a bucket's CORS configuration, as PutBucketCors stores it (validated). */
export interface CorsRule {
  readonly id?: string;
  readonly allowedMethods: readonly string[];
  /** Origins, each with at most one `*` wildcard. */
  readonly allowedOrigins: readonly string[];
  /** Header names a preflight may ask for, each with at most one `*` wildcard. */
  readonly allowedHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAgeSeconds?: number;
}

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';

export interface Checksum {
  readonly algorithm: ChecksumAlgorithm;
  /** Base64 of the digest, as S3 transmits it. */
  readonly value: string;
  readonly type: 'FULL_OBJECT' | 'COMPOSITE';
}

/** Representation headers S3 stores with an object and returns on GET/HEAD. */
export interface ContentHeaders {
  readonly contentType: string;
  readonly contentEncoding?: string;
  readonly contentDisposition?: string;
  readonly contentLanguage?: string;
  readonly cacheControl?: string;
  readonly expires?: string;
}

/** One stretch of an object's bytes kept in one blob file. */
export interface BlobExtent {
  readonly blob: BlobId;
  readonly size: number;
  /** Hex MD5 of the blob's bytes, recorded when it was written (absent on extents written before it was kept). */
  readonly md5?: string;
  /** A multipart object's part checksum (base64, in the object's algorithm): GET by part number and GetObjectAttributes report it. */
  readonly checksum?: string;
  /**
   * CRC32C of the blob's bytes (unsigned), recorded when it was written: the integrity
   * hash reads are verified with, apart from the ETag. Absent on extents written before.
   */
  readonly crc32c?: number;
}

/** One tag of an object (or of a lifecycle filter): S3 keeps at most 10 per object, keys unique. */
export interface TagPair {
  readonly key: string;
  readonly value: string;
}

/** Where an object's bytes are: in the metadata row, or in one or more blobs read in order. */
export type ObjectData =
  | { readonly kind: 'inline'; readonly bytes: Buffer; readonly crc32c?: number }
  | { readonly kind: 'blobs'; readonly extents: readonly BlobExtent[] };

export interface ObjectRecord {
  readonly bucket: BucketName;
  readonly key: ObjectKey;
  readonly versionId: VersionId;
  readonly size: number;
  /** Hex MD5 (or md5-of-md5s-N), without quotes. */
  readonly etag: string;
  readonly lastModified: Date;
  readonly owner: AccountId;
  readonly storageClass: string;
  readonly headers: ContentHeaders;
  /** User metadata, names lower-cased without the x-amz-meta- prefix. */
  readonly userMetadata: Readonly<Record<string, string>>;
  readonly checksum?: Checksum;
  readonly acl: Acl;
  /** The object's tags, in the order they were given; empty when it has none. */
  readonly tags: readonly TagPair[];
  /**
   * The bytes GET serves: the object's own, or for an archived object its
   * restored copy (no extents while it has none).
   */
  readonly data: ObjectData;
  /** Set once the bytes have moved to cold storage (GLACIER, DEEP_ARCHIVE): the cold file. */
  readonly cold?: BlobId;
  readonly restore?: RestoreState;
  /** Why the stored bytes failed their integrity check (they were quarantined); such an object is never served. */
  readonly damaged?: string;
  /** A delete marker: a version without data that makes its key read as deleted (size 0, no ETag). */
  readonly deleteMarker?: boolean;
  /** Object Lock retention: until then the version cannot be removed (GOVERNANCE: unless bypassed). */
  readonly retention?: Retention;
  /** Object Lock legal hold: while on, the version cannot be removed by anyone. */
  readonly legalHold?: boolean;
}

export type RetentionMode = 'GOVERNANCE' | 'COMPLIANCE';

export interface Retention {
  readonly mode: RetentionMode;
  readonly retainUntil: Date;
}

/** A restore of an archived object: requested, and once complete, its temporary hot copy. */
export interface RestoreState {
  readonly tier: 'Expedited' | 'Standard' | 'Bulk';
  readonly days: number;
  /** When the copy becomes available (epoch ms). */
  readonly readyAt: number;
  /** The hot copy, once the restore completed. */
  readonly copy?: BlobId;
  /** When the copy is dropped again (epoch ms); set once complete. */
  readonly expiresAt?: number;
}

/**
 * An object's record short of an inline body's bytes: all that HEAD, ACL and
 * condition checks need, read without touching the body.
 */
export type ObjectHead = Omit<ObjectRecord, 'data'> & {
  readonly data: Exclude<ObjectData, { kind: 'inline' }> | { readonly kind: 'inline' };
};

/** Summary of an object as listings show it. */
export interface ObjectSummary {
  readonly key: ObjectKey;
  readonly versionId: VersionId;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: Date;
  readonly owner: AccountId;
  readonly storageClass: string;
  /** Whether this is its key's newest version (ListObjectVersions' IsLatest). */
  readonly isLatest?: boolean;
  readonly deleteMarker?: boolean;
}

export interface ListQuery {
  readonly prefix: string;
  readonly delimiter: string;
  /** List keys strictly after this one ('' from the start). */
  readonly after: string;
  readonly maxKeys: number;
}

export interface ListPage {
  readonly objects: readonly ObjectSummary[];
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
  /** The last key or common prefix returned: where the next page starts after. */
  readonly last?: string;
}

/** ListObjectVersions: versions newest first within each key, keys in UTF-8 byte order. */
export interface VersionListQuery {
  readonly prefix: string;
  readonly delimiter: string;
  /** Start after this key ('' from the start), or within it after `versionIdMarker`. */
  readonly keyMarker: string;
  readonly versionIdMarker: string;
  readonly maxKeys: number;
}

export interface VersionPage {
  readonly versions: readonly ObjectSummary[];
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
  /** Where the next page starts: the last key (or common prefix) and, after a version, its id. */
  readonly nextKeyMarker?: string;
  readonly nextVersionIdMarker?: VersionId;
}

/** One object a batch delete names: its key, and a version to remove (else the bucket's versioning decides). */
export interface DeleteTarget {
  readonly key: ObjectKey;
  readonly versionId?: VersionId;
}

/** What deleting one target did, as DeleteObject(s) reports it. */
export interface DeleteOutcome {
  readonly key: ObjectKey;
  /** The version the request named. */
  readonly requestedVersionId?: VersionId;
  /** The version S3 reports: the one removed, or the delete marker made. */
  readonly versionId?: VersionId;
  /** A delete marker was made, or the version removed was one. */
  readonly deleteMarker: boolean;
  /** Why this target was refused (e.g. AccessDenied for a locked version); nothing changed for it. */
  readonly error?: S3Error;
}

/** A change to a version's Object Lock state; fields left out stay as they are. */
export interface LockChange {
  /** New retention; null removes it. */
  readonly retention?: Retention | null;
  readonly legalHold?: boolean;
  /** x-amz-bypass-governance-retention: a GOVERNANCE retention may be shortened or removed. */
  readonly bypassGovernance?: boolean;
}

/** Conditions a write checks atomically against the current object. */
export interface WriteCondition {
  /** The current object's ETag must equal this (`*`: an object must exist). */
  readonly ifMatch?: string;
  /** `*`: no object may exist under the key. */
  readonly ifNoneMatch?: string;
}

/** A multipart upload in progress. */
export interface Upload {
  readonly uploadId: string;
  readonly bucket: BucketName;
  readonly key: ObjectKey;
  readonly initiated: Date;
  readonly owner: AccountId;
  readonly storageClass: string;
  readonly headers: ContentHeaders;
  readonly userMetadata: Readonly<Record<string, string>>;
  /** The checksum the parts carry and the object will get, as chosen at creation. */
  readonly checksumAlgorithm?: ChecksumAlgorithm;
  readonly checksumType?: 'FULL_OBJECT' | 'COMPOSITE';
  /** The ACL the completed object will get. */
  readonly acl: Acl;
  /** The tags the completed object will get (x-amz-tagging at creation). */
  readonly tags: readonly TagPair[];
  /** The Object Lock state the completed object will get (x-amz-object-lock-* at creation). */
  readonly retention?: Retention;
  readonly legalHold?: boolean;
}

export interface Part {
  readonly uploadId: string;
  readonly partNumber: number;
  readonly blob: BlobId;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: Date;
  /** Base64 checksum of the part, in the upload's algorithm. */
  readonly checksum?: string;
  /** CRC32C of the part's blob, which its extent in the completed object keeps (BlobExtent.crc32c). */
  readonly crc32c?: number;
}

export interface UploadListQuery {
  readonly prefix: string;
  readonly delimiter: string;
  readonly keyMarker: string;
  readonly uploadIdMarker: string;
  readonly maxUploads: number;
}

export interface UploadPage {
  readonly uploads: readonly Upload[];
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
}

export type CreateBucketOutcome = 'created' | 'owned-by-you' | 'owned-by-other';

/**
 * Metadata: accounts, buckets and objects, behind an asynchronous interface so
 * that a networked database can back it. Every method is one transaction.
 */
export interface Metadata {
  /** Lifecycle configurations, archiving and restores (src/store/lifecycle-types.ts). */
  readonly lifecycle: LifecycleMetadata;
  createAccount(account: Account): Promise<void>;
  getAccount(id: AccountId): Promise<Account | undefined>;
  getAccountByEmail(email: string): Promise<Account | undefined>;
  listAccounts(): Promise<Account[]>;
  /** Fails with BucketNotEmpty-like Error when the account still owns buckets. */
  deleteAccount(id: AccountId): Promise<void>;
  addAccessKey(key: AccessKey): Promise<void>;
  revokeAccessKey(accessKeyId: string): Promise<boolean>;
  getAccessKey(accessKeyId: string): Promise<AccessKey | undefined>;
  /**
   * Called as a request starts: cached keys and buckets are checked against other
   * writers now, and lookups for the rest of this event-loop turn trust that check.
   * Lookups made without it check for themselves.
   */
  refreshCaches(): void;
  listAccessKeys(accountId: AccountId): Promise<AccessKey[]>;

  /**
   * Creates the bucket unless the name is taken; `owned: 'reset-acl'` gives an existing bucket of
   * the same owner the new bucket's ACL in the same transaction (S3's us-east-1 re-create).
   */
  createBucket(bucket: Bucket, owned?: 'keep' | 'reset-acl'): Promise<CreateBucketOutcome>;
  getBucket(name: BucketName): Promise<Bucket | undefined>;
  listBuckets(owner: AccountId): Promise<Bucket[]>;
  putBucketAcl(name: BucketName, acl: Acl): Promise<void>;
  /** Replaces the bucket's CORS rules; undefined removes them. NoSuchBucket when absent. */
  putBucketCors(name: BucketName, rules: readonly CorsRule[] | undefined): Promise<void>;
  /**
   * Sets (a string) or removes (undefined) one configuration document of a bucket, in one
   * transaction; NoSuchBucket when absent. `update` sees the current document, so a
   * change that depends on it (versioning never goes back to unversioned) is checked inside.
   */
  putBucketConfig(name: BucketName, kind: BucketConfigKind, update: (current: string | undefined) => string | undefined): Promise<void>;
  /**
   * Replaces the ACL of an object's version (the current one when `versionId` is absent);
   * NoSuchKey/NoSuchVersion when it is gone, MethodNotAllowed for a delete marker. Returns the version.
   */
  putObjectAcl(bucket: BucketName, key: ObjectKey, acl: Acl, versionId?: VersionId): Promise<VersionId>;
  /** Replaces a version's tags (empty removes them), errors as putObjectAcl. Returns the version. */
  putObjectTags(bucket: BucketName, key: ObjectKey, tags: readonly TagPair[], versionId?: VersionId): Promise<VersionId>;
  /**
   * Changes a version's retention or legal hold, checking S3's rules inside the transaction:
   * a COMPLIANCE retention is never shortened or removed, a GOVERNANCE one only with bypass
   * (AccessDenied otherwise). Returns the version.
   */
  putObjectLock(bucket: BucketName, key: ObjectKey, versionId: VersionId | undefined, change: LockChange): Promise<VersionId>;
  /** Throws S3Error BucketNotEmpty when objects remain; NoSuchBucket when absent. */
  deleteBucket(name: BucketName): Promise<void>;

  /**
   * A version of an object: the current one without `versionId`. A delete marker is
   * returned too (`deleteMarker` set): callers decide what reading one answers.
   */
  getObject(bucket: BucketName, key: ObjectKey, versionId?: VersionId): Promise<ObjectRecord | undefined>;
  /** The version without its inline body (HEAD): cheaper to read when the bytes are not wanted. */
  headObject(bucket: BucketName, key: ObjectKey, versionId?: VersionId): Promise<ObjectHead | undefined>;
  /**
   * Makes the object visible as its key's current version, in one transaction. The
   * bucket's versioning decides its version id (src/store/version-rules.ts: the
   * record's own is ignored) and whether it replaces the `null` version; a replaced
   * version under Object Lock refuses the write (AccessDenied). Throws S3Error
   * PreconditionFailed when `condition` does not hold, NoSuchBucket when the bucket
   * went away. Blobs of a replaced version are queued for deletion. Returns the new version's id.
   */
  putObject(record: ObjectRecord, condition?: WriteCondition): Promise<VersionId>;
  /** Deletes the current object as the bucket's versioning says; returns whether one existed. */
  deleteObject(bucket: BucketName, key: ObjectKey): Promise<boolean>;
  /**
   * Deletes each target in one transaction (DeleteObject is a batch of one): a named version
   * is removed (locks permitting, checked here), otherwise the bucket's versioning decides
   * (version-rules.ts). Blobs of removed versions are queued for deletion; a marker releases none.
   */
  deleteObjects(bucket: BucketName, targets: readonly DeleteTarget[], options?: { bypassGovernance?: boolean }): Promise<DeleteOutcome[]>;
  /** Current versions that are not delete markers, as ListObjects shows them. */
  listObjects(bucket: BucketName, query: ListQuery): Promise<ListPage>;
  /** Every version and delete marker (ListObjectVersions); costs the page, like listObjects. */
  listObjectVersions(bucket: BucketName, query: VersionListQuery): Promise<VersionPage>;

  createUpload(upload: Upload): Promise<void>;
  getUpload(uploadId: string): Promise<Upload | undefined>;
  /** Adds or replaces a part; NoSuchUpload when the upload is gone (completed or aborted). */
  putPart(part: Part): Promise<void>;
  /** Parts in number order after `afterPart`, at most `limit`. */
  listParts(uploadId: string, afterPart: number, limit: number): Promise<Part[]>;
  /**
   * Completes an upload in one transaction: `assemble` sees the parts as committed
   * and returns the object (or throws an S3Error); the object becomes the current
   * version as putObject's does (its id assigned there, returned in the record),
   * unused parts are queued for deletion, and the upload disappears. `condition`
   * (If-Match, If-None-Match) is checked against the current version in the same transaction.
   */
  completeUpload(uploadId: string, assemble: (upload: Upload, parts: readonly Part[]) => ObjectRecord, condition?: WriteCondition): Promise<ObjectRecord>;
  /** Drops the upload and queues its parts for deletion; false when there was none. */
  abortUpload(uploadId: string): Promise<boolean>;
  listUploads(bucket: BucketName, query: UploadListQuery): Promise<UploadPage>;

  /** Every current object in (bucket, key) order after the given position, at most `limit`: for the scrubber. */
  scanObjects(after: { bucket: BucketName; key: ObjectKey } | undefined, limit: number): Promise<ObjectRecord[]>;
  /**
   * Marks an object's stored bytes as damaged, if it is still the version that was
   * checked (same ETag and last-modified time); returns whether it was marked.
   */
  markDamaged(record: ObjectRecord, reason: string): Promise<boolean>;

  /** Objects and bytes stored in each bucket. */
  bucketStats(): Promise<{ bucket: BucketName; objects: number; bytes: number }[]>;

  /** Blobs no longer referenced since before `deadBefore` (epoch ms), waiting for their files to be removed. */
  takeGarbage(limit: number, deadBefore: number): Promise<BlobId[]>;
  forgetGarbage(ids: readonly BlobId[]): Promise<void>;
  /** Whether committed metadata knows this blob (live or queued for deletion). */
  knowsBlob(id: BlobId): Promise<boolean>;

  /**
   * Takes or renews the lease `name` for `holder` until now + `ttlMs`: true when this holder
   * now holds it, false while another holder's lease runs. Work that one process of a cluster
   * must do (lifecycle passes, sweeps) runs only while its lease is held.
   */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives up the lease if this holder has it, so another may take it at once. */
  releaseLease(name: string, holder: string): Promise<void>;

  /** Resolves when the store answers a trivial query (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The digests computed while a body streams into storage. */
export interface BodyDigest {
  readonly size: number;
  readonly md5Hex: string;
  /** CRC32C of the bytes (unsigned): the integrity hash the store records with them. */
  readonly crc32c: number;
  /** Base64 of the requested checksum, if one was requested. */
  readonly checksum?: string;
}

export interface StoredBody {
  readonly data: ObjectData;
  readonly digest: BodyDigest;
}

export interface IngestOptions {
  readonly declaredLength?: number;
  readonly checksum?: ChecksumAlgorithm;
  /** Whether a small body may stay in memory for the metadata row (not for parts). */
  readonly allowInline?: boolean;
  /** Bytes beyond which the body is refused with EntityTooLarge (bodies of unknown length). */
  readonly maxSize?: number;
}

/** Object data: immutable blobs under generated ids. */
export interface Blobs {
  /**
   * Streams a body into storage, computing MD5 and the requested checksum in the
   * same pass. Small bodies of known length stay in memory (inline); larger ones
   * go to a blob file that is fsynced before this resolves.
   */
  ingest(body: Readable, options: IngestOptions): Promise<StoredBody>;
  /** Streams bytes [start, end] (inclusive) of a blob. */
  read(id: BlobId, start: number, end: number): Readable;
  /**
   * Writes bytes [start, end] (inclusive) of a blob to `out` without ending it;
   * rejects if `out` closes or fails first, or the blob is shorter. Each chunk is
   * passed to `inspect` before it is written; if that throws, the chunk is not
   * written, nothing after it either, and this rejects with what it threw.
   */
  writeTo(id: BlobId, start: number, end: number, out: Writable, inspect?: (chunk: Buffer) => void): Promise<void>;
  /** Removes a blob that was never committed (a failed write). */
  discard(data: ObjectData): Promise<void>;
  delete(id: BlobId): Promise<void>;
  /**
   * Marks blobs as being read until the returned function is called; collection
   * skips them meanwhile, so a reader never loses a file mid-stream.
   */
  pin(ids: readonly BlobId[]): () => void;
  isPinned(id: BlobId): boolean;
  /** Moves a blob's file out of service into the quarantine folder, for an operator to inspect. */
  quarantine(id: BlobId): Promise<void>;
  /** Every blob id present on disk, for the orphan sweep. */
  list(): AsyncIterable<{ id: BlobId; mtimeMs: number }>;
}

/**
 * Where archived objects' bytes (GLACIER, DEEP_ARCHIVE) live: files in the cold
 * folder, or memory. A written entry is durable before `write` resolves.
 */
export interface ColdStore {
  /** Stores the bytes of `source` under a new id; returns it and the size. */
  write(source: AsyncIterable<Buffer>): Promise<{ id: BlobId; size: number }>;
  read(id: BlobId): Readable;
  delete(id: BlobId): Promise<void>;
  /** Every entry, for the orphan sweep. */
  list(): AsyncIterable<{ id: BlobId; mtimeMs: number }>;
}

export interface Store {
  readonly metadata: Metadata;
  readonly blobs: Blobs;
  close(): Promise<void>;
}
