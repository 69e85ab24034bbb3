/**
 * One startup measurement, in a fresh Node.js process (bench/main.ts runs it):
 * import the library, startCairn(), answer the first request, stop. Prints the
 * times in milliseconds as one JSON line. The SDK is loaded before the clock
 * starts: it is the user's, not Cairn's.
 * argv: mode (in-process | child), store (memory | folder).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

const [mode, store] = process.argv.slice(2) as ['in-process' | 'child', 'memory' | 'folder'];
const data = store === 'folder' ? mkdtempSync(join(tmpdir(), 'cairn-startup-')) : undefined;
const t0 = performance.now();
const { startCairn } = await import('../src/index.js');
const imported = performance.now();
const cairn = await startCairn({ mode, buckets: ['startup'], ...(data ? { data } : {}) });
const started = performance.now();
const client = new S3Client({ endpoint: cairn.endpoint, region: cairn.region, credentials: cairn.credentials, forcePathStyle: true });
await client.send(new ListObjectsV2Command({ Bucket: 'startup' }));
const answered = performance.now();
client.destroy();
await cairn.stop();
if (data) rmSync(data, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ import: imported - t0, start: started - imported, firstRequest: answered - started, total: answered - t0 }) + '\n');
