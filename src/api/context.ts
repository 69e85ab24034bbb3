import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Access } from '../auth/authorize.js';
import type { Authenticated, Principal, SecretLookup } from '../auth/types.js';
import type { LifecycleSettings } from '../lifecycle/settings.js';
import type { OperationName } from '../router/operations.js';
import type { RequestTarget } from '../router/route.js';
import type { Bucket, Store } from '../store/types.js';

/** Settings handlers need that do not come from the request. */
export interface ServiceSettings {
  /** The region this endpoint answers for; creating an owned bucket again is 200 only in us-east-1. */
  readonly region: string;
  /** Tells background workers that blobs were released. */
  readonly onGarbage: () => void;
  /** Lifecycle day length and restore durations. */
  readonly lifecycle: LifecycleSettings;
  /** Largest object accepted (bytes); EntityTooLarge beyond it. */
  readonly maxObjectSize: number;
}

/** Everything one request's handler works with. */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly operation: OperationName;
  readonly target: RequestTarget;
  readonly auth: Authenticated;
  readonly principal: Principal;
  /** The caller, the operation's IAM action and the request's condition keys, for decisions handlers finish. */
  readonly access: Access;
  readonly store: Store;
  readonly settings: ServiceSettings;
  /** Finds access keys, for handlers that authenticate what the request body carries (POST forms). */
  readonly lookup: SecretLookup;
  /**
   * The request payload. Taking it is what answers a client's `Expect:
   * 100-continue`, so a handler that fails before needing the body never
   * invites it.
   */
  body(): Readable;
  /** The addressed bucket, loaded and authorised; present for every bucket and object operation but CreateBucket. */
  readonly bucket: Bucket | undefined;
}

export type Handler = (ctx: RequestContext) => Promise<void>;

/** The bucket of a bucket or object operation (the router guarantees one). */
export function bucketOf(ctx: RequestContext): Bucket {
  if (!ctx.bucket) throw new Error(`${ctx.operation} reached its handler without a bucket`);
  return ctx.bucket;
}

/** The object key of an object operation (the router guarantees one). */
export function keyOf(ctx: RequestContext): string {
  if (ctx.target.key === undefined) throw new Error(`${ctx.operation} reached its handler without a key`);
  return ctx.target.key;
}

/** The account behind a signed request; AccessDenied for anonymous callers. */
export function accountOf(principal: Principal): string | undefined {
  return principal.kind === 'account' ? principal.accountId : undefined;
}
