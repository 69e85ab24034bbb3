/**
 * Cairn as a library: start an S3-compatible server for a test suite (or any
 * program), talk to it with any S3 client, stop it.
 *
 *   import { startCairn } from 'cairn';
 *   const s3 = await startCairn({ buckets: ['uploads'] });
 *   // s3.endpoint, s3.credentials, s3.region
 *   await s3.stop();
 */
import { plan, type CairnAccount, type CairnCredentials, type CairnOptions } from './library/options.js';

export type { CairnAccount, CairnAccountOptions, CairnCredentials, CairnOptions } from './library/options.js';
export type { LogLevel } from './cli/config.js';

/** A running Cairn. */
export interface Cairn {
  /** Where S3 clients send requests, e.g. `http://127.0.0.1:40123` (path-style addressing). */
  readonly endpoint: string;
  readonly port: number;
  /** The region to sign for. */
  readonly region: string;
  /** The root account's key. */
  readonly credentials: CairnCredentials;
  /** The further accounts, with their keys, in the order given. */
  readonly accounts: readonly CairnAccount[];
  /** The data folder; undefined in memory mode. */
  readonly data: string | undefined;
  /** The server's process: this one, or the child's. */
  readonly pid: number;
  /** Stops the server: in-flight requests finish; in memory mode everything stored is gone. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts Cairn and resolves once it answers requests. Rejects with a TypeError naming a bad option. */
export async function startCairn(options: CairnOptions = {}): Promise<Cairn> {
  const p = plan(options);
  // Loaded when used: a child's parent never loads the server's modules, nor an in-process start the child's.
  const started = options.mode === 'child'
    ? await (await import('./library/child.js')).startChild(p)
    : await (await import('./library/in-process.js')).startInProcess(p);
  const host = p.config.address.includes(':') ? `[${p.config.address}]` : p.config.address;
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${started.port}`,
    port: started.port,
    region: p.config.region,
    credentials: p.credentials,
    accounts: p.accounts,
    data: p.config.memory ? undefined : p.config.data,
    pid: started.pid,
    stop: () => (stopping ??= started.stop()),
  };
}
