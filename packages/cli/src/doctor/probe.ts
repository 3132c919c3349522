/**
 * What `siamese doctor` looks at: Node, sharp/libvips, onnxruntime-node and its providers (a real
 * session on each), the NVIDIA driver (nvidia-smi), the CUDA and cuDNN libraries the dynamic
 * loader can find, and which tfjs platforms import. Every probe catches its own failure: the
 * report is the point, so nothing here throws.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, realpath } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';

export interface Outcome {
  readonly ok: boolean;
  /** One line: why it failed. */
  readonly error?: string;
}

export interface SharpProbe extends Outcome {
  readonly version?: string;
  readonly libvips?: string;
}

export interface OrtProbe extends Outcome {
  readonly version?: string;
  /** Execution providers compiled into this build; `bundled: false` ones need a separate library. */
  readonly backends?: readonly { readonly name: string; readonly bundled: boolean }[];
  readonly cpu?: Outcome;
  readonly cuda?: Outcome;
  /** The CUDA provider library, when installed. */
  readonly cudaProvider?: string;
  /** Libraries the CUDA provider needs that the loader cannot find (from ldd), when it is installed. */
  readonly cudaProviderMissing?: readonly string[];
}

export interface NvidiaProbe {
  /** nvidia-smi ran. */
  readonly found: boolean;
  readonly error?: string;
  readonly gpus: readonly { readonly name: string; readonly driver: string; readonly memory: string }[];
  /** The newest CUDA version the driver supports (nvidia-smi's "CUDA Version"). */
  readonly cudaVersion?: string;
}

/** A CUDA library file: soname (`libcudart.so.12`), full version from the file it points to, folder. */
export interface LibraryFile {
  readonly soname: string;
  readonly version: string;
  readonly dir: string;
  /** Found by the dynamic loader (ldconfig cache or LD_LIBRARY_PATH), or only in a CUDA folder. */
  readonly onPath: boolean;
}

export interface TfjsProbe extends Outcome {
  readonly package: string;
  readonly installed: boolean;
}

export interface Probe {
  readonly node: { readonly version: string; readonly platform: string; readonly arch: string };
  readonly sharp: SharpProbe;
  readonly onnxruntime: OrtProbe;
  readonly nvidia: NvidiaProbe;
  readonly libraries: readonly LibraryFile[];
  /** @siamese/backend-tfjs, the cli's optional peer for training on TensorFlow.js. */
  readonly tfjsBackend: TfjsProbe;
  /** The tfjs platforms it can load; empty without it. */
  readonly tfjs: readonly TfjsProbe[];
}

export const TFJS_PACKAGES = [
  '@tensorflow/tfjs-node-gpu',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-backend-wasm',
] as const;

/** CUDA libraries looked for (the runtime, cuDNN and the math libraries both stacks link). */
export const CUDA_LIBRARIES = [
  'cudart',
  'cudnn',
  'cublas',
  'cublasLt',
  'cufft',
  'curand',
  'cusolver',
  'cusparse',
] as const;

function oneLine(e: unknown): string {
  const s = e instanceof Error ? e.message : String(e);
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

/** Runs a program; undefined output and the error when it cannot. */
function run(
  cmd: string,
  args: readonly string[],
  timeoutMs = 10_000,
): Promise<{ out?: string; error?: string; missing?: boolean }> {
  return new Promise((resolve) => {
    execFile(cmd, [...args], { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        resolve({ error: oneLine(error), missing: code === 'ENOENT' });
      } else resolve({ out: stdout });
    });
  });
}

function isMissingModule(e: unknown, spec: string): boolean {
  const code = (e as { code?: unknown }).code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && oneLine(e).includes(`'${spec}'`);
}

async function probeSharp(): Promise<SharpProbe> {
  try {
    const { loadSharp } = await import('@siamese/datasets');
    const sharp = await loadSharp();
    const v = sharp.versions as { vips?: string; sharp?: string };
    return { ok: true, ...(v.sharp ? { version: v.sharp } : {}), ...(v.vips ? { libvips: v.vips } : {}) };
  } catch (e) {
    return { ok: false, error: oneLine(e) };
  }
}

