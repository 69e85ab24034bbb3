/**
 * `npm run bench`: PUT/GET/HEAD/DELETE/LIST throughput and latency for Cairn and,
 * in the same run on the same machine, for a bare Node.js streaming server (the
 * ceiling). Prints ratios to the ceiling, each server's CPU time and peak RSS.
 *
 * BENCH_SCALE (default 1) multiplies request counts; BENCH_SIZES picks sizes
 * (e.g. "4k,1m" to skip 256 MiB); BENCH_OPS keeps only
 * some operations besides the PUTs that load the data (e.g. "HEAD,GET"); BENCH_NODE_ARGS passes Node flags to the Cairn
 * process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it); BENCH_WORKERS sets Cairn's worker count.
 * A second table compares Cairn's default (a worker per core) with one worker
 * on the CPU-bound cells; BENCH_CORES=0 skips it. BENCH_ROUNDS (default 3) sets
 * how many times each cell is measured on both servers.
 * First, the library's startup: import, startCairn() and the first answered
 * request, in fresh processes, for each way of running it; BENCH_STARTUP=0 skips it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
const KEY = { accessKeyId: 'BENCHROOTKEY00000001', secretAccessKey: 'bench-secret-key-000000000000000000000000' };
const BUCKET = 'bench';
const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const SIZES = (process.env.BENCH_SIZES ?? '4k,1m,256m').split(',');
const ONLY_OPS = process.env.BENCH_OPS?.split(',') as Op[] | undefined;
/** Cairn's worker count for the main table (default: one per core, as `cairn server` starts). */
const WORKERS = process.env.BENCH_WORKERS === undefined ? undefined : Number(process.env.BENCH_WORKERS);
/** BENCH_CORES=0 skips the second-core comparison. */
const CORES = process.env.BENCH_CORES !== '0';
/**
 * Rounds per cell, each on fresh keys and on both servers back to back (in
 * alternating order). This machine is shared: a neighbour's burst can halve one
 * measurement, so a cell reports each server's median round and the median of
 * the rounds' ratios.
 */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? '3'));
/** Fresh processes per way of starting the library. */
const STARTUP_RUNS = 5;

type Op = 'PUT' | 'GET' | 'HEAD' | 'DELETE' | 'LIST';

interface Server {
  readonly name: 'cairn' | 'cairn1' | 'bare';
  readonly endpoint: string;
  readonly child: ChildProcess;
  readonly dir: string;
  /** The URL for one request (presigned for Cairn, plain for the bare server). */
  url(op: Op, key: string): Promise<string>;
}

async function startProcess(args: string[], env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  child.stdout!.resume();
  return { child, endpoint };
}

async function startCairn(workers?: number): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-'));
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const count = workers ?? WORKERS;
  const { child, endpoint } = await startProcess([...nodeArgs, join(REPO, 'bin', 'cairn.js'), 'server', '--data', dir, '--port', '0', '--admin-port', '0', '--log-level', 'warn', ...(count === undefined ? [] : ['--workers', String(count)])], {
    CAIRN_ROOT_ACCESS_KEY: KEY.accessKeyId, CAIRN_ROOT_SECRET_KEY: KEY.secretAccessKey,
  });
  const client = new S3Client({
    endpoint, region: 'us-east-1', forcePathStyle: true, credentials: KEY,
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const sign = (op: Op, Key: string): Promise<string> => {
    const options = { expiresIn: 3600 };
    switch (op) {
      case 'PUT': return getSignedUrl(client, new PutObjectCommand({ Bucket: BUCKET, Key }), options);
      case 'GET': return getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key }), options);
      case 'HEAD': return getSignedUrl(client, new HeadObjectCommand({ Bucket: BUCKET, Key }), options);
      case 'DELETE': return getSignedUrl(client, new DeleteObjectCommand({ Bucket: BUCKET, Key }), options);
      case 'LIST': return getSignedUrl(client, new ListObjectsV2Command({ Bucket: BUCKET }), options);
    }
  };
  return { name: workers === 1 ? 'cairn1' : 'cairn', endpoint, child, dir, url: sign };
}

