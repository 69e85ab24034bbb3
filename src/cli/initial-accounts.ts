import { validateBucketName } from '../api/bucket-names.js';
import { privateAcl } from '../auth/acl.js';
import type { AccountId, Metadata } from '../store/types.js';
import { newCanonicalId } from './credentials.js';

/** An account made at start (config `accounts`), with one key and its buckets. */
export interface InitialAccount {
  /** Canonical user id; undefined: the account with this e-mail, or a new id. */
  readonly id: string | undefined;
  readonly name: string;
  readonly email: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly buckets: readonly string[];
}

/** Bounds on what a start may create, as on every input. */
const MAX_ACCOUNTS = 1000;
const MAX_BUCKETS = 1000;
const MAX_FIELD = 1024;

function field(entry: Record<string, unknown>, name: string, i: number): string {
  const value = entry[name];
  if (typeof value !== 'string' || value === '' || value.length > MAX_FIELD) {
    throw new Error(`account ${i}: "${name}" must be a non-empty string of at most ${MAX_FIELD} characters`);
  }
  return value;
}

function bucketList(value: unknown, where: string): readonly string[] {
  if (!Array.isArray(value) || value.length > MAX_BUCKETS || !value.every((b) => typeof b === 'string')) {
    throw new Error(`${where}: "buckets" must be a list of at most ${MAX_BUCKETS} names`);
  }
  return value as string[];
}

/** Checks the `accounts` setting: a list of {name, email, access-key, secret-key, id?, buckets?}. */
export function parseInitialAccounts(value: unknown): readonly InitialAccount[] {
  if (!Array.isArray(value) || value.length > MAX_ACCOUNTS) throw new Error(`expected a list of at most ${MAX_ACCOUNTS} accounts`);
  return value.map((entry: unknown, i): InitialAccount => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Error(`account ${i}: expected an object`);
    const e = entry as Record<string, unknown>;
    const known = new Set(['id', 'name', 'email', 'access-key', 'secret-key', 'buckets']);
    const unknown = Object.keys(e).filter((k) => !known.has(k));
    if (unknown.length > 0) throw new Error(`account ${i}: unknown field ${unknown.join(', ')}`);
    return {
      id: e.id === undefined ? undefined : field(e, 'id', i),
      name: field(e, 'name', i),
      email: field(e, 'email', i),
      accessKey: field(e, 'access-key', i),
      secretKey: field(e, 'secret-key', i),
      buckets: e.buckets === undefined ? [] : bucketList(e.buckets, `account ${i}`),
    };
  });
}

/**
 * Makes what the configuration asks for exist: the root account's buckets, the
 * further accounts with their key and buckets. What exists already is kept, so a
 * data folder can be started again with the same settings; a name or key that
 * belongs to another account stops the start.
 */
export async function provision(metadata: Metadata, root: AccountId, buckets: readonly string[], accounts: readonly InitialAccount[]): Promise<void> {
  for (const name of buckets) await ensureBucket(metadata, name, root);
  for (const a of accounts) {
    const found = a.id !== undefined ? await metadata.getAccount(a.id) : await metadata.getAccountByEmail(a.email);
    const id = found?.id ?? a.id ?? newCanonicalId();
    if (!found) {
      if (await metadata.getAccountByEmail(a.email)) throw new Error(`account ${a.name}: another account has the e-mail ${a.email}`);
      await metadata.createAccount({ id, displayName: a.name, email: a.email, createdAt: new Date() });
    }
    const key = await metadata.getAccessKey(a.accessKey);
    if (key && key.accountId !== id) throw new Error(`account ${a.name}: access key ${a.accessKey} belongs to another account`);
    if (key?.secretKey !== a.secretKey) {
      if (key) await metadata.revokeAccessKey(a.accessKey);
      await metadata.addAccessKey({ accessKeyId: a.accessKey, secretKey: a.secretKey, accountId: id, createdAt: new Date() });
    }
    for (const name of a.buckets) await ensureBucket(metadata, name, id);
  }
}

async function ensureBucket(metadata: Metadata, name: string, owner: AccountId): Promise<void> {
  try {
    validateBucketName(name);
  } catch (err) {
    throw new Error(`bucket ${JSON.stringify(name)}: ${(err as Error).message}`);
  }
  const outcome = await metadata.createBucket({ name, owner, createdAt: new Date(), location: '', acl: privateAcl(owner), configs: {} });
  if (outcome === 'owned-by-other') throw new Error(`bucket ${name} belongs to another account`);
}
