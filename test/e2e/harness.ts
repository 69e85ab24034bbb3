import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CAIRN_BIN = join(REPO, 'bin', 'cairn.js');
export const ROOT_KEY = { accessKeyId: 'CAIRNTESTROOTKEY0001', secretAccessKey: 'cairn-test-root-secret-key-0000000000000' };

export interface RunningServer {
  readonly endpoint: string;
  readonly port: number;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Everything the server printed on stdout so far. */
  output(): string;
  /** Everything the server printed on stderr so far (its JSON log lines). */
  logs(): string;
  /** Stops the server (SIGTERM) and, unless keepData, removes its data folder. */
  stop(options?: { keepData?: boolean }): Promise<void>;
  /** Kills the server at once, as a crash would. */
  kill(): Promise<void>;
}

export interface StartOptions {
  readonly dataDir?: string;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Start without root keys in the environment, so the server generates its own. */
  readonly generatedRoot?: boolean;
}

/** Starts a real Cairn process on an ephemeral loopback port with its own data folder. */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'cairn-test-'));
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (options.generatedRoot) {
    delete env.CAIRN_ROOT_ACCESS_KEY;
    delete env.CAIRN_ROOT_SECRET_KEY;
  } else {
    env.CAIRN_ROOT_ACCESS_KEY = ROOT_KEY.accessKeyId;
    env.CAIRN_ROOT_SECRET_KEY = ROOT_KEY.secretAccessKey;
  }
  const child = spawn(process.execPath, [CAIRN_BIN, 'server', '--data', dataDir, '--port', '0', '--admin-port', '0', '--workers', '1', '--log-level', 'warn', ...(options.args ?? [])], {
    env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stdout}\n${stderr}`)), 20_000);
    const check = (): void => {
      const m = /listening on (http\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${stdout}\n${stderr}`));
    });
  });
  return {
    endpoint,
    port: Number(new URL(endpoint).port),
    dataDir,
    child,
    output: () => stdout,
    logs: () => stderr,
    async stop(stopOptions = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      if (!stopOptions.keepData && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** An SDK v3 client with its default settings (checksums, signing) against a Cairn server. */
export function s3Client(server: RunningServer, credentials = ROOT_KEY): S3Client {
  return new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
}

/** Runs `node bin/cairn.js …` to completion and returns its output. */
export async function runCairn(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CAIRN_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}