/** A require() that resolves from a workspace package's folder (which has the dependency), if installed. */
function requireFrom(pkg: string): NodeJS.Require | undefined {
  try {
    return createRequire(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch {
    return undefined;
  }
}

/** onnxruntime-node's folder, found from backend-onnx (which depends on it). */
function ortRoot(): string | undefined {
  try {
    return dirname(requireFrom('@siamese/backend-onnx')!.resolve('onnxruntime-node/package.json'));
  } catch {
    return undefined;
  }
}

function cudaProviderPath(root: string | undefined): string | undefined {
  if (!root || process.platform !== 'linux') return undefined;
  const bin = join(root, 'bin');
  if (!existsSync(bin)) return undefined;
  for (const napi of ['napi-v6', 'napi-v5', 'napi-v3']) {
    const p = join(bin, napi, process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** A session on each provider, for a graph of one relu: proves the provider runs, not only loads. */
async function probeOrt(): Promise<OrtProbe> {
  let onnx: typeof import('@siamese/backend-onnx');
  let ort: Awaited<ReturnType<typeof onnx.loadOrt>>;
  try {
    onnx = await import('@siamese/backend-onnx');
    ort = await onnx.loadOrt();
  } catch (e) {
    return { ok: false, error: oneLine(e) };
  }
  const { GraphBuilder } = await import('@siamese/core');
  const b = new GraphBuilder('doctor');
  b.output('y', b.op('relu', [b.input('x', 'float32', ['N', 4])], {}, 'relu'));
  const model = onnx.exportOnnx(b.build(), new Map());
  const attempt = async (device: 'cpu' | 'cuda'): Promise<Outcome> => {
    try {
      const s = await onnx.createSession(model, { device });
      await s.session.run({ x: new ort.Tensor('float32', new Float32Array([-1, 0, 1, 2]), [1, 4]) });
      await s.session.release();
      return { ok: true };
    } catch (e) {
      const attempts = (e as { attempts?: readonly { error?: string }[] }).attempts;
      return { ok: false, error: attempts?.at(-1)?.error ?? oneLine(e) };
    }
  };
  const provider = cudaProviderPath(ortRoot());
  let missing: string[] | undefined;
  if (provider) {
    const ldd = await run('ldd', [provider]);
    missing = ldd.out
      ?.split('\n')
      .filter((l) => l.includes('not found'))
      .map((l) => l.trim().split(/\s+/)[0]!)
      .filter(Boolean);
  }
  let backends: OrtProbe['backends'];
  try {
    backends = (
      ort as unknown as { listSupportedBackends?: () => { name: string; bundled: boolean }[] }
    ).listSupportedBackends?.();
  } catch {
    backends = undefined;
  }
  return {
    ok: true,
    version: ort.env.versions.node ?? ort.env.versions.common,
    ...(backends ? { backends } : {}),
    cpu: await attempt('cpu'),
    cuda: await attempt('cuda'),
    ...(provider ? { cudaProvider: provider } : {}),
    ...(missing ? { cudaProviderMissing: missing } : {}),
  };
}

async function probeNvidia(): Promise<NvidiaProbe> {
  const q = await run('nvidia-smi', [
    '--query-gpu=name,driver_version,memory.total',
    '--format=csv,noheader',
  ]);
  if (q.out === undefined) return { found: false, gpus: [], ...(q.missing ? {} : { error: q.error }) };
  const gpus = q.out
    .split('\n')
    .map((l) => l.split(',').map((s) => s.trim()))
    .filter((f) => f.length >= 3 && f[0])
    .map(([name, driver, memory]) => ({ name: name!, driver: driver!, memory: memory! }));
  const plain = await run('nvidia-smi', []);
  const cuda = /CUDA Version:\s*([\d.]+)/.exec(plain.out ?? '')?.[1];
  return { found: true, gpus, ...(cuda ? { cudaVersion: cuda } : {}) };
}

const LIB_PATTERN = new RegExp(`^lib(${CUDA_LIBRARIES.join('|')})\\.so\\.(\\d[\\d.]*)$`);

/** `libcudart.so.12` and the version of the file it resolves to (`12.4.127`). */
async function libraryFile(path: string, onPath: boolean): Promise<LibraryFile | undefined> {
  const m = LIB_PATTERN.exec(basename(path));
  if (!m) return undefined;
  const real = await realpath(path).catch(() => path);
  const full = LIB_PATTERN.exec(basename(real))?.[2] ?? m[2]!;
  const major = m[2]!.split('.')[0]!;
  // The soname as the loader asks for it: libcudart.so.12 (CUDA 11's runtime is libcudart.so.11.0).
  const soname = m[1] === 'cudart' && major === '11' ? 'libcudart.so.11.0' : `lib${m[1]}.so.${major}`;
  return { soname, version: full, dir: dirname(path), onPath };
}

/** The loader's cache (ldconfig -p), LD_LIBRARY_PATH, and CUDA's usual folders (found there but off the path). */
async function probeLibraries(env: NodeJS.ProcessEnv): Promise<LibraryFile[]> {
  if (process.platform !== 'linux') return [];
  const found = new Map<string, LibraryFile>();
  const add = (f: LibraryFile | undefined) => {
    if (!f) return;
    const key = `${f.soname}@${f.dir}`;
    const had = found.get(key);
    if (!had || (!had.onPath && f.onPath)) found.set(key, f);
  };
  let ldconfig = await run('ldconfig', ['-p']);
  if (ldconfig.missing) ldconfig = await run('/sbin/ldconfig', ['-p']);
  for (const line of (ldconfig.out ?? '').split('\n')) {
    const m = /^\s*(\S+)\s.*=>\s*(\S+)\s*$/.exec(line);
    if (m && LIB_PATTERN.test(m[1]!)) add(await libraryFile(m[2]!, true));
  }
  const scan = async (dir: string, onPath: boolean) => {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const n of names) if (LIB_PATTERN.test(n)) add(await libraryFile(join(dir, n), onPath));
  };
  for (const dir of (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)) await scan(dir, true);
  const local = await readdir('/usr/local').catch(() => [] as string[]);
  for (const d of local.filter((n) => /^cuda(-[\d.]+)?$/.test(n))) {
    await scan(join('/usr/local', d, 'lib64'), false);
    await scan(
      join('/usr/local', d, 'targets', `${process.arch === 'arm64' ? 'sbsa' : 'x86_64'}-linux`, 'lib'),
      false,
    );
  }
  // One entry per soname and folder, the loader's first.
  return [...found.values()].sort((a, b) =>
    a.soname < b.soname ? -1 : a.soname > b.soname ? 1 : Number(b.onPath) - Number(a.onPath),
  );
}

/** What doctor needs from @siamese/backend-tfjs (an optional peer of the cli). */
export type TfjsModule = Pick<typeof import('@siamese/backend-tfjs'), 'importPlatform'>;

/** Loads @siamese/backend-tfjs; tests replace it to simulate a cli installed without it. */
export type TfjsImporter = () => Promise<TfjsModule>;

const importTfjs: TfjsImporter = () => import('@siamese/backend-tfjs');

/**
 * @siamese/backend-tfjs, then each tfjs platform package through it: loads, is not installed, or
 * fails (the error, one line). The platforms are its optional peers, imported the way training
 * imports them (a native build that fails leaves no kernels registered for the next one); without
 * @siamese/backend-tfjs there is no tfjs training, and no platform to look at.
 */
export async function probeTfjs(
  importer: TfjsImporter = importTfjs,
): Promise<{ backend: TfjsProbe; platforms: TfjsProbe[] }> {
  const name = '@siamese/backend-tfjs';
  let tfjs: TfjsModule;
  try {
    tfjs = await importer();
  } catch (e) {
    const installed = !isMissingModule(e, name);
    return { backend: { package: name, installed, ok: false, error: oneLine(e) }, platforms: [] };
  }
  const platforms: TfjsProbe[] = [];
  for (const spec of TFJS_PACKAGES) {
    try {
      await tfjs.importPlatform(spec);
      platforms.push({ package: spec, installed: true, ok: true });
    } catch (e) {
      platforms.push({ package: spec, installed: !isMissingModule(e, spec), ok: false, error: oneLine(e) });
    }
  }
  return { backend: { package: name, installed: true, ok: true }, platforms };
}

export async function probe(
  env: NodeJS.ProcessEnv = process.env,
  o: { readonly importTfjs?: TfjsImporter } = {},
): Promise<Probe> {
  const [sharp, onnxruntime, nvidia, libraries] = await Promise.all([
    probeSharp(),
    probeOrt(),
    probeNvidia(),
    probeLibraries(env),
  ]);
  // tfjs last: a native TensorFlow that loads prints to the terminal; keep it after the rest.
  const tfjs = await probeTfjs(o.importTfjs);
  return {
    node: { version: process.versions.node, platform: process.platform, arch: process.arch },
    sharp,
    onnxruntime,
    nvidia,
    libraries,
    tfjsBackend: tfjs.backend,
    tfjs: tfjs.platforms,
  };
}
