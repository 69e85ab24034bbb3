import { startServer } from '../cli/server.js';
import { createLogger } from '../observability/log.js';
import type { Plan } from './options.js';

/** A running server's address, and how to stop it. */
export interface Started {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Runs Cairn inside this process: the same server `cairn server --workers 1` runs. */
export async function startInProcess(plan: Plan): Promise<Started> {
  const started = await startServer(plan.config, createLogger(plan.config.logLevel), true);
  return { port: started.ports.http, pid: process.pid, stop: () => started.stop() };
}
