/**
 * Helpers shared by the ACL end-to-end tests: a second account made with
 * `cairn admin`, an SDK client that sends no signature at all (and records what
 * it sent, so a test can prove it), S3 outcome assertions, and ACL grants
 * reduced to comparable strings.
 */
import assert from 'node:assert/strict';
import { S3Client, type Grant } from '@aws-sdk/client-s3';
import type {
  BuildHandler, DeserializeHandler, HttpAuthScheme, HttpRequest, HttpSigner, IdentityProvider, Identity, MetadataBearer,
} from '@smithy/types';
import { runCairn, type RunningServer } from './harness.js';

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
export const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

export interface Account {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly key: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** Creates an account with `cairn admin account create` on a running server's data folder. */
export async function createAccount(dataDir: string, account: Account): Promise<void> {
  const r = await runCairn([
    'admin', 'account', 'create', '--data', dataDir, '--id', account.id, '--name', account.name, '--email', account.email,
    '--access-key', account.key.accessKeyId, '--secret-key', account.key.secretAccessKey,
  ]);
  assert.equal(r.code, 0, `cairn admin account create exited ${r.code}: ${r.stderr}`);
}

/** What one unsigned request carried on the wire. */
export interface SentRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, unknown>>;
}

/** An anonymous SDK client and the requests it has sent. */
export interface AnonymousClient {
  readonly client: S3Client;
  readonly sent: SentRequest[];
}

type AnyDeserializeMiddleware = <I extends object, O extends object>(next: DeserializeHandler<I, O>) => DeserializeHandler<I, O>;

/**
 * An S3Client that sends requests unsigned: its auth schemes resolve an empty
 * identity (so no credential chain runs) and sign nothing. The deprecated
 * `signer` option alone is not enough in current v3 releases: the SigV4
 * scheme still resolves credentials and fails with CredentialsProviderError.
 * Every request is recorded after the signing step, so a test can check that
 * none carried an Authorization header or a presigned query.
 */
export function anonymousClient(server: RunningServer): AnonymousClient {
  const noSignature: HttpSigner = { sign: async (request: HttpRequest) => request };
  const noIdentity = (): IdentityProvider<Identity> => async () => ({});
  const schemes: HttpAuthScheme[] = ['aws.auth#sigv4', 'aws.auth#sigv4a'].map((schemeId) => ({
    schemeId, identityProvider: noIdentity, signer: noSignature,
  }));
  const client = new S3Client({
    endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1, httpAuthSchemes: schemes,
  });
  const sent: SentRequest[] = [];
  // The deserialize step runs after finalizeRequest, where signing happens: this is what goes on the wire.
  const record: AnyDeserializeMiddleware = (next) => async (args) => {
    const request = args.request as Partial<HttpRequest>;
    sent.push({
      method: request.method ?? '', path: request.path ?? '', headers: { ...(request.headers ?? {}) }, query: { ...(request.query ?? {}) },
    });
    return next(args);
  };
  client.middlewareStack.add(record, { step: 'deserialize', priority: 'low', name: 'recordUnsignedRequest' });
  return { client, sent };
}

/** Asserts that none of the recorded requests carried any kind of signature. */
export function assertUnsigned(sent: readonly SentRequest[]): void {
  assert.ok(sent.length > 0, 'the anonymous client sent nothing');
  for (const r of sent) {
    const headers = Object.keys(r.headers).map((h) => h.toLowerCase());
    const query = Object.keys(r.query).map((q) => q.toLowerCase());
    assert.ok(!headers.includes('authorization'), `${r.method} ${r.path} carried an Authorization header`);
    assert.ok(!headers.includes('x-amz-security-token'), `${r.method} ${r.path} carried a session token`);
    for (const q of ['x-amz-signature', 'x-amz-credential', 'signature', 'awsaccesskeyid']) {
      assert.ok(!query.includes(q), `${r.method} ${r.path} carried the presigned query parameter ${q}`);
    }
  }
}

function isServiceError(e: unknown): e is Error & MetadataBearer {
  return e instanceof Error && typeof (e as Partial<MetadataBearer>).$metadata === 'object';
}

/** Settles a request: its result, or the S3 error it failed with (anything else is rethrown). */
export async function settle<T extends MetadataBearer>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: Error & MetadataBearer }> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    if (!isServiceError(error)) throw error;
    return { ok: false, error };
  }
}

/** Awaits an SDK request expected to succeed with a 2xx; returns its output. */
export async function expectAllowed<T extends MetadataBearer>(p: Promise<T>): Promise<T> {
  const r = await settle(p);
  if (!r.ok) assert.fail(`expected success, got ${r.error.$metadata.httpStatusCode} ${r.error.name}: ${r.error.message}`);
  const status = r.value.$metadata.httpStatusCode ?? 0;
  assert.ok(status >= 200 && status < 300, `expected a 2xx, got ${status}`);
  return r.value;
}

/**
 * Awaits an SDK request expected to fail with this status and S3 error code.
 * HEAD answers carry no body, so for them only the status can be checked
 * (pass code undefined).
 */
export async function expectError(p: Promise<MetadataBearer>, status: number, code: string | undefined): Promise<Error & MetadataBearer> {
  const r = await settle(p);
  if (r.ok) assert.fail(`expected ${status} ${code ?? ''}, but the request succeeded with ${r.value.$metadata.httpStatusCode}`);
  assert.equal(r.error.$metadata.httpStatusCode, status, `status of ${r.error.name}: ${r.error.message}`);
  if (code !== undefined) assert.equal(r.error.name, code, `error code (message: ${r.error.message})`);
  return r.error;
}

/** A grant as a comparable string: `user:<id>:<display name>:<permission>` or `group:<uri>:<permission>`. */
export function grantString(g: Grant): string {
  const grantee = g.Grantee;
  assert.ok(grantee, 'grant without a Grantee');
  if (grantee.Type === 'CanonicalUser') return `user:${grantee.ID}:${grantee.DisplayName}:${g.Permission}`;
  if (grantee.Type === 'Group') return `group:${grantee.URI}:${g.Permission}`;
  return `unexpected ${JSON.stringify(grantee)}:${g.Permission}`;
}

/** The grants of a GetBucketAcl / GetObjectAcl answer, sorted. */
export function grantStrings(grants: readonly Grant[] | undefined): string[] {
  return (grants ?? []).map(grantString).sort();
}

type AnyBuildMiddleware = <I extends object, O extends object>(next: BuildHandler<I, O>) => BuildHandler<I, O>;

/** Sets (or replaces) request headers on one command after the SDK built it, before signing: how a test sends a value the SDK's types would refuse. */
export function withHeaders<C extends { middlewareStack: { add(m: AnyBuildMiddleware, o: { step: 'build'; priority: 'low' }): void } }>(
  command: C, headers: Readonly<Record<string, string>>,
): C {
  const middleware: AnyBuildMiddleware = (next) => async (args) => {
    const request = args.request as { headers?: Record<string, string> };
    if (request.headers) {
      for (const [name, value] of Object.entries(headers)) {
        for (const existing of Object.keys(request.headers)) if (existing.toLowerCase() === name.toLowerCase()) delete request.headers[existing];
        request.headers[name] = value;
      }
    }
    return next(args);
  };
  command.middlewareStack.add(middleware, { step: 'build', priority: 'low' });
  return command;
}
