import { envName, resolveServerConfig, type LogLevel, type ServerConfig } from '../cli/config.js';
import { newAccessKeyId, newSecretKey } from '../cli/credentials.js';

/** An access key pair, named as the AWS SDKs name them. */
export interface CairnCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** An account to create at start, besides the root account. */
export interface CairnAccountOptions {
  /** Display name. */
  readonly name: string;
  /** E-mail address (for grants by e-mail); default `<name>@cairn.local`. */
  readonly email?: string;
  /** Canonical user id (64 hex digits in S3); default: generated. */
  readonly id?: string;
  /** The account's key; default: generated (see `Cairn.accounts`). */
  readonly credentials?: CairnCredentials;
  /** Buckets the account owns from the start. */
  readonly buckets?: readonly string[];
}

/** How to run Cairn: everything is optional. */
export interface CairnOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Address to listen on; default 127.0.0.1. */
  readonly address?: string;
  /** Data folder to keep everything in; absent: memory mode, nothing written to disk, all gone at stop(). */
  readonly data?: string;
  /** Memory mode: most bytes of object data held (default 1 GiB); beyond it writes answer 507 InsufficientStorage. */
  readonly memoryLimit?: number;
  /** Region the endpoint answers for; default us-east-1. */
  readonly region?: string;
  /** Domains for virtual-hosted-style requests (`<bucket>.<domain>`); path-style always works. */
  readonly domain?: readonly string[];
  /** Buckets the root account owns from the start. */
  readonly buckets?: readonly string[];
  /** The root account's key; default: generated (see `Cairn.credentials`). */
  readonly credentials?: CairnCredentials;
  /** Further accounts, each with a key and buckets. */
  readonly accounts?: readonly CairnAccountOptions[];
  /** Seconds one lifecycle day lasts (default 86400): shorten it to see lifecycle rules act in a test. */
  readonly lifecycleDaySeconds?: number;
  /** Seconds between lifecycle passes (default 60). */
  readonly lifecycleInterval?: number;
  /** Largest object accepted, in bytes. */
  readonly maxObjectSize?: number;
  /** Log level of the JSON logs on stderr; default 'silent'. */
  readonly logLevel?: LogLevel;
  /** 'in-process' (default): the server runs in this process. 'child': in a child process of its own. */
  readonly mode?: 'in-process' | 'child';
}

/** An account as started: its key, whether given or generated. */
export interface CairnAccount {
  readonly name: string;
  readonly email: string;
  readonly credentials: CairnCredentials;
  readonly buckets: readonly string[];
}

const OPTION_NAMES: ReadonlySet<string> = new Set([
  'port', 'address', 'data', 'memoryLimit', 'region', 'domain', 'buckets', 'credentials', 'accounts',
  'lifecycleDaySeconds', 'lifecycleInterval', 'maxObjectSize', 'logLevel', 'mode',
]);

/** How errors name a setting: as the option that sets it. */
const OPTION_OF: Readonly<Record<string, string>> = {
  'root-access-key': 'credentials.accessKeyId', 'root-secret-key': 'credentials.secretAccessKey', memory: 'data',
};

function optionName(flag: string): string {
  return OPTION_OF[flag] ?? flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function generated(): CairnCredentials {
  return { accessKeyId: newAccessKeyId(), secretAccessKey: newSecretKey() };
}

/** What a start needs: the settings, as `cairn server` would resolve them, and the keys it was given or generated. */
export interface Plan {
  /** The settings as `cairn server` flags (camelCase), for the environment of a child process. */
  readonly flags: Readonly<Record<string, unknown>>;
  readonly config: ServerConfig;
  readonly credentials: CairnCredentials;
  readonly accounts: readonly CairnAccount[];
}

/** Checks the options and turns them into a server configuration; throws a TypeError naming a bad one. */
export function plan(options: CairnOptions): Plan {
  const unknown = Object.keys(options).filter((k) => !OPTION_NAMES.has(k));
  if (unknown.length > 0) throw new TypeError(`startCairn: unknown option ${unknown.join(', ')}`);
  if (options.mode !== undefined && options.mode !== 'in-process' && options.mode !== 'child') {
    throw new TypeError(`startCairn: mode must be 'in-process' or 'child'`);
  }
  const credentials = options.credentials ?? generated();
  const accounts = (options.accounts ?? []).map((a): CairnAccount => ({
    name: a.name, email: a.email ?? `${a.name}@cairn.local`, credentials: a.credentials ?? generated(), buckets: a.buckets ?? [],
  }));
  const flags: Record<string, unknown> = {
    port: options.port ?? 0,
    address: options.address,
    data: options.data,
    memory: options.data === undefined,
    memoryLimit: options.memoryLimit,
    region: options.region,
    domain: options.domain,
    buckets: options.buckets,
    rootAccessKey: credentials.accessKeyId,
    rootSecretKey: credentials.secretAccessKey,
    accounts: (options.accounts ?? []).map((given, i) => {
      const a = accounts[i]!;
      return {
        ...(given.id !== undefined ? { id: given.id } : {}),
        name: a.name, email: a.email, 'access-key': a.credentials.accessKeyId, 'secret-key': a.credentials.secretAccessKey, buckets: a.buckets,
      };
    }),
    lifecycleDaySeconds: options.lifecycleDaySeconds,
    lifecycleInterval: options.lifecycleInterval,
    maxObjectSize: options.maxObjectSize,
    logLevel: options.logLevel ?? 'silent',
    // Several instances side by side: the admin endpoint takes a free port too.
    adminPort: 0,
    workers: 1,
  };
  for (const key of Object.keys(flags)) if (flags[key] === undefined) delete flags[key];
  let config: ServerConfig;
  try {
    config = resolveServerConfig(flags, {}, optionName);
  } catch (err) {
    throw new TypeError(`startCairn: ${(err as Error).message}`);
  }
  return { flags, config, credentials, accounts };
}

/** The environment that gives a child `cairn server` these settings (secrets stay out of its argument list). */
export function environmentOf(flags: Readonly<Record<string, unknown>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(flags)) {
    // An empty list is the default; a list of names is comma-separated, as CAIRN_BUCKETS=a,b.
    if (Array.isArray(value) && value.length === 0) continue;
    const name = envName(key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
    env[name] = Array.isArray(value) && value.every((v) => typeof v === 'string') ? value.join(',')
      : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return env;
}
