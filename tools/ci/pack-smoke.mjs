#!/usr/bin/env node
// Pack smoke test: proves the published packages work for a user who installs them from npm.
//
// 1. `pnpm pack` every publishable package (packages/*, not private) into a temp folder and check
//    each tarball: README, package.json with every `workspace:` range rewritten to a version, every
//    file its `main` / `types` / `bin` / `exports` point to, core's `conformance/` data, and no test
//    files or fixtures.
// 2. In a scratch project OUTSIDE the workspace (the OS temp folder), `npm install` ONLY the
//    @siamese/core and @siamese/backend-onnx tarballs, with --omit=dev --ignore-scripts (no
//    workspace links, no dev dependencies, no onnxruntime download: its CPU build ships in the
//    package), then build a tiny Siamese model, save it as a model artifact, load it with
//    OnnxSiamese and score two images.
// 3. The same from CommonJS: a TypeScript project in that scratch folder without "type": "module"
//    (tsconfig `module: nodenext`), compiled with tsc against the installed packages' types to
//    require() calls and run with node, loads the artifact and scores a pair. Node >= 20.19 loads
//    the packages' ESM through require(); each `exports` entry has a `default` condition for it.
// 4. The CLI without TensorFlow.js: in a second scratch project, `npm install` the @siamese/cli
//    tarball with core, datasets, backend-onnx, backend-torch, gallery, serve and web, and not @siamese/backend-tfjs (its optional
//    peer): no @tensorflow package may be installed; `siamese --help`, `doctor`, `info`, `compare`
//    `export --web`, and a short `train` (on onnxruntime) run, and `train --backend tfjs` stops with one line
//    saying what to install.
//
// It builds nothing: run it after `pnpm build` (CI runs it after the tests and the docs build).
// Exits non-zero with one line per problem. `--keep` leaves the temp folders for a look.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KEEP = process.argv.includes('--keep');
/** The packages the scratch project installs: what a user needs to score with a trained model. */
const USER_INSTALL = ['@siamese/core', '@siamese/backend-onnx'];
/** The packages the CLI's scratch project installs: the CLI and its dependencies, without tfjs. */
const CLI_INSTALL = [
  '@siamese/cli',
  '@siamese/core',
  '@siamese/datasets',
  '@siamese/backend-onnx',
  '@siamese/backend-torch',
  '@siamese/gallery',
  '@siamese/serve',
  '@siamese/web',
];
const started = Date.now();
const problems = [];

function fail(message) {
  problems.push(message);
  console.error(`pack-smoke: FAIL ${message}`);
}

function step(message) {
  console.log(`pack-smoke: ${message} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

function finish() {
  if (problems.length > 0) {
    console.error(`pack-smoke: ${problems.length} problem(s); the packages are not fit to publish.`);
    process.exit(1);
  }
  step('OK');
}

/** Runs a command; on failure, reports its output and stops. */
function run(cmd, args, options) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
  } catch (e) {
    const output = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    fail(
      `\`${cmd} ${args.join(' ')}\` in ${options?.cwd ?? ROOT} exited with ${e.status ?? e.signal}:\n${output}`,
    );
    finish();
  }
}

/** Entries of a .tgz: path (without the leading `package/`) -> contents. */
function readTarball(file) {
  const tar = gunzipSync(readFileSync(file));
  const entries = new Map();
  let paxPath;
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start, length) =>
      header
        .subarray(start, start + length)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const prefix = field(345, 155);
    const body = tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
      continue;
    }
    const name = paxPath ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    paxPath = undefined;
    if (type === '0' || type === '' || type === '\0') entries.set(name.replace(/^package\//, ''), body);
  }
  return entries;
}

