import type { IncomingHttpHeaders } from 'node:http';
import { cannedAcl, GROUPS, privateAcl } from '../auth/acl.js';
import { S3Error } from '../errors.js';
import { sendEmpty, sendXml } from '../http/respond.js';
import type { AccountId, Acl, AclPermission, Grant, Grantee, Metadata } from '../store/types.js';
import { childrenOf, parseXml, textOf, type XmlObject } from '../xml.js';
import { readSmallBody } from './body.js';
import { accountOf, bucketOf, keyOf, type RequestContext } from './context.js';
import { loadObject } from './get.js';
import { versionHeader } from './versions.js';
import { displayNames } from './owners.js';

const MAX_GRANTS = 100;
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const GRANT_HEADERS: Readonly<Record<string, AclPermission>> = {
  'x-amz-grant-read': 'READ',
  'x-amz-grant-write': 'WRITE',
  'x-amz-grant-read-acp': 'READ_ACP',
  'x-amz-grant-write-acp': 'WRITE_ACP',
  'x-amz-grant-full-control': 'FULL_CONTROL',
};
const PERMISSIONS: readonly AclPermission[] = ['FULL_CONTROL', 'WRITE', 'WRITE_ACP', 'READ', 'READ_ACP'];

/** Turns a grantee named by id, e-mail or group URI into a stored grantee, as S3 resolves it when the ACL is written. */
async function resolveGrantee(metadata: Metadata, kind: string, value: string): Promise<Grantee> {
  switch (kind) {
    case 'id': {
      if (!(await metadata.getAccount(value))) throw new S3Error('InvalidArgument', 'Invalid id', { ArgumentName: 'CanonicalUser/ID', ArgumentValue: value });
      return { kind: 'user', id: value };
    }
    case 'emailAddress': {
      const account = await metadata.getAccountByEmail(value);
      if (!account) throw new S3Error('UnresolvableGrantByEmailAddress', undefined, { EmailAddress: value });
      return { kind: 'user', id: account.id };
    }
    case 'uri': {
      if (!GROUPS.includes(value)) throw new S3Error('InvalidArgument', 'Invalid group uri', { ArgumentName: 'Group/URI', ArgumentValue: value });
      return { kind: 'group', uri: value };
    }
    default:
      throw new S3Error('InvalidArgument', `Invalid grantee type ${kind}`);
  }
}

/** Parses `id="…", emailAddress="…", uri="…"` lists of x-amz-grant-* headers. */
function parseGrantHeader(value: string): { kind: string; value: string }[] {
  const found: { kind: string; value: string }[] = [];
  const pattern = /\s*(id|emailAddress|uri)\s*=\s*(?:"([^"]*)"|([^,\s]*))\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while (consumed < value.length && (m = pattern.exec(value)) !== null) {
    found.push({ kind: m[1]!, value: m[2] ?? m[3] ?? '' });
    consumed = pattern.lastIndex;
  }
  if (consumed < value.trim().length || found.length === 0) throw new S3Error('InvalidArgument', 'Invalid grant header', { ArgumentValue: value });
  return found;
}

/**
 * The ACL a write's headers ask for: `x-amz-acl` (canned) or `x-amz-grant-*`,
 * never both; undefined when neither is present.
 */
export async function aclFromHeaders(metadata: Metadata, headers: IncomingHttpHeaders, owner: AccountId, bucketOwner: AccountId): Promise<Acl | undefined> {
  const canned = headers['x-amz-acl'];
  const grantHeaders = Object.keys(GRANT_HEADERS).filter((h) => headers[h] !== undefined);
  if (canned !== undefined && grantHeaders.length > 0) {
    throw new S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  }
  if (canned !== undefined) return cannedAcl(String(canned), owner, bucketOwner);
  if (grantHeaders.length === 0) return undefined;
  const grants: Grant[] = [];
  for (const name of grantHeaders) {
    for (const spec of parseGrantHeader(String(headers[name]))) {
      grants.push({ grantee: await resolveGrantee(metadata, spec.kind, spec.value), permission: GRANT_HEADERS[name]! });
    }
  }
  if (grants.length > MAX_GRANTS) throw new S3Error('InvalidArgument', `At most ${MAX_GRANTS} grants are allowed`);
  return { owner, grants };
}

/** The ACL for a new bucket or object: what the headers ask, else private. */
export async function newAcl(ctx: RequestContext, bucketOwner: AccountId): Promise<Acl> {
  const owner = accountOf(ctx.principal) ?? bucketOwner;
  return (await aclFromHeaders(ctx.store.metadata, ctx.req.headers, owner, bucketOwner)) ?? privateAcl(owner);
}

