/**
 * Helpers for the production tests: the endpoints a server printed, its JSON
 * log lines, raw HTTP to the admin port, a throwaway CA made with the openssl
 * CLI, and bounded polling.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningServer } from './harness.js';

/** The URL printed after `label` ("Admin endpoint on", "listening on https"…). */
export function printedUrl(server: RunningServer, pattern: RegExp): string {
  const m = pattern.exec(server.output());
  if (!m) throw new Error(`no ${String(pattern)} in the server's output:\n${server.output()}`);
  return m[1]!;
}

export function adminUrl(server: RunningServer): string {
  return printedUrl(server, /Admin endpoint on (http:\/\/\S+)/);
}

export function httpsUrl(server: RunningServer): string {
  return printedUrl(server, /listening on (https:\/\/\S+)/);
}

/** A JSON log line as pino writes it. */
export interface LogLine {
  readonly level: number;
  readonly pid: number;
  readonly msg: string;
  readonly requestId?: string;
  readonly [field: string]: unknown;
}

/** Every JSON line the server wrote on stderr so far (anything else is kept out). */
export function logLines(server: RunningServer): LogLine[] {
  return server.logs().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
}

/** GET (or another method) on a plain-HTTP URL: status, headers and body text. */
export function fetchText(url: string, method = 'GET'): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Polls `check` every 100 ms until it returns a value other than undefined, failing after `ms`. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Which process answered each request id, from the access log (needs --log-level info). */
export function pidByRequestId(server: RunningServer): Map<string, number> {
  return new Map(logLines(server).filter((l) => l.msg === 'request' && l.requestId).map((l) => [l.requestId!, l.pid]));
}

/**
 * Sends batches of requests on fresh connections until `count` worker processes
 * answer them: each worker boots on its own, so the first to listen can take
 * every connection for a while. Resolves with their pids (access log at info).
 */
export async function waitForWorkers(server: RunningServer, count: number): Promise<Set<number>> {
  return waitFor(`${count} workers serving new connections`, async () => {
    const ids = await Promise.all(Array.from({ length: 4 * count }, async () => String((await fetchText(`${server.endpoint}/`)).headers['x-amz-request-id'])));
    const byId = await waitFor('the access-log lines', () => {
      const map = pidByRequestId(server);
      return ids.every((id) => map.has(id)) ? map : undefined;
    });
    const pids = new Set(ids.map((id) => byId.get(id)!));
    return pids.size >= count ? pids : undefined;
  });
}

/** The value of one Prometheus sample (labels given in order of the exposition), or undefined. */
export function sample(metrics: string, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  const wanted = Object.entries(labels);
  for (const line of metrics.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (wanted.every(([k, v]) => have.get(k) === v) && (wanted.length > 0 || have.size === 0)) return Number(m[3]);
  }
  return undefined;
}

function openssl(dir: string, args: readonly string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A throwaway CA in `dir`: `<name>-ca.pem` and its key. */
export function makeCa(dir: string, name: string): { cert: string; key: string } {
  openssl(dir, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-keyout', `${name}-ca.key`, '-out', `${name}-ca.pem`, '-subj', `/CN=Cairn test CA ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert: join(dir, `${name}-ca.pem`), key: join(dir, `${name}-ca.key`) };
}

/** A server certificate for 127.0.0.1 and localhost signed by `ca`: `<name>.pem` and `<name>.key` in `dir`. */
export function makeServerCert(dir: string, ca: { cert: string; key: string }, name: string): { cert: string; key: string } {
  writeFileSync(join(dir, `${name}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=localhost']);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', String(Date.now()), '-days', '2', '-out', `${name}.pem`, '-extfile', `${name}.ext`]);
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
}
