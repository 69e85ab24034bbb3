import cluster, { type Worker } from 'node:cluster';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Server as TlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AggregatorRegistry, Registry } from 'prom-client';
import { HANDLERS } from '../api/handlers.js';
import type { SecretLookup } from '../auth/types.js';
import { createAdminServer } from '../http/admin.js';
import { InFlight } from '../http/in-flight.js';
import { createS3Server, type ConnectionLimits } from '../http/server.js';
import { createLogger, type Logger } from '../observability/log.js';
import { createLifecycleMetrics, createMetrics } from '../observability/metrics.js';
import type { LifecycleSettings } from '../lifecycle/settings.js';
import { LifecycleWorker } from '../lifecycle/worker.js';
import { openEmbeddedStore, openMemoryStore, type EmbeddedStore } from '../store/open.js';
import { BlobCollector, sweepOrphans } from '../workers/blob-gc.js';
import type { ServerConfig } from './config.js';
import { ensureRoot, type RootCredentials } from './credentials.js';
import { provision } from './initial-accounts.js';

/** What a worker tells the primary once it listens, or why it cannot. */
type WorkerMessage =
  | { readonly type: 'cairn:listening'; readonly http: number; readonly https: number | undefined }
  | { readonly type: 'cairn:listen-failed'; readonly message: string };

/** A socket Cairn could not listen on; its message is the one line an operator needs. */
export class ListenError extends Error {}

/** Causes of listen failures an operator can fix, by errno code. */
const LISTEN_CAUSES: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'the address is not one of this machine\'s',
};

function hostPort(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

function endpointOf(scheme: string, address: string, port: number): string {
  return `${scheme}://${hostPort(address, port)}`;
}

/** Listens on `port`, the value of the setting `flag`; a failure is a ListenError naming the setting at fault. */
function listen(server: Server | TlsServer, port: number, address: string, flag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const cause = LISTEN_CAUSES[err.code ?? ''] ?? err.message;
      const setting = err.code === 'EADDRNOTAVAIL' ? `--address ${address}` : `${flag} ${port}`;
      reject(new ListenError(`cannot listen on ${hostPort(address, port)} (${setting}): ${cause}`));
    });
    server.listen(port, address, () => resolve((server.address() as AddressInfo).port));
  });
}

/** Stops the process with the one line that says which setting to change. */
export function exitOnListenError(err: ListenError): never {
  process.stderr.write(`cairn server: ${err.message}\n`);
  process.exit(1);
}

function readTls(config: ServerConfig): { cert: Buffer; key: Buffer } | undefined {
  return config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : undefined;
}

/**
 * Prepares the store once: migrations, the root account, the accounts and
 * buckets asked for, and the sweep of blobs that a crash left without metadata.
 */
async function prepare(config: ServerConfig, logger: Logger, startedAt: number): Promise<{ store: EmbeddedStore; root: RootCredentials }> {
  const store = openStore(config);
  let root: RootCredentials;
  try {
    const keys = config.rootAccessKey !== undefined && config.rootSecretKey !== undefined
      ? { accessKeyId: config.rootAccessKey, secretKey: config.rootSecretKey } : undefined;
    root = await ensureRoot(store.metadata, config.memory ? undefined : config.data, keys);
    await provision(store.metadata, root.accountId, config.buckets, config.accounts);
  } catch (err) {
    await store.close();
    throw err;
  }
  if (config.memory) return { store, root };
  void sweepOrphans(store, startedAt).then((n) => {
    if (n > 0) logger.info({ count: n }, 'removed orphan blobs');
  }, (err: unknown) => logger.error({ err }, 'orphan sweep failed'));
  return { store, root };
}

function openStore(config: ServerConfig): EmbeddedStore {
  if (config.memory) return openMemoryStore(config.memoryLimit);
  return openEmbeddedStore(config.data, config.coldDir ?? join(config.data, 'cold'));
}

function lifecycleSettingsOf(config: ServerConfig): LifecycleSettings {
  return {
    daySeconds: config.lifecycleDaySeconds,
    restoreSeconds: { Expedited: config.restoreExpeditedSeconds, Standard: config.restoreStandardSeconds, Bulk: config.restoreBulkSeconds },
  };
}

/** The lifecycle worker runs in exactly one process: the single one, or the cluster's primary. */
function startLifecycle(config: ServerConfig, logger: Logger, store: EmbeddedStore, registry: Registry, startedAt: number): LifecycleWorker {
  const worker = new LifecycleWorker({
    metadata: store.metadata, blobs: store.blobs, cold: store.cold, settings: lifecycleSettingsOf(config),
    intervalMs: config.lifecycleInterval * 1000, logger, metrics: createLifecycleMetrics(registry),
  });
  worker.start(startedAt);
  return worker;
}