async function startBare(): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'bare-bench-'));
  const { child, endpoint } = await startProcess([join(HERE, 'bare-server.js'), dir], {});
  return { name: 'bare', endpoint, child, dir, url: async (op, key) => `${endpoint}/${encodeURIComponent(key)}${op === 'LIST' ? '?list-type=2' : ''}` };
}

/** The process and its descendants (cluster workers), from /proc. */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const child of readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8').split(' ')) if (child !== '') out.push(Number(child));
    } catch { /* exited meanwhile */ }
  }
  return out;
}

/** CPU seconds (user + system) a process and its live descendants have used so far. */
function cpuSeconds(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / 100;
    } catch { /* exited meanwhile */ }
  }
  return total;
}

/** Resident memory of a process and its descendants, MiB. */
function rssMiB(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      total += m ? Number(m[1]) / 1024 : 0;
    } catch { /* exited meanwhile */ }
  }
  return total;
}

interface Cell {
  readonly requests: number;
  readonly seconds: number;
  readonly p50: number;
  readonly p99: number;
  readonly bytes: number;
  readonly cpu: number;
  /** CPU seconds the load generator (this process) spent. */
  readonly clientCpu: number;
  readonly peakRss: number;
}

/** A request target parsed before the clock starts, so URL parsing is not measured. */
interface Target { readonly host: string; readonly port: number; readonly path: string }

function targetOf(url: string): Target {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port), path: u.pathname + u.search };
}

function send(agent: Agent, method: string, target: Target, body: Buffer | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const method2 = method === 'LIST' ? 'GET' : method;
    const req = request({ ...target, method: method2, agent, headers: body ? { 'Content-Length': body.length } : {} }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => { bytes += d.length; });
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 300) reject(new Error(`${method} ${target.path} → ${res.statusCode}`));
        else resolve(bytes);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function measure(server: Server, op: Op, keys: readonly string[], body: Buffer | undefined, concurrency: number): Promise<Cell> {
  const urls = (await Promise.all(keys.map((k) => server.url(op, k)))).map(targetOf);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const pid = server.child.pid!;
  const latencies: number[] = [];
  let bytes = 0;
  let next = 0;
  let peakRss = rssMiB(pid);
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, rssMiB(pid)); }, 50);
  const cpuBefore = cpuSeconds(pid);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < urls.length) {
      const target = urls[next++]!;
      const t = performance.now();
      const received = await send(agent, op, target, body);
      bytes += received;
      latencies.push(performance.now() - t);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const client = process.cpuUsage(clientBefore);
  clearInterval(sampler);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return {
    requests: urls.length, seconds, p50: at(0.5), p99: at(0.99), bytes: body ? body.length * urls.length : bytes,
    cpu: cpuSeconds(pid) - cpuBefore, clientCpu: (client.user + client.system) / 1e6, peakRss: Math.max(peakRss, rssMiB(pid)),
  };
}

interface Scenario {
  readonly label: string;
  readonly size: number;
  readonly count: number;
  readonly concurrency: readonly number[];
}

const SCENARIOS: Record<string, Scenario> = {
  '4k': { label: '4 KiB', size: 4096, count: 10000, concurrency: [1, 32] },
  '1m': { label: '1 MiB', size: 1024 * 1024, count: 200, concurrency: [1, 8] },
  '256m': { label: '256 MiB', size: 256 * 1024 * 1024, count: 4, concurrency: [1, 2] },
};

/** The cells of the second-core comparison: CPU-bound ones, where a second worker can help. */
const CORE_CELLS: readonly { readonly size: string; readonly concurrency: number }[] = [
  { size: '4k', concurrency: 32 },
  { size: '1m', concurrency: 8 },
];

/** Requests per operation sent before measuring, for objects up to WARM_UP_MAX_SIZE. */
const WARM_UP_REQUESTS = 1000;
const WARM_UP_MAX_SIZE = 1024 * 1024;