/** Files the manifest promises: main, types, bin and every `exports` target. */
function promisedFiles(manifest) {
  const targets = new Set();
  const add = (t) => typeof t === 'string' && targets.add(t.replace(/^\.\//, ''));
  add(manifest.main);
  add(manifest.types);
  for (const t of Object.values(
    typeof manifest.bin === 'string' ? { bin: manifest.bin } : (manifest.bin ?? {}),
  ))
    add(t);
  const walk = (node) => {
    if (typeof node === 'string') add(node);
    else if (node && typeof node === 'object') for (const v of Object.values(node)) walk(v);
  };
  walk(manifest.exports);
  return [...targets];
}

/**
 * `exports` entries with an `import` condition but nothing a require() matches: a CommonJS
 * consumer gets ERR_PACKAGE_PATH_NOT_EXPORTED. (`default` after `import`, at the same ESM file,
 * lets Node >= 20.19 require() it.)
 */
function esmOnlyExports(manifest) {
  const bad = [];
  for (const [path, target] of Object.entries(manifest.exports ?? {})) {
    if (!target || typeof target !== 'object') continue;
    const keys = Object.keys(target);
    if ('import' in target && !('require' in target) && !('default' in target)) bad.push(path);
    else if ('default' in target && keys.at(-1) !== 'default') bad.push(`${path} (default is not last)`);
  }
  return bad;
}

function globToRegExp(glob) {
  return new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]+')}$`);
}

const TEST_FILE =
  /(^|\/)(__fixtures__|__tests__|__snapshots__)\/|\.test\.[cm]?[jt]sx?(\.map)?$|\.spec\.[cm]?[jt]sx?$|\.vitest-results\.json$|(^|\/)vitest\.config\./;
const DEP_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'];

function checkTarball(dir, file, workspaceVersions) {
  const source = JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8'));
  const where = `${source.name} (${file.split('/').at(-1)})`;
  const entries = readTarball(file);
  const names = [...entries.keys()];
  const packed = entries.has('package.json')
    ? JSON.parse(entries.get('package.json').toString('utf8'))
    : undefined;
  if (!packed) return fail(`${where}: no package.json`);
  if (packed.name !== source.name || packed.version !== source.version)
    fail(
      `${where}: package.json says ${packed.name}@${packed.version}, the workspace ${source.name}@${source.version}`,
    );
  if (!names.includes('README.md')) fail(`${where}: no README.md`);
  if (!names.some((n) => n.startsWith('dist/'))) fail(`${where}: no dist/ (was the package built?)`);
  for (const target of promisedFiles(packed)) {
    const found = target.includes('*')
      ? names.some((n) => globToRegExp(target).test(n))
      : entries.has(target);
    if (!found) fail(`${where}: package.json points to '${target}', which is not in the tarball`);
  }
  const esmOnly = esmOnlyExports(packed);
  if (esmOnly.length)
    fail(`${where}: exports ${esmOnly.join(', ')} cannot be require()d (no default or require condition)`);
  const tests = names.filter((n) => TEST_FILE.test(n));
  if (tests.length > 0)
    fail(
      `${where}: ships test files or fixtures: ${tests.slice(0, 5).join(', ')}${tests.length > 5 ? ', ...' : ''}`,
    );
  // src/ ships on purpose: dist's source maps and declaration maps point into it.
  if (names.some((n) => n.startsWith('src/')) && !names.some((n) => n.endsWith('.js.map'))) {
    fail(`${where}: ships src/ without source maps that need it`);
  }
  if (names.some((n) => n.endsWith('.tsbuildinfo'))) fail(`${where}: ships a .tsbuildinfo`);
  for (const field of DEP_FIELDS) {
    for (const [dep, range] of Object.entries(packed[field] ?? {})) {
      if (String(range).startsWith('workspace:'))
        fail(`${where}: ${field}.${dep} is still '${range}' (pnpm pack should have rewritten it)`);
      else if (workspaceVersions.has(dep) && field !== 'devDependencies') {
        const v = workspaceVersions.get(dep);
        if (!new RegExp(`^[\\^~]?${v.replaceAll('.', '\\.')}$`).test(range))
          fail(`${where}: ${field}.${dep} is '${range}', but the workspace has ${dep}@${v}`);
      }
    }
  }
  if (source.name === '@siamese/core') {
    const data = names.filter((n) => /^conformance\/[^/]+\.json$/.test(n));
    if (data.length === 0) fail(`${where}: no conformance/*.json (the op cases every backend runs)`);
    if (!names.some((n) => n.startsWith('conformance/models/')))
      fail(`${where}: no conformance/models/ (the PyTorch parity fixture)`);
  }
  const buildInfo = names.filter((n) => n.endsWith('.tsbuildinfo'));
  const size = [...entries.values()].reduce((a, b) => a + b.length, 0);
  console.log(
    `  ${source.name}@${packed.version}: ${names.length} files, ${(size / 1024).toFixed(0)} KiB unpacked` +
      (buildInfo.length ? ` (note: ships ${buildInfo.join(', ')})` : ''),
  );
}

// 1. Pack.
const packages = readdirSync(join(ROOT, 'packages'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'packages', d.name, 'package.json')))
  .map((d) => ({
    dir: d.name,
    manifest: JSON.parse(readFileSync(join(ROOT, 'packages', d.name, 'package.json'), 'utf8')),
  }))
  .filter((p) => !p.manifest.private);
