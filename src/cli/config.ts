import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseInitialAccounts, type InitialAccount } from './initial-accounts.js';

/**
 * Every `cairn server` setting, in one typed schema. Each can come from the
 * config file (`--config`, JSON, keys named like the flags), the environment
 * (`CAIRN_` + the flag in upper snake case) or a flag; flags win over the
 * environment, which wins over the file.
 */
export interface ServerConfig {
  readonly data: string;
  readonly address: string;
  readonly port: number;
  readonly region: string;
  readonly domain: readonly string[];
  readonly workers: number;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly tlsPort: number;
  readonly adminPort: number;
  readonly logLevel: LogLevel;
  readonly shutdownTimeout: number;
  readonly headersTimeout: number;
  readonly keepAliveTimeout: number;
  readonly idleTimeout: number;
  readonly gcGrace: number;
  /** Folder of archived objects' files; undefined: `<data>/cold`. */
  readonly coldDir: string | undefined;
  /** Length of a lifecycle day in seconds (shortened for tests and demos). */
  readonly lifecycleDaySeconds: number;
  /** Seconds between lifecycle passes. */
  readonly lifecycleInterval: number;
  /** Restore durations per tier, in seconds of a full-length day (scaled with the lifecycle day). */
  readonly restoreExpeditedSeconds: number;
  readonly restoreStandardSeconds: number;
  readonly restoreBulkSeconds: number;
  readonly maxObjectSize: number;
  /** Memory mode: metadata and bodies in memory, nothing on disk, all gone at stop; one process. */
  readonly memory: boolean;
  /** Memory mode's bound on bytes of object data held (InsufficientStorage beyond it). */
  readonly memoryLimit: number;
  /** Buckets the root account gets at start (those missing are created). */
  readonly buckets: readonly string[];
  /** The root account's key; undefined: the data folder's saved one, or a generated one. */
  readonly rootAccessKey: string | undefined;
  readonly rootSecretKey: string | undefined;
  /** Further accounts, with a key and buckets each, made at start when missing. */
  readonly accounts: readonly InitialAccount[];
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A value as a flag, the environment or the JSON file gives it; each parser checks its shape. */
type Raw = unknown;

interface Setting<K extends keyof ServerConfig> {
  readonly key: K;
  readonly flag: string;
  readonly value: string;
  readonly description: string;
  readonly fallback: () => ServerConfig[K];
  readonly parse: (raw: Raw) => ServerConfig[K];
  readonly repeatable?: boolean;
}

class ConfigError extends Error {}

function text(raw: Raw): string {
  if (typeof raw !== 'string' || raw === '') throw new ConfigError('expected a non-empty string');
  return raw;
}

function integer(min: number, max: number) {
  return (raw: Raw): number => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

function list(raw: Raw): readonly string[] {
  const split = (v: string): string[] => v.split(',').map((p) => p.trim()).filter((p) => p !== '');
  // A repeated flag gives an array whose items may themselves be comma-separated.
  if (Array.isArray(raw)) return raw.flatMap((v) => split(text(v)));
  if (typeof raw === 'string') return split(raw);
  throw new ConfigError('expected a list of strings');
}

function oneOf<T extends string>(values: readonly T[]) {
  return (raw: Raw): T => {
    if (typeof raw !== 'string' || !(values as readonly string[]).includes(raw)) throw new ConfigError(`expected one of ${values.join(', ')}`);
    return raw as T;
  };
}

function decimal(min: number, max: number) {
  return (raw: Raw): number => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(`expected a number from ${min} to ${max}`);
    return n;
  };
}

function flag(raw: Raw): boolean {
  if (raw === true || raw === 'true' || raw === '1') return true;
  if (raw === false || raw === 'false' || raw === '0') return false;
  throw new ConfigError('expected true or false');
}

/** A JSON document: as the file gives it, or as text from a flag or the environment. */
function json<T>(parse: (value: unknown) => T) {
  return (raw: Raw): T => {
    let value: unknown = raw;
    if (typeof raw === 'string') {
      try {
        value = JSON.parse(raw);
      } catch {
        throw new ConfigError('expected JSON');
      }
    }
    try {
      return parse(value);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  };
}

const PORT = integer(0, 65535);
/** S3's largest object: 5 TiB. */
const MAX_OBJECT_SIZE = 5 * 1024 ** 4;

/** The schema: one row per setting. */
const SETTINGS: readonly Setting<keyof ServerConfig>[] = [
  { key: 'data', flag: 'data', value: '<dir>', description: 'data folder (metadata and objects)', fallback: () => './data', parse: text },
  { key: 'address', flag: 'address', value: '<ip>', description: 'address to listen on', fallback: () => '127.0.0.1', parse: text },
  { key: 'port', flag: 'port', value: '<n>', description: 'HTTP port (0 picks a free one)', fallback: () => 9000, parse: PORT },
  { key: 'region', flag: 'region', value: '<name>', description: 'region this endpoint answers for', fallback: () => 'us-east-1', parse: text },
  { key: 'domain', flag: 'domain', value: '<name>', description: 'domain for virtual-hosted-style requests (<bucket>.<domain>); repeatable, or comma-separated', fallback: () => [], parse: list, repeatable: true },
  { key: 'workers', flag: 'workers', value: '<n>', description: 'worker processes (default: one per core)', fallback: () => availableParallelism(), parse: integer(1, 256) },
  { key: 'tlsCert', flag: 'tls-cert', value: '<file>', description: 'PEM certificate chain; with --tls-key, serves HTTPS on --tls-port (reloaded on SIGHUP)', fallback: () => undefined, parse: text },
  { key: 'tlsKey', flag: 'tls-key', value: '<file>', description: 'PEM private key for --tls-cert', fallback: () => undefined, parse: text },
  { key: 'tlsPort', flag: 'tls-port', value: '<n>', description: 'HTTPS port', fallback: () => 9443, parse: PORT },
  { key: 'adminPort', flag: 'admin-port', value: '<n>', description: 'port for /metrics, /health/live and /health/ready, outside the S3 namespace', fallback: () => 9001, parse: PORT },
  { key: 'logLevel', flag: 'log-level', value: '<level>', description: `log level: ${LOG_LEVELS.join(', ')}`, fallback: () => 'info', parse: oneOf(LOG_LEVELS) },
  { key: 'shutdownTimeout', flag: 'shutdown-timeout', value: '<s>', description: 'seconds in-flight requests get to finish on SIGTERM', fallback: () => 30, parse: integer(0, 3600) },
  { key: 'headersTimeout', flag: 'headers-timeout', value: '<s>', description: 'seconds a client has to send its request headers', fallback: () => 30, parse: integer(1, 3600) },
  { key: 'keepAliveTimeout', flag: 'keep-alive-timeout', value: '<s>', description: 'seconds an idle keep-alive connection stays open', fallback: () => 5, parse: integer(1, 3600) },
  { key: 'idleTimeout', flag: 'idle-timeout', value: '<s>', description: 'seconds a request may go without sending or receiving a byte', fallback: () => 120, parse: integer(1, 86400) },
  { key: 'coldDir', flag: 'cold-dir', value: '<dir>', description: 'cold storage folder for archived (GLACIER, DEEP_ARCHIVE) objects; unset: <data>/cold', fallback: () => undefined, parse: text },
  { key: 'lifecycleDaySeconds', flag: 'lifecycle-day-seconds', value: '<s>', description: 'seconds one lifecycle day lasts (shorten for tests and demos; restore times and restored copies\' lifetimes shrink in proportion)', fallback: () => 86400, parse: decimal(0.001, 86400) },
  { key: 'lifecycleInterval', flag: 'lifecycle-interval', value: '<s>', description: 'seconds between lifecycle passes (restores, moves to cold storage); rules are applied 24 times per lifecycle day; a shortened day shortens both', fallback: () => 60, parse: decimal(0.05, 86400) },
  { key: 'restoreExpeditedSeconds', flag: 'restore-expedited-seconds', value: '<s>', description: 'time an Expedited restore takes, in seconds of a full day', fallback: () => 300, parse: integer(0, 10 ** 9) },
  { key: 'restoreStandardSeconds', flag: 'restore-standard-seconds', value: '<s>', description: 'time a Standard restore takes, in seconds of a full day', fallback: () => 4 * 3600, parse: integer(0, 10 ** 9) },
  { key: 'restoreBulkSeconds', flag: 'restore-bulk-seconds', value: '<s>', description: 'time a Bulk restore takes, in seconds of a full day', fallback: () => 12 * 3600, parse: integer(0, 10 ** 9) },
  { key: 'maxObjectSize', flag: 'max-object-size', value: '<bytes>', description: 'largest object accepted, in bytes (a single PUT is further capped at 5 GiB, as in S3)', fallback: () => MAX_OBJECT_SIZE, parse: integer(1, MAX_OBJECT_SIZE) },
  { key: 'memory', flag: 'memory', value: '', description: 'keep everything in memory: nothing is written to disk and all is gone at stop (one process; takes no --data)', fallback: () => false, parse: flag },
  { key: 'memoryLimit', flag: 'memory-limit', value: '<bytes>', description: 'with --memory: most bytes of object data held (InsufficientStorage beyond; objects larger are EntityTooLarge)', fallback: () => 1024 ** 3, parse: integer(1, 2 ** 52) },
  { key: 'buckets', flag: 'buckets', value: '<names>', description: 'buckets the root account gets at start; repeatable, or comma-separated', fallback: () => [], parse: list, repeatable: true },
  { key: 'rootAccessKey', flag: 'root-access-key', value: '<id>', description: 'root account access key id (with --root-secret-key; unset: saved in the data folder, or generated)', fallback: () => undefined, parse: text },
  { key: 'rootSecretKey', flag: 'root-secret-key', value: '<secret>', description: 'root account secret key (the environment keeps it out of the process list)', fallback: () => undefined, parse: text },
  { key: 'accounts', flag: 'accounts', value: '<json>', description: 'accounts made at start: [{"name","email","access-key","secret-key","id"?,"buckets"?}]', fallback: () => [], parse: json(parseInitialAccounts) },
  { key: 'gcGrace', flag: 'gc-grace', value: '<s>', description: 'seconds a replaced or deleted blob is kept before its file is removed (readers in other workers may still stream it)', fallback: () => 60, parse: integer(0, 86400) },
];

export function envName(flag: string): string {
  return `CAIRN_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** Options commander should declare for `cairn server`, with their help text. */
export function serverOptions(): { flags: string; description: string; repeatable: boolean }[] {
  return [
    { flags: '--config <file>', description: `JSON config file (env ${envName('config')})`, repeatable: false },
    ...SETTINGS.map((s) => {
      const fallback = s.fallback();
      const shown = Array.isArray(fallback) ? (fallback.length ? fallback.join(',') : 'none') : fallback ?? 'none';
      return { flags: s.value === '' ? `--${s.flag}` : `--${s.flag} ${s.value}`, description: `${s.description} (env ${envName(s.flag)}; default ${String(shown)})`, repeatable: s.repeatable === true };
    }),
  ];
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Resolves the configuration from flags (as commander parsed them), the
 * environment and the config file. Throws an Error naming the setting, its
 * source (`named` says how to call a flag: the library names its options) and
 * what was expected when a value is bad.
 */
export function resolveServerConfig(
  flags: Record<string, Raw | undefined>, env: NodeJS.ProcessEnv, named: (flag: string) => string = (f) => `--${f}`,
): ServerConfig {
  const configPath = (flags.config as string | undefined) ?? env[envName('config')];
  let file: Record<string, Raw> = {};
  if (configPath) {
    try {
      file = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, Raw>;
    } catch (err) {
      throw new Error(`cannot read config file ${configPath}: ${(err as Error).message}`);
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file)) throw new Error(`config file ${configPath} must hold a JSON object`);
    const known = new Set(SETTINGS.map((s) => s.flag));
    const unknown = Object.keys(file).filter((k) => !known.has(k));
    if (unknown.length > 0) throw new Error(`config file ${configPath}: unknown setting ${unknown.join(', ')}`);
  }
  const config: Record<string, unknown> = {};
  const given = new Set<keyof ServerConfig>();
  for (const s of SETTINGS) {
    const sources: [string, Raw | undefined][] = [
      [named(s.flag), flags[camel(s.flag)]],
      [envName(s.flag), env[envName(s.flag)]],
      [`${s.flag} in ${configPath}`, file[s.flag]],
    ];
    const found = sources.find(([, v]) => v !== undefined);
    if (!found) {
      config[s.key] = s.fallback();
      continue;
    }
    given.add(s.key);
    try {
      config[s.key] = s.parse(found[1]!);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      throw new Error(`invalid value ${JSON.stringify(found[1])} for ${found[0]}: ${err.message}`);
    }
  }
  const result = config as unknown as ServerConfig;
  if ((result.tlsCert === undefined) !== (result.tlsKey === undefined)) throw new Error(`${named('tls-cert')} and ${named('tls-key')} go together`);
  if ((result.rootAccessKey === undefined) !== (result.rootSecretKey === undefined)) {
    throw new Error(`${named('root-access-key')} and ${named('root-secret-key')} go together`);
  }
  if (!result.memory) return result;
  for (const folder of ['data', 'coldDir'] as const) {
    if (given.has(folder)) throw new Error(`${named('memory')} writes nothing to disk: it takes no ${named(folder === 'data' ? 'data' : 'cold-dir')}`);
  }
  if (given.has('workers') && result.workers !== 1) throw new Error(`${named('memory')} runs in one process: ${named('workers')} must be 1`);
  return { ...result, workers: 1 };
}
