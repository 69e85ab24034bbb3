import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { environmentOf, type Plan } from './options.js';
import type { Started } from './in-process.js';

/** The package's own command, next to dist/ wherever the package is installed. */
const CAIRN_BIN = fileURLToPath(new URL('../../../bin/cairn.js', import.meta.url));
/** How long a child may take to listen, and to stop before it is killed. */
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
/** What is kept of the child's output to explain a failed start. */
const OUTPUT_KEPT = 64 * 1024;

/**
 * Runs `cairn server` in a child process, its settings in the environment
 * (none of the parent's CAIRN_ variables leak in); resolves once it listens.
 */
export async function startChild(plan: Plan): Promise<Started> {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('CAIRN_')) env[name] = value;
  Object.assign(env, environmentOf(plan.flags));
  const child = spawn(process.execPath, [CAIRN_BIN, 'server'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_KEPT);
  };
  child.stderr.on('data', (chunk: Buffer) => {
    keep(chunk);
    // Logs reach the parent's stderr as the server's own would.
    if (plan.config.logLevel !== 'silent') process.stderr.write(chunk);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`startCairn: the server did not start within ${START_TIMEOUT_MS} ms:\n${output}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      keep(chunk);
      const m = /^Cairn listening on http:\/\/\S+:(\d+)$/m.exec(output);
      if (!m) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      // Later output is read and dropped, so the child never blocks on a full pipe.
      child.stdout.off('data', onData);
      child.stdout.resume();
      resolve(Number(m[1]));
    };
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`startCairn: the server exited with code ${code}:\n${output.trim()}`));
    };
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
  return {
    port,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), (plan.config.shutdownTimeout * 1000) + STOP_GRACE_MS);
      await exited;
      clearTimeout(killer);
    },
  };
}
