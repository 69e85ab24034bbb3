/**
 * The package as npm publishes it: `npm pack` holds what runs and nothing
 * else, and the packed tarball, unpacked into a fresh project beside nothing but
 * its runtime dependencies (no dev dependencies, no registry), runs the README's
 * library example.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from './harness.js';
import { walk } from './s3-helpers.js';

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };
let work: string;
let tarball: string;
let packed: string[];

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'cairn-pack-'));
  // The build is already there (the tests run from it): packing need not run it again.
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
  const [result] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, result!.filename);
  packed = result!.files.map((f) => f.path).sort();
});

after(() => rmSync(work, { recursive: true, force: true }));

test('npm pack holds the built library, its types, the command and the documents, and nothing else', () => {
  for (const needed of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'bin/cairn.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'dist/src/store/md5-worker.js']) {
    assert.ok(packed.includes(needed), `${needed} is packed`);
  }
  const strays = packed.filter((p) => !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'bin/cairn.js'].includes(p) && !/^dist\/src\/.+\.(js|d\.ts)$/.test(p));
  assert.deepEqual(strays, [], 'no tests, sources, source maps or benchmarks');
  const built = walk(join(REPO, 'dist', 'src')).filter((p) => p.endsWith('.js')).map((p) => `dist/src/${p}`);
  assert.deepEqual(built.filter((p) => !packed.includes(p)), [], 'every built module is packed');
  const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(manifest.private, undefined);
  assert.deepEqual(manifest.engines, { node: '^20.12.0 || ^22.0.0 || ^24.0.0' });
});

/** A project with the tarball unpacked as node_modules/cairn and only its runtime dependencies beside it. */
async function projectWithPackage(): Promise<string> {
  const project = join(work, 'project');
  const modules = join(project, 'node_modules');
  mkdirSync(join(modules, 'cairn'), { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', join(modules, 'cairn'), '--strip-components=1']);
  for (const dep of Object.keys(pkg.dependencies)) link(join(REPO, 'node_modules', dep), join(modules, dep));
  // The user's own code lives one level down, with the SDK as the user's dependency: Cairn cannot reach it.
  const app = join(project, 'app');
  link(join(REPO, 'node_modules', '@aws-sdk', 'client-s3'), join(app, 'node_modules', '@aws-sdk', 'client-s3'));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  return app;
}

function link(target: string, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(target, path, 'dir');
}

/** The fenced js block that follows the README's library-example marker. */
function readmeExample(): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const m = /<!-- library-example:[^>]*-->\n```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, 'the README has the library example');
  return m[1]!;
}

test('the packed tarball, installed without dev dependencies, runs the README example', async () => {
  const app = await projectWithPackage();
  writeFileSync(join(app, 'example.mjs'), readmeExample());
  const { stdout } = await run(process.execPath, ['example.mjs'], { cwd: app, timeout: 60_000 });
  assert.equal(stdout.trim(), 'Hello from Cairn');
  // What is not exported stays private, and the command is there.
  await assert.rejects(run(process.execPath, ['--input-type=module', '-e', "await import('cairn/dist/src/cli/server.js')"], { cwd: app }), /ERR_PACKAGE_PATH_NOT_EXPORTED/);
  const help = await run(process.execPath, [join(app, '..', 'node_modules', 'cairn', 'bin', 'cairn.js'), 'server', '--help'], { cwd: app });
  assert.match(help.stdout, /--memory/);
});