const workspaceVersions = new Map(packages.map((p) => [p.manifest.name, p.manifest.version]));
for (const name of USER_INSTALL)
  if (!workspaceVersions.has(name)) fail(`no publishable package ${name} under packages/`);
if (problems.length) finish();

for (const name of CLI_INSTALL)
  if (!workspaceVersions.has(name)) fail(`no publishable package ${name} under packages/`);
if (problems.length) finish();

const packDir = mkdtempSync(join(tmpdir(), 'siamese-pack-'));
const scratch = mkdtempSync(join(tmpdir(), 'siamese-user-'));
const cliScratch = mkdtempSync(join(tmpdir(), 'siamese-cli-user-'));
process.on('exit', () => {
  if (KEEP) console.log(`pack-smoke: kept ${packDir}, ${scratch} and ${cliScratch}`);
  else for (const d of [packDir, scratch, cliScratch]) rmSync(d, { recursive: true, force: true });
});
step(`packing ${packages.length} packages into ${packDir}`);
const tarballs = new Map();
for (const p of packages) {
  const before = new Set(readdirSync(packDir));
  run('pnpm', ['pack', '--pack-destination', packDir], { cwd: join(ROOT, 'packages', p.dir) });
  const made = readdirSync(packDir).filter((f) => f.endsWith('.tgz') && !before.has(f));
  if (made.length !== 1) {
    fail(`${p.manifest.name}: pnpm pack made ${made.length} tarballs (${made.join(', ')})`);
    continue;
  }
  const file = join(packDir, made[0]);
  tarballs.set(p.manifest.name, file);
  checkTarball(p.dir, file, workspaceVersions);
}
if (problems.length) finish();

// 2. Install as a user would, outside the workspace.
const rel = relative(ROOT, realpathSync(scratch));
if (!rel.startsWith('..') && !rel.startsWith('/')) {
  fail(`the scratch project ${scratch} is inside the workspace ${ROOT}; set TMPDIR elsewhere`);
  finish();
}
const NPM_INSTALL = [
  'install',
  '--omit=dev',
  '--ignore-scripts',
  '--no-audit',
  '--no-fund',
  '--prefer-offline',
  '--loglevel=error',
];
writeFileSync(
  join(scratch, 'package.json'),
  `${JSON.stringify(
    {
      name: 'siamese-pack-smoke',
      private: true,
      type: 'module',
      dependencies: Object.fromEntries(USER_INSTALL.map((n) => [n, `file:${tarballs.get(n)}`])),
    },
    null,
    2,
  )}\n`,
);
// Drop what a `pnpm run` around this script injects (its user agent, the workspace's package
// fields); settings the machine gives npm (registry, cache) stay.
const PNPM_RUN_ENV =
  /^(npm_package_|npm_lifecycle_|pnpm_|npm_command$|npm_execpath$|npm_node_execpath$|npm_config_user_agent$|npm_config_verify_deps_before_run$)/i;
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !PNPM_RUN_ENV.test(k)));
step(`npm install ${USER_INSTALL.join(' + ')} in ${scratch}`);
run('npm', NPM_INSTALL, { cwd: scratch, env });

/**
 * What got installed in `dir`: exactly `wanted` of our packages, from our tarballs (not a registry
 * package of the same name), as real folders, once each, and no dev dependencies. The lockfile.
 */