function fmt(n: number, digits = 1): string {
  return n.toFixed(digits).padStart(9);
}

const rate = (x: Cell): number => x.requests / x.seconds;
const perReq = (seconds: number, x: Cell): string => (seconds * 1e6 / x.requests).toFixed(0).padStart(7);
const mib = (x: Cell): number => x.bytes / x.seconds / 1024 / 1024;

function header(a: string, b: string): string {
  const side = (name: string): string => `${`${name} req/s`.padStart(11)} ${'MiB/s'.padStart(9)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'µs/req'.padStart(7)} ${'gen µs'.padStart(7)} ${'rss MiB'.padStart(8)}`;
  return `${'op'.padEnd(7)}${'size'.padEnd(9)}${'conc'.padStart(5)} | ${side(a)} | ${side(b)} | ${'ratio'.padStart(6)} ${'range'.padStart(10)}`;
}

function median<T>(items: readonly T[], by: (x: T) => number): T {
  return [...items].sort((x, y) => by(x) - by(y))[Math.floor((items.length - 1) / 2)]!;
}

/** One cell: each server's median round, the median of the rounds' ratios and their range. */
function line(op: Op, s: Scenario, concurrency: number, rounds: readonly { a: Cell; b: Cell }[]): string {
  const side = (x: Cell): string => `${fmt(rate(x)).padStart(11)} ${fmt(mib(x))} ${fmt(x.p50, 2)} ${fmt(x.p99, 2)} ${perReq(x.cpu, x)} ${perReq(x.clientCpu, x)} ${x.peakRss.toFixed(0).padStart(8)}`;
  const ratios = rounds.map((r) => rate(r.a) / rate(r.b));
  const spread = `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`;
  return `${op.padEnd(7)}${s.label.padEnd(9)}${String(concurrency).padStart(5)} | ${side(median(rounds.map((r) => r.a), rate))} | ${side(median(rounds.map((r) => r.b), rate))} | ${median(ratios, (x) => x).toFixed(2).padStart(6)} ${spread.padStart(10)}`;
}

/**
 * One scenario at one concurrency on two servers, operation by operation (each
 * operation measured on both before the next), ROUNDS times; then a line per operation.
 */