/** Prints where Cairn listens and, the first time only, the generated root keys with a ready-to-paste line. */
function announce(config: ServerConfig, root: RootCredentials, http: number, https: number | undefined, admin: number): void {
  const endpoint = endpointOf('http', config.address, http);
  const lines = [`Cairn listening on ${endpoint}`];
  if (https !== undefined) lines.push(`Cairn listening on ${endpointOf('https', config.address, https)}`);
  lines.push(
    `Admin endpoint on ${endpointOf('http', config.address, admin)} (/metrics, /health/live, /health/ready)`,
    config.memory ? `Data: in memory, gone at stop (at most ${config.memoryLimit} bytes of object data)` : `Data folder: ${config.data}`,
  );
  if (root.generated) {
    lines.push(
      'Root credentials were generated (shown once; kept in the data folder, mode 0600):',
      `  AWS_ACCESS_KEY_ID=${root.accessKeyId}`,
      `  AWS_SECRET_ACCESS_KEY=${root.secretKey}`,
      'Try:',
      `  AWS_ACCESS_KEY_ID=${root.accessKeyId} AWS_SECRET_ACCESS_KEY=${root.secretKey} aws --endpoint-url ${endpoint} s3 ls`,
    );
  } else {
    lines.push(`Root access key: ${root.accessKeyId}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

/** Starts Cairn: one process, or a primary with one worker per core sharing the listening sockets and the store. */
export async function runServer(config: ServerConfig): Promise<void> {
  if (cluster.isWorker) return runWorker(config, createLogger(config.logLevel));
  const logger = createLogger(config.logLevel);
  if (config.workers === 1) return runSingle(config, logger);
  return runPrimary(config, logger);
}

/** One Cairn process, started: where it listens, its root keys, and how to stop it. */
export interface StartedServer {
  readonly ports: { readonly http: number; readonly https: number | undefined; readonly admin: number };
  readonly root: RootCredentials;
  /** Stops accepting, lets in-flight requests finish (up to the shutdown timeout), stops the workers, closes the store. */
  stop(): Promise<void>;
  reloadTls(): void;
}

/**
 * Starts Cairn in this process (no cluster), as `cairn server --workers 1` and the library do.
 * `embedded`: the process is another program's (the library's in-process mode), so its
 * process metrics (GC, event loop, memory) are not Cairn's to report.
 */
export async function startServer(config: ServerConfig, logger: Logger, embedded = false): Promise<StartedServer> {
  const startedAt = Date.now();
  const { store, root } = await prepare(config, logger, startedAt);
  let serving: Awaited<ReturnType<typeof serve>>;
  try {
    serving = await serve(config, logger, store, !embedded);
  } catch (err) {
    await store.close();
    throw err;
  }
  const lifecycle = startLifecycle(config, logger, store, serving.metrics.registry, startedAt);
  const admin = createAdminServer({
    metrics: async () => ({ contentType: serving.metrics.registry.contentType, body: await serving.metrics.registry.metrics() }),
    ready: () => store.ping(),
  });
  const stop = async (): Promise<void> => {
    admin.close();
    admin.closeAllConnections();
    await lifecycle.stop();
    await serving.stop();
  };
  let adminPort: number;
  try {
    adminPort = await listen(admin, config.adminPort, config.address, '--admin-port');
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports: { ...serving.ports, admin: adminPort }, root, stop, reloadTls: () => serving.reloadTls() };
}

interface Serving {
  readonly s3: (Server | TlsServer)[];
  readonly ports: { http: number; https: number | undefined };
  /** Stops accepting, lets in-flight requests finish (up to the timeout), closes the store. */
  stop(): Promise<void>;
  reloadTls(): void;
}

/** The S3 listeners of one process over an open store. */
async function serve(
  config: ServerConfig, logger: Logger, store: EmbeddedStore, processMetrics = true,
): Promise<Serving & { metrics: ReturnType<typeof createMetrics> }> {
  const metrics = createMetrics(store.metadata, processMetrics);
  // Memory mode is one process: pins cover its readers, so freed bytes need no grace.
  const collector = new BlobCollector(store, config.memory ? 0 : config.gcGrace * 1000);
  collector.poke();
  const lookup: SecretLookup = async (accessKeyId) => {
    const key = await store.metadata.getAccessKey(accessKeyId);
    return key && { secretKey: key.secretKey, accountId: key.accountId };
  };
  const inFlight = new InFlight();
  const options = {
    store, lookup, handlers: HANDLERS, domains: config.domain, logger, metrics, inFlight,
    settings: { region: config.region, onGarbage: () => collector.poke(), lifecycle: lifecycleSettingsOf(config),
      // In memory mode no object may be larger than what memory may hold.
      maxObjectSize: config.memory ? Math.min(config.maxObjectSize, config.memoryLimit) : config.maxObjectSize },
  };
  const limits: ConnectionLimits = {
    headersTimeoutMs: config.headersTimeout * 1000,
    keepAliveTimeoutMs: config.keepAliveTimeout * 1000,
    idleTimeoutMs: config.idleTimeout * 1000,
  };
  const http = createS3Server(options, limits);
  const tls = readTls(config);
  const https = tls ? createS3Server(options, limits, tls) : undefined;
  const ports = {
    http: await listen(http, config.port, config.address, '--port'),
    https: https ? await listen(https, config.tlsPort, config.address, '--tls-port') : undefined,
  };
  const s3 = https ? [http, https] : [http];
  return {
    s3, ports, metrics,
    reloadTls() {
      if (!https) return;
      try {
        (https as TlsServer).setSecureContext(readTls(config)!);
        logger.info('TLS certificate reloaded');
      } catch (err) {
        logger.error({ err }, 'TLS certificate reload failed; keeping the previous one');
      }
    },
    async stop() {
      const closed = s3.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
      for (const server of s3) server.closeIdleConnections();
      const deadline = setTimeout(() => {
        logger.warn('shutdown timeout: closing connections still open');
        for (const server of s3) server.closeAllConnections();
      }, config.shutdownTimeout * 1000);
      await Promise.all(closed);
      clearTimeout(deadline);
      // Handlers of cut-off requests still remove their partial files.
      await inFlight.settled(5000);
      await collector.stop();
      await store.close();
    },
  };
}

function onSignals(stop: () => Promise<void>, reload: () => void, logger: Logger): void {
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    stop().then(() => process.exit(0), (err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', reload);
}

async function runSingle(config: ServerConfig, logger: Logger): Promise<void> {
  const started = await startServer(config, logger);
  announce(config, started.root, started.ports.http, started.ports.https, started.ports.admin);
  onSignals(() => started.stop(), () => started.reloadTls(), logger);
}

async function runWorker(config: ServerConfig, logger: Logger): Promise<void> {
  const store = openStore(config);
  let serving: Awaited<ReturnType<typeof serve>>;
  try {
    serving = await serve(config, logger, store);
  } catch (err) {
    // The primary reports it once and stops, rather than replacing this worker forever.
    if (!(err instanceof ListenError)) throw err;
    process.send?.({ type: 'cairn:listen-failed', message: err.message } satisfies WorkerMessage);
    return;
  }
  // Constructing one is what makes prom-client answer the primary's requests for this worker's metrics.
  AggregatorRegistry.setRegistries([serving.metrics.registry]);
  void new AggregatorRegistry();
  const message: WorkerMessage = { type: 'cairn:listening', http: serving.ports.http, https: serving.ports.https };
  process.send?.(message);
  onSignals(() => serving.stop(), () => serving.reloadTls(), logger);
}

async function runPrimary(config: ServerConfig, logger: Logger): Promise<void> {
  const startedAt = Date.now();
  const { store, root } = await prepare(config, logger, startedAt);
  const registry = new AggregatorRegistry();
  // The lifecycle worker's counters live here, in the primary, next to the workers' aggregate.
  const own = new Registry();
  const lifecycle = startLifecycle(config, logger, store, own, startedAt);
  const admin = createAdminServer({
    metrics: async () => ({ contentType: registry.contentType, body: (await registry.clusterMetrics()) + (await own.metrics()) }),
    ready: async () => {
      await store.ping();
      if (Object.keys(cluster.workers ?? {}).length === 0) throw new Error('no worker is running');
    },
  });
  const adminPort = await listen(admin, config.adminPort, config.address, '--admin-port');
  let stopping = false;
  let announced = false;
  const fork = (): Worker => cluster.fork();
  cluster.on('message', (_worker, message: WorkerMessage) => {
    if (message?.type === 'cairn:listen-failed' && !stopping) {
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      exitOnListenError(new ListenError(message.message));
    }
    if (message?.type !== 'cairn:listening' || announced) return;
    announced = true;
    announce(config, root, message.http, message.https, adminPort);
  });
  // A worker that dies is replaced; requests on other workers go on.
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.warn({ worker: worker.process.pid, code, signal }, 'worker died; starting another');
    fork();
  });
  for (let i = 0; i < config.workers; i++) fork();
  onSignals(async () => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
      w.once('exit', () => resolve());
      w.process.kill('SIGTERM');
    })));
    admin.close();
    admin.closeAllConnections();
    await lifecycle.stop();
    await store.close();
  }, () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  }, logger);
}
