import type { AddressInfo } from 'node:net';
import { HANDLERS } from '../api/handlers.js';
import type { SecretLookup } from '../auth/types.js';
import { createS3Server } from '../http/server.js';
import { openEmbeddedStore } from '../store/open.js';
import { BlobCollector, sweepOrphans } from '../workers/blob-gc.js';
import { ensureRoot } from './credentials.js';

export interface ServerOptions {
  readonly data: string;
  readonly address: string;
  readonly port: number;
  readonly region: string;
  readonly domain: readonly string[];
}

function log(line: Record<string, unknown>): void {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), ...line }) + '\n');
}

export async function runServer(options: ServerOptions): Promise<void> {
  const startedAt = Date.now();
  const store = openEmbeddedStore(options.data);
  const root = await ensureRoot(store.metadata, options.data, process.env);
  const collector = new BlobCollector(store);
  const lookup: SecretLookup = async (accessKeyId) => {
    const key = await store.metadata.getAccessKey(accessKeyId);
    return key && { secretKey: key.secretKey, accountId: key.accountId };
  };
  const server = createS3Server({
    store, lookup, handlers: HANDLERS, domains: options.domain, log,
    settings: { region: options.region, onGarbage: () => collector.poke() },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.address, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://${options.address.includes(':') ? `[${options.address}]` : options.address}:${port}`;
  process.stdout.write(`Cairn listening on ${endpoint}\n`);
  process.stdout.write(`Data folder: ${options.data}\n`);
  if (root.generated) {
    process.stdout.write([
      'Root credentials were generated (shown once; kept in the data folder, mode 0600):',
      `  AWS_ACCESS_KEY_ID=${root.accessKeyId}`,
      `  AWS_SECRET_ACCESS_KEY=${root.secretKey}`,
      'Try:',
      `  AWS_ACCESS_KEY_ID=${root.accessKeyId} AWS_SECRET_ACCESS_KEY=${root.secretKey} aws --endpoint-url ${endpoint} s3 ls`,
      '',
    ].join('\n'));
  } else {
    process.stdout.write(`Root access key: ${root.accessKeyId}\n`);
  }

  // Leftovers of writes cut off by a crash: files older than this start that no metadata knows.
  void sweepOrphans(store, startedAt).then((n) => {
    if (n > 0) log({ level: 'info', msg: 'removed orphan blobs', count: n });
  });
  collector.poke();

  const stop = (): void => {
    server.close();
    server.closeIdleConnections();
    void collector.stop().then(() => store.close()).then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