async function compare(servers: readonly [Server, Server], name: string, concurrency: number, only: readonly Op[] | undefined): Promise<void> {
  const s = SCENARIOS[name];
  if (!s) throw new Error(`unknown size ${name}; choose from ${Object.keys(SCENARIOS).join(',')}`);
  const body = Buffer.alloc(s.size, 'cairn-bench-');
  const count = Math.max(2, Math.round(s.count * SCALE));
  const tag = `${servers[0].name}-${servers[1].name}`;
  // The PUTs load the objects the other operations read.
  const ops = (name === '4k' ? ['PUT', 'LIST', 'HEAD', 'GET', 'DELETE'] as const : ['PUT', 'HEAD', 'GET', 'DELETE'] as const)
    .filter((op) => !only || op === 'PUT' || only.includes(op));
  if (s.size <= WARM_UP_MAX_SIZE) {
    // Unmeasured: every server process compiles its code paths before the clock runs.
    const warm = Array.from({ length: Math.min(count, WARM_UP_REQUESTS) }, (_, i) => `warm/${tag}/${name}/c${concurrency}/obj-${i}`);
    for (const op of ops) for (const server of servers) await measure(server, op, op === 'LIST' ? warm.slice(0, 2) : warm, op === 'PUT' ? body : undefined, concurrency);
  }
  const cells = new Map<Op, { a: Cell; b: Cell }[]>(ops.map((op) => [op, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // Fresh keys: every round's reads are first reads, as in the first.
    const keys = Array.from({ length: count }, (_, i) => `bench/${tag}/${name}/c${concurrency}/r${round}/obj-${String(i).padStart(6, '0')}`);
    const [first, second] = round % 2 === 0 ? [servers[0], servers[1]] : [servers[1], servers[0]];
    for (const op of ops) {
      const opKeys = op === 'LIST' ? keys.slice(0, Math.max(2, Math.round(100 * SCALE))) : keys;
      const x = await measure(first, op, opKeys, op === 'PUT' ? body : undefined, concurrency);
      const y = await measure(second, op, opKeys, op === 'PUT' ? body : undefined, concurrency);
      cells.get(op)!.push(first === servers[0] ? { a: x, b: y } : { a: y, b: x });
    }
  }
  for (const op of ops) console.log(line(op, s, concurrency, cells.get(op)!));
}

function stop(servers: Server[], server: Server): void {
  const at = servers.indexOf(server);
  if (at >= 0) servers.splice(at, 1);
  server.child.kill('SIGTERM');
  rmSync(server.dir, { recursive: true, force: true });
}

interface StartupTimes {
  readonly import: number;
  readonly start: number;
  readonly firstRequest: number;
  readonly total: number;
}

/** The library from import to its first answered request, each way it runs: medians of fresh processes. */
async function startupTable(): Promise<void> {
  const run = promisify(execFile);
  const probe = join(HERE, 'startup-probe.js');
  console.log('Library startup (ms, median of ' + STARTUP_RUNS + ' fresh processes): import of the entry point, startCairn() (which loads the server\'s modules), first answered request (ListObjectsV2), total');
  console.log('way'.padEnd(22) + 'import'.padStart(9) + 'start'.padStart(9) + 'first req'.padStart(11) + 'total'.padStart(9) + '   range of totals');
  for (const [mode, store] of [['in-process', 'memory'], ['in-process', 'folder'], ['child', 'memory']] as const) {
    const runs: StartupTimes[] = [];
    for (let i = 0; i < STARTUP_RUNS; i++) {
      const { stdout } = await run(process.execPath, [probe, mode, store], { env: process.env });
      runs.push(JSON.parse(stdout) as StartupTimes);
    }
    const m = (by: (t: StartupTimes) => number): string => fmt(by(median(runs, by)), 0);
    const totals = runs.map((r) => r.total);
    console.log(`${mode}, ${store}`.padEnd(22) + m((t) => t.import) + m((t) => t.start) + m((t) => t.firstRequest).padStart(11) + m((t) => t.total)
      + `   ${Math.min(...totals).toFixed(0)}–${Math.max(...totals).toFixed(0)}`);
  }
  console.log('');
}

async function main(): Promise<void> {
  if (process.env.BENCH_STARTUP !== '0') await startupTable();
  const cairn = await startCairn();
  const started: Server[] = [cairn];
  try {
    const bare = await startBare();
    started.push(bare);
    console.log(header('cairn', 'bare'));
    for (const name of SIZES) for (const concurrency of SCENARIOS[name]?.concurrency ?? [0]) await compare([cairn, bare], name, concurrency, ONLY_OPS);
    console.log(`\nEach cell ran ${ROUNDS} time(s) on both servers; shown: each server's median round.`);
    console.log('ratio = median over the rounds of Cairn requests per second / bare server requests per second (same round); range = the lowest and highest round.');
    console.log('µs/req = server CPU (all its processes) per request; gen µs = the load generator\'s CPU per request (it shares the machine).');
    console.log('LIST on the bare server is a readdir; on Cairn a ListObjectsV2 page of up to 1000 keys.');
    stop(started, bare);
    if (CORES && cpus().length > 1) {
      const single = await startCairn(1);
      started.push(single);
      console.log(`\nSecond core: Cairn with one worker per core (${cpus().length}) against Cairn with one worker.`);
      console.log(header('cores', '1 worker'));
      for (const cell of CORE_CELLS) if (SIZES.includes(cell.size)) await compare([cairn, single], cell.size, cell.concurrency, ONLY_OPS);
      console.log('\nratio = median over the rounds of requests per second with a worker per core / with one worker (same round; the load generator takes its share of the cores).');
    }
  } finally {
    for (const server of [...started]) stop(started, server);
  }
}

await main();