function checkInstalled(dir, wanted) {
  const lock = JSON.parse(readFileSync(join(dir, 'node_modules', '.package-lock.json'), 'utf8'));
  for (const name of wanted) {
    const entry = lock.packages[`node_modules/${name}`];
    const where = join(dir, 'node_modules', name);
    if (!entry) fail(`${name} is not installed in the scratch project ${dir}`);
    else if (!String(entry.resolved ?? '').startsWith('file:'))
      fail(`${name} came from ${entry.resolved}, not from the packed tarball`);
    else if (lstatSync(where).isSymbolicLink()) fail(`${name} is installed as a link (${where})`);
  }
  const nested = Object.keys(lock.packages).filter((k) =>
    /node_modules\/@siamese\/.*node_modules\/@siamese\//.test(k),
  );
  if (nested.length) fail(`a second copy of a @siamese package was installed: ${nested.join(', ')}`);
  const dev = Object.entries(lock.packages).filter(([, e]) => e.dev);
  if (dev.length) fail(`dev dependencies were installed: ${dev.map(([k]) => k).join(', ')}`);
  const extra = Object.keys(lock.packages).filter(
    (k) => k.startsWith('node_modules/@siamese/') && !wanted.includes(k.slice('node_modules/'.length)),
  );
  if (extra.length) fail(`packages beyond ${wanted.join(', ')} were installed: ${extra.join(', ')}`);
  console.log(`  ${Object.keys(lock.packages).length - 1} packages installed`);
  return lock;
}
checkInstalled(scratch, USER_INSTALL);
if (problems.length) finish();

// 2, continued. Use them: build, save, load, score.
const script = `
import { defaultPreprocessing, initWeights, loadModel, saveModel, siamese, tensor } from '@siamese/core';
import { closeEnough, loadConformanceCases } from '@siamese/core/conformance';
import { OnnxSiamese, describeDevice } from '@siamese/backend-onnx';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';

const check = (ok, message) => { if (!ok) { console.error('FAIL ' + message); process.exitCode = 1; } };
const config = { encoder: 'resnet10_w8', input: { channels: 1, height: 32, width: 32 } };
const graph = siamese(config);
const dir = join(mkdtempSync('model-'), 'model');
await saveModel(dir, {
  graph,
  config,
  preprocessing: defaultPreprocessing(config.input),
  threshold: { probability: 0.5, method: 'fixed' },
  weights: initWeights(graph, 42),
});
check((await loadModel(dir)).weights.size > 0, 'loadModel read no weights');

const model = await OnnxSiamese.load(dir, { device: 'cpu', threads: 1 });
const n = 2;
const image = (seed) => tensor([n, 1, 32, 32], Array.from({ length: n * 32 * 32 }, (_, i) => Math.sin(i * seed)));
const a = image(0.37);
const b = image(1.91);
const ab = await model.score(a, b);
const ba = await model.score(b, a);
check(ab.probability.length === n, 'score gave ' + ab.probability.length + ' probabilities for ' + n + ' pairs');
for (const p of ab.probability) check(Number.isFinite(p) && p >= 0 && p <= 1, 'probability ' + p + ' is not in [0, 1]');
check(Array.isArray(ab.same) && ab.same.length === n, 'no same/different decision from the stored threshold');
// absdiff (the default combine) is symmetric: score(a, b) = score(b, a).
const sym = closeEnough(ba.probability, { shape: [n, 1], data: Array.from(ab.probability) }, { atol: 1e-6, rtol: 1e-5 });
check(sym.ok, 'score(a, b) and score(b, a) differ: ' + sym.message);
const embedded = await model.embed(a);
check(embedded.shape[0] === n && embedded.shape[1] === model.embeddingSize, 'embed gave shape [' + embedded.shape + ']');
const cases = await loadConformanceCases();
check(cases.length > 0, '@siamese/core/conformance loaded no cases');
console.log('  ' + describeDevice(await model.device()) + '; probabilities ' + Array.from(ab.probability, (p) => p.toFixed(4)).join(', ') + '; ' + cases.length + ' conformance cases');
await model.dispose();
`;
writeFileSync(join(scratch, 'smoke.mjs'), script);
step('scoring two images with the installed packages');
process.stdout.write(run(process.execPath, ['smoke.mjs'], { cwd: scratch, env }));