async function aclFromXml(metadata: Metadata, text: string, owner: AccountId): Promise<Acl> {
  const doc = parseXml(text, 'AccessControlPolicy');
  // Ownership never changes through an ACL: a policy naming another owner is a
  // give-away attempt, which S3 refuses with AccessDenied rather than ignoring.
  const namedOwner = textOf(childrenOf(doc, 'Owner')[0], 'ID');
  if (namedOwner !== undefined && namedOwner.trim() !== owner) throw new S3Error('AccessDenied');
  const list = childrenOf(doc, 'AccessControlList');
  if (list.length !== 1) throw new S3Error('MalformedACLError');
  const grants: Grant[] = [];
  for (const grant of childrenOf(list[0], 'Grant')) {
    const permission = textOf(grant, 'Permission') as AclPermission | undefined;
    const grantee = childrenOf(grant, 'Grantee');
    if (!permission || !PERMISSIONS.includes(permission) || grantee.length !== 1) throw new S3Error('MalformedACLError');
    const id = textOf(grantee[0], 'ID');
    const email = textOf(grantee[0], 'EmailAddress');
    const uri = textOf(grantee[0], 'URI');
    const [kind, value] = id !== undefined ? ['id', id] : email !== undefined ? ['emailAddress', email] : uri !== undefined ? ['uri', uri] : ['', ''];
    if (kind === '') throw new S3Error('MalformedACLError');
    grants.push({ grantee: await resolveGrantee(metadata, kind, value.trim()), permission });
  }
  if (grants.length > MAX_GRANTS) throw new S3Error('MalformedACLError', `At most ${MAX_GRANTS} grants are allowed`);
  return { owner, grants };
}

/** The ACL a PUT ?acl asks for, from its headers or its body (exactly one). */
async function requestedAcl(ctx: RequestContext, owner: AccountId, bucketOwner: AccountId): Promise<Acl> {
  const fromHeaders = await aclFromHeaders(ctx.store.metadata, ctx.req.headers, owner, bucketOwner);
  const body = await readSmallBody(ctx.body());
  if (fromHeaders && body.length > 0) throw new S3Error('UnexpectedContent');
  if (fromHeaders) return fromHeaders;
  if (body.length === 0) throw new S3Error('MalformedACLError', 'An ACL must be given in the request body or in x-amz-acl / x-amz-grant-* headers.');
  return aclFromXml(ctx.store.metadata, body.toString('utf8'), owner);
}

/**
 * Group grants first, then accounts', each in the order written: the order S3
 * services answer canned ACLs in (AllUsers READ before the owner's
 * FULL_CONTROL), which clients that index `Grants` depend on.
 */
function answerOrder(grants: readonly Grant[]): Grant[] {
  return [...grants.filter((g) => g.grantee.kind === 'group'), ...grants.filter((g) => g.grantee.kind === 'user')];
}

async function renderAcl(metadata: Metadata, acl: Acl): Promise<XmlObject> {
  const names = await displayNames(metadata, [acl.owner, ...acl.grants.flatMap((g) => (g.grantee.kind === 'user' ? [g.grantee.id] : []))]);
  return {
    Owner: { ID: acl.owner, DisplayName: names.get(acl.owner) ?? acl.owner },
    AccessControlList: {
      Grant: answerOrder(acl.grants).map((g) => ({
        Grantee: g.grantee.kind === 'user'
          ? { '@xmlns:xsi': XSI, '@xsi:type': 'CanonicalUser', ID: g.grantee.id, DisplayName: names.get(g.grantee.id) ?? g.grantee.id }
          : { '@xmlns:xsi': XSI, '@xsi:type': 'Group', URI: g.grantee.uri },
        Permission: g.permission,
      })),
    },
  };
}

export async function getBucketAcl(ctx: RequestContext): Promise<void> {
  sendXml(ctx.res, 200, 'AccessControlPolicy', await renderAcl(ctx.store.metadata, bucketOf(ctx).acl));
}

export async function putBucketAcl(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  await ctx.store.metadata.putBucketAcl(bucket.name, await requestedAcl(ctx, bucket.owner, bucket.owner));
  sendEmpty(ctx.res, 200);
}

export async function getObjectAcl(ctx: RequestContext): Promise<void> {
  const record = await loadObject(ctx, 'READ_ACP');
  sendXml(ctx.res, 200, 'AccessControlPolicy', await renderAcl(ctx.store.metadata, record.acl), versionHeader(bucketOf(ctx), record.versionId));
}

export async function putObjectAcl(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const record = await loadObject(ctx, 'WRITE_ACP');
  const acl = await requestedAcl(ctx, record.owner, bucket.owner);
  const versionId = await ctx.store.metadata.putObjectAcl(bucket.name, keyOf(ctx), acl, ctx.target.query.get('versionId') ?? undefined);
  sendEmpty(ctx.res, 200, versionHeader(bucket, versionId));
}
