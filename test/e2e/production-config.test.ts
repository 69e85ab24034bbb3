/**
 * Configuration as an operator meets it: flags win over CAIRN_* variables, which
 * win over the JSON file; bad values stop the server with a message naming the
 * setting and where it came from; `cairn server --help` lists every setting.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { CAIRN_BIN, ROOT_KEY, s3Client, startServer } from './harness.js';
import { adminUrl } from './production-helpers.js';
import { serverOptions } from '../../src/cli/config.js';

const dir = mkdtempSync(join(tmpdir(), 'cairn-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** The region a new bucket reports: the endpoint's own region, as configured. */
async function regionOf(args: string[], env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const server = await startServer({ args, env });
  const s3 = s3Client(server);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'where' }));
    return (await s3.send(new HeadBucketCommand({ Bucket: 'where' }))).BucketRegion;
  } finally {
    s3.destroy();
    await server.stop();
  }
}

/** Runs `cairn server …` expecting it to refuse its configuration. */
function refusedStart(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  const data = mkdtempSync(join(dir, 'data-'));
  const child = spawn(process.execPath, [CAIRN_BIN, 'server', '--data', data, '--port', '0', '--admin-port', '0', ...args], {
    env: { ...process.env, CAIRN_ROOT_ACCESS_KEY: ROOT_KEY.accessKeyId, CAIRN_ROOT_SECRET_KEY: ROOT_KEY.secretAccessKey, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve) => child.once('exit', (code) => {
    clearTimeout(timer);
    resolve({ code, stderr });
  }));
}

test('a flag wins over the environment, which wins over the config file', async () => {
  const file = configFile('region.json', { region: 'eu-north-1' });
  assert.equal(await regionOf(['--config', file, '--region', 'ca-central-1'], { CAIRN_REGION: 'ap-south-1' }), 'ca-central-1');
  assert.equal(await regionOf(['--config', file], { CAIRN_REGION: 'ap-south-1' }), 'ap-south-1');
  assert.equal(await regionOf([], { CAIRN_CONFIG: file }), 'eu-north-1');
  assert.equal(await regionOf([], {}), 'us-east-1');
});

test('bad values stop the server with the setting and its source named', async () => {
  const flag = await refusedStart(['--gc-grace', 'soon']);
  assert.notEqual(flag.code, 0);
  assert.match(flag.stderr, /invalid value "soon" for --gc-grace: expected a whole number/);

  const env = await refusedStart([], { CAIRN_LOG_LEVEL: 'chatty' });
  assert.notEqual(env.code, 0);
  assert.match(env.stderr, /invalid value "chatty" for CAIRN_LOG_LEVEL: expected one of fatal, error, warn, info/);

  const badFile = configFile('bad-workers.json', { workers: 'many' });
  const file = await refusedStart(['--config', badFile]);
  assert.notEqual(file.code, 0);
  assert.ok(file.stderr.includes(`invalid value "many" for workers in ${badFile}`), file.stderr);

  const unknown = await refusedStart(['--config', configFile('unknown.json', { prot: 9000 })]);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /unknown setting prot/);

  const notJson = await refusedStart(['--config', configFile('broken.json', '{"port": ')]);
  assert.notEqual(notJson.code, 0);
  assert.match(notJson.stderr, /cannot read config file .*broken\.json/);

  const halfTls = await refusedStart(['--tls-cert', join(dir, 'cert.pem')]);
  assert.notEqual(halfTls.code, 0);
  assert.match(halfTls.stderr, /--tls-cert and --tls-key go together/);
});

test('a port already taken stops a second server with one line naming the setting and its value', async () => {
  const first = await startServer();
  try {
    const adminPort = new URL(adminUrl(first)).port;
    const admin = await refusedStart(['--admin-port', adminPort, '--workers', '1']);
    assert.equal(admin.code, 1);
    assert.equal(admin.stderr, `cairn server: cannot listen on 127.0.0.1:${adminPort} (--admin-port ${adminPort}): the port is already in use\n`);
    // With workers the primary reports it once instead of replacing workers that cannot listen.
    const s3 = await refusedStart(['--port', String(first.port), '--workers', '2']);
    assert.equal(s3.code, 1);
    assert.equal(s3.stderr, `cairn server: cannot listen on 127.0.0.1:${first.port} (--port ${first.port}): the port is already in use\n`);
  } finally {
    await first.stop();
  }
});

test('cairn server --help lists every setting of the schema with its variable', async () => {
  const child = spawn(process.execPath, [CAIRN_BIN, 'server', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let help = '';
  child.stdout.on('data', (d: Buffer) => { help += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0);
  const options = serverOptions();
  assert.ok(options.length > 15);
  for (const option of options) {
    const flag = option.flags.split(' ')[0]!;
    assert.ok(help.includes(flag), `--help mentions ${flag}`);
    const variable = /\(env (CAIRN_[A-Z_]+)/.exec(option.description)?.[1];
    assert.ok(variable !== undefined && help.includes(variable), `--help names the variable for ${flag}`);
  }
});