// 3. CommonJS: a TypeScript project without "type": "module", compiled by tsc to require() calls
// against the installed packages and their types. tsc and @types/node are the workspace's (dev
// tools, not something the packages need at run time).
const cjs = join(scratch, 'cjs');
mkdirSync(join(cjs, 'src'), { recursive: true });
writeFileSync(
  join(cjs, 'package.json'),
  `${JSON.stringify({ name: 'siamese-pack-smoke-cjs', private: true }, null, 2)}\n`,
);
writeFileSync(
  join(cjs, 'tsconfig.json'),
  `${JSON.stringify(
    {
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        strict: true,
        rootDir: 'src',
        outDir: 'dist',
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      include: ['src'],
    },
    null,
    2,
  )}\n`,
);
writeFileSync(
  join(cjs, 'src', 'smoke.ts'),
  `// A CommonJS module (its package.json has no "type"): tsc turns these imports into require().
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeDevice, OnnxSiamese } from '@siamese/backend-onnx';
import {
  defaultPreprocessing,
  initWeights,
  loadModel,
  type SiameseConfig,
  saveModel,
  siamese,
  tensor,
} from '@siamese/core';
import { closeEnough, loadConformanceCases } from '@siamese/core/conformance';

function check(ok: boolean, message: string): void {
  if (!ok) {
    console.error('FAIL ' + message);
    process.exitCode = 1;
  }
}

async function main(): Promise<void> {
  check(typeof require === 'function' && typeof module === 'object', 'this is not running as CommonJS');
  const config: SiameseConfig = { encoder: 'resnet10_w8', input: { channels: 1, height: 32, width: 32 } };
  const graph = siamese(config);
  const dir = join(mkdtempSync(join(tmpdir(), 'siamese-cjs-model-')), 'model');
  await saveModel(dir, {
    graph,
    config,
    preprocessing: defaultPreprocessing(config.input),
    threshold: { probability: 0.5, method: 'fixed' },
    weights: initWeights(graph, 42),
  });
  check((await loadModel(dir)).weights.size > 0, 'loadModel read no weights');
  const model = await OnnxSiamese.load(dir, { device: 'cpu', threads: 1 });
  const n = 2;
  const image = (seed: number) =>
    tensor([n, 1, 32, 32], Array.from({ length: n * 32 * 32 }, (_, i) => Math.sin(i * seed)));
  const a = image(0.37);
  const b = image(1.91);
  const ab = await model.score(a, b);
  const ba = await model.score(b, a);
  check(ab.probability.length === n, 'score gave ' + ab.probability.length + ' probabilities for ' + n + ' pairs');
  for (const p of ab.probability) check(p >= 0 && p <= 1, 'probability ' + p + ' is not in [0, 1]');
  const sym = closeEnough(ba.probability, { shape: [n, 1], data: Array.from(ab.probability) }, { atol: 1e-6, rtol: 1e-5 });
  check(sym.ok, 'score(a, b) and score(b, a) differ: ' + sym.message);
  const cases = await loadConformanceCases();
  check(cases.length > 0, '@siamese/core/conformance loaded no cases');
  console.log(
    '  CommonJS: ' + describeDevice(await model.device()) + '; probabilities ' +
      Array.from(ab.probability, (p) => p.toFixed(4)).join(', ') + '; ' + cases.length + ' conformance cases',
  );
  await model.dispose();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
`,
);
step('compiling a CommonJS TypeScript project against the installed packages');
run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', cjs], { cwd: cjs, env });
const emitted = readFileSync(join(cjs, 'dist', 'smoke.js'), 'utf8');
for (const name of ['@siamese/core', '@siamese/core/conformance', '@siamese/backend-onnx']) {
  if (!emitted.includes(`require("${name}")`)) fail(`the CommonJS build does not require("${name}")`);
}
if (/\bimport\s*\(/.test(emitted)) fail('the CommonJS build kept a dynamic import()');
process.stdout.write(run(process.execPath, [join('dist', 'smoke.js')], { cwd: cjs, env }));
if (problems.length) finish();

// 4. The CLI without TensorFlow.js, in a second scratch project.
writeFileSync(
  join(cliScratch, 'package.json'),
  `${JSON.stringify(
    {
      name: 'siamese-pack-smoke-cli',
      private: true,
      type: 'module',
      dependencies: Object.fromEntries(CLI_INSTALL.map((n) => [n, `file:${tarballs.get(n)}`])),
    },
    null,
    2,
  )}\n`,
);
step(`npm install ${CLI_INSTALL.join(' + ')} (no @siamese/backend-tfjs) in ${cliScratch}`);
run('npm', NPM_INSTALL, { cwd: cliScratch, env });
const cliLock = checkInstalled(cliScratch, CLI_INSTALL);
const tensorflow = Object.keys(cliLock.packages).filter((k) => /(^|\/)node_modules\/@tensorflow\//.test(k));
if (tensorflow.length) fail(`the CLI installed TensorFlow.js packages: ${tensorflow.join(', ')}`);
if (existsSync(join(cliScratch, 'node_modules', '@tensorflow')))
  fail('the CLI scratch project has a node_modules/@tensorflow folder');
if (cliLock.packages['node_modules/@siamese/backend-tfjs']) fail('the CLI installed @siamese/backend-tfjs');
const size = run('du', ['-sh', 'node_modules'], { cwd: cliScratch }).split(/\s/)[0];
console.log(`  no @tensorflow package installed; node_modules is ${size}`);
if (problems.length) finish();

const bin = join(cliScratch, 'node_modules', '.bin', 'siamese');
/** Runs the installed `siamese`; its exit code, stdout and stderr (no failure here: callers judge). */
function siamese(args) {
  const r = spawnSync(bin, args, { cwd: cliScratch, env, encoding: 'utf8' });
  return {
    code: r.status,
    out: r.stdout ?? '',
    err: r.stderr ?? '',
    all: `${r.stdout ?? ''}${r.stderr ?? ''}`,
  };
}
function expectRun(args, code, pattern, what) {
  const r = siamese(args);
  if (r.code !== code || !pattern.test(r.all))
    fail(
      `\`siamese ${args.join(' ')}\` ${what}: exit code ${r.code} (wanted ${code}), output:\n${r.all.trim().split('\n').slice(-15).join('\n')}`,
    );
  if (/already registered|has already been set/.test(r.all))
    fail(`\`siamese ${args.join(' ')}\` printed tfjs registration noise`);
  return r;
}
// A model and two images, made with the installed core and datasets' sharp.
writeFileSync(
  join(cliScratch, 'make-model.mjs'),
  `import { defaultPreprocessing, initWeights, saveModel, siamese } from '@siamese/core';
import { loadSharp } from '@siamese/datasets';
const config = { encoder: 'resnet10_w8', input: { channels: 1, height: 32, width: 32 } };
const graph = siamese(config);
await saveModel('model', {
  graph,
  config,
  preprocessing: defaultPreprocessing(config.input),
  threshold: { probability: 0.5, method: 'fixed' },
  weights: initWeights(graph, 42),
});
const sharp = await loadSharp();
for (const [name, seed] of [['a.png', 0.37], ['b.png', 1.91]]) {
  const data = Buffer.from(Array.from({ length: 32 * 32 }, (_, i) => Math.round(127.5 + 127.5 * Math.sin(i * seed))));
  await sharp(data, { raw: { width: 32, height: 32, channels: 1 } }).png().toFile(name);
}
`,
);
step('running the installed CLI without TensorFlow.js');
run(process.execPath, ['make-model.mjs'], { cwd: cliScratch, env });
expectRun(['--help'], 0, /\btrain\b[\s\S]*\bdoctor\b/, 'lists no commands');
expectRun(['info', 'model'], 0, /resnet10_w8/, 'does not describe the model');
const compared = expectRun(['compare', 'model', 'a.png', 'b.png'], 0, /\d\.\d+/, 'does not score the pair');
// The web page from the installed packages: @siamese/web's built page and onnxruntime-web's files.
const webExported = expectRun(
  ['export', 'model', '--web', 'site'],
  0,
  /^wrote site \(page; model\/: fp32 encoder .* ort\/: onnxruntime-web [\d.]+ MiB\)$/m,
  'does not write the web page',
);
for (const f of [
  'index.html',
  'app.js',
  'model/siamese-web.json',
  'ort/ort-wasm-simd-threaded.wasm',
  'ort/ort.wasm.min.mjs',
])
  if (!existsSync(join(cliScratch, 'site', f))) fail(`\`siamese export --web\` wrote no site/${f}`);
// The gallery index: usearch's prebuilt binary loads from an install that ran no scripts.
mkdirSync(join(cliScratch, 'images'));
for (const f of ['a.png', 'b.png'])
  writeFileSync(join(cliScratch, 'images', f), readFileSync(join(cliScratch, f)));
expectRun(
  ['index', 'build', 'model', 'images', '--out', 'gallery.index'],
  0,
  /^wrote gallery\.index \(2 items/m,
  'does not build a gallery index',
);
const searched = expectRun(
  ['search', 'model', 'a.png', '--index', 'gallery.index', '--top', '1'],
  0,
  /^ +1 +\d\.\d+ .*[ab]\.png$/m,
  'does not search the gallery index',
);
// The HTTP service from the installed packages: its worker processes, fastify and prom-client.
writeFileSync(join(cliScratch, 'pairs.csv'), 'a,b,label\na.png,b.png,0\na.png,a.png,1\n');
expectRun(
  ['score', 'model', 'pairs.csv', '--out', 'scores.csv'],
  0,
  /^wrote scores\.csv \(2 pairs/m,
  'does not score a pairs CSV',
);
const served = await new Promise((done) => {
  const child = spawn(bin, ['serve', 'model', '--port', '0', '--workers', '1', '--threads', '1'], {
    cwd: cliScratch,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  child.stdout.on('data', async (d) => {
    out += d;
    const url = /^listening {3}(\S+)/m.exec(out)?.[1];
    if (!url || out.includes('[checked]')) return;
    out += '[checked]';
    try {
      const form = new FormData();
      for (const f of ['a', 'b'])
        form.append(
          f,
          new Blob([readFileSync(join(cliScratch, `${f}.png`))], { type: 'image/png' }),
          `${f}.png`,
        );
      const r = await fetch(`${url}/v1/compare`, { method: 'POST', body: form });
      const body = await r.json();
      out += `\ncompare: ${r.status} ${JSON.stringify(body)}\n`;
      if (r.status !== 200 || typeof body.probability !== 'number')
        fail(`siamese serve: POST /v1/compare answered ${r.status}`);
    } catch (e) {
      fail(`siamese serve: ${e.message}`);
    }
    child.kill('SIGTERM');
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  child.on('exit', (code, signal) => {
    clearTimeout(timer);
    done({ code, signal, out });
  });
});
if (served.code !== 0 || !/compare: 200/.test(served.out) || !/^stopped$/m.test(served.out))
  fail(
    `\`siamese serve\` did not answer a compare and stop on SIGTERM (exit ${served.code ?? served.signal}):\n${served.out}`,
  );
const doctor = expectRun(
  ['doctor'],
  0,
  /^info +tfjs +@siamese\/backend-tfjs not installed: train runs on onnxruntime/m,
  'does not say that tfjs is not installed',
);
const tfjs = expectRun(
  ['train', '--data', 'mnist', '--backend', 'tfjs', '--out', 'runs/tfjs'],
  2,
  /^siamese train: --backend tfjs needs @siamese\/backend-tfjs: npm install @siamese\/backend-tfjs$/m,
  'does not say what to install',
);
if (tfjs.err.trim().split('\n').length !== 1)
  fail(`\`siamese train --backend tfjs\` printed more than one line:\n${tfjs.err}`);
const trained = expectRun(
  [
    'train',
    '--data',
    'mnist',
    '--arch',
    'resnet10_w8',
    '--size',
    '16',
    '--epochs',
    '1',
    '--pairs-per-epoch',
    '64',
    '--val-pairs',
    '64',
    '--out',
    'runs/onnx',
  ],
  0,
  /^backend: onnx \(auto: @siamese\/backend-tfjs is not installed\)/m,
  'does not train on onnxruntime',
);
console.log(`  compare: ${compared.out.trim().split('\n')[0]}`);
console.log(`  export --web: ${webExported.out.trim().split('\n')[0]}`);
console.log(`  search on a gallery index: ${searched.out.trim().split('\n')[1]}`);
console.log(`  serve: ${served.out.split('\n').find((l) => l.startsWith('compare: '))}`);
console.log(`  doctor: ${doctor.out.split('\n').find((l) => /^\w+ +tfjs /.test(l))}`);
console.log(`  train --backend tfjs: ${tfjs.err.trim()}`);
console.log(
  `  train: ${trained.out
    .split('\n')
    .find((l) => l.startsWith('backend:'))
    ?.slice(0, 120)}`,
);
finish();
