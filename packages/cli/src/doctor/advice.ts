/**
 * From what the probes found to what it means and what to do: one check per line, each with a
 * status and, when something is missing or mismatched, the fix. Pure (tests feed it probes).
 */
import type { LibraryFile, Probe } from './probe.js';

export type Status = 'ok' | 'no' | 'warn' | 'info';

export interface Check {
  readonly status: Status;
  readonly name: string;
  readonly detail: string;
  readonly fix?: string;
}

/** What each GPU stack loads: the sonames the dynamic loader must find. */
export const STACKS = {
  onnxruntime: {
    name: 'cuda-libs onnxruntime',
    label: 'onnxruntime-node 1.30 CUDA (training and inference)',
    needs: 'CUDA 12.x + cuDNN 9',
    cuda: [12, 0],
    sonames: ['libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcufft.so.11', 'libcudnn.so.9'],
  },
  tfjs: {
    name: 'cuda-libs tfjs-node-gpu',
    label: 'tfjs-node-gpu 4.22 (training)',
    needs: 'CUDA 11.2 + cuDNN 8.1',
    cuda: [11, 2],
    sonames: [
      'libcudart.so.11.0',
      'libcublas.so.11',
      'libcublasLt.so.11',
      'libcufft.so.10',
      'libcurand.so.10',
      'libcusolver.so.11',
      'libcusparse.so.11',
      'libcudnn.so.8',
    ],
  },
} as const;

const NODE_MAJOR = 20;

/** How a user adds tfjs training to the cli (an optional peer, not a dependency). */
export const TFJS_INSTALL = 'npm install @siamese/backend-tfjs';

function stackCheck(stack: (typeof STACKS)[keyof typeof STACKS], libs: readonly LibraryFile[]): Check {
  const found = (soname: string, onPath: boolean) =>
    libs.find((l) => l.soname === soname && l.onPath === onPath);
  const missing = stack.sonames.filter((s) => !found(s, true));
  const offPath = missing.map((s) => found(s, false)).filter((l): l is LibraryFile => l !== undefined);
  const show = (soname: string) => {
    const l = found(soname, true);
    return l ? `${soname.replace(/\.so.*$/, '')} ${l.version}` : undefined;
  };
  const present = [stack.sonames[0], stack.sonames.at(-1)!].map(show).filter(Boolean);
  const name = stack.name;
  if (missing.length === 0) {
    return {
      status: 'ok',
      name,
      detail: `${stack.label} needs ${stack.needs}: found ${present.join(', ')} on the library path`,
    };
  }
  const fix =
    offPath.length > 0
      ? `found in ${[...new Set(offPath.map((l) => l.dir))].join(', ')} but not on the library path: export LD_LIBRARY_PATH=${[...new Set(offPath.map((l) => l.dir))].join(':')}:$LD_LIBRARY_PATH`
      : `install ${stack.needs} (NVIDIA's CUDA toolkit or runtime packages and cuDNN) and put their lib folder on the library path (LD_LIBRARY_PATH or ldconfig)`;
  return {
    status: 'info',
    name,
    detail: `${stack.label} needs ${stack.needs}; missing ${missing.join(', ')}${present.length ? ` (found ${present.join(', ')})` : ''}`,
    fix,
  };
}

/** major.minor of a version string, or undefined. */
function majorMinor(v: string | undefined): readonly [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(v ?? '');
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function older(a: readonly [number, number], b: readonly [number, number]): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

export function assess(p: Probe): Check[] {
  const checks: Check[] = [];
  const nodeMajor = Number(p.node.version.split('.')[0]);
  checks.push(
    nodeMajor >= NODE_MAJOR
      ? { status: 'ok', name: 'node', detail: `${p.node.version} (${p.node.platform} ${p.node.arch})` }
      : {
          status: 'no',
          name: 'node',
          detail: `${p.node.version}: siamese needs Node ${NODE_MAJOR} or newer`,
          fix: `install Node ${NODE_MAJOR} LTS or newer`,
        },
  );

  checks.push(
    p.sharp.ok
      ? {
          status: 'ok',
          name: 'sharp',
          detail: `${p.sharp.version ?? '?'} with libvips ${p.sharp.libvips ?? '?'} (image decoding)`,
        }
      : {
          status: 'no',
          name: 'sharp',
          detail: p.sharp.error ?? 'cannot be loaded',
          fix: `reinstall sharp for this platform (${p.node.platform}-${p.node.arch}): its prebuilt @img/sharp-${p.node.platform}-${p.node.arch} package must be installed (pnpm install --force)`,
        },
  );

  const ort = p.onnxruntime;
  if (!ort.ok) {
    checks.push({
      status: 'no',
      name: 'onnxruntime',
      detail: `onnxruntime-node cannot be loaded: ${ort.error ?? '?'}`,
      fix: 'reinstall onnxruntime-node 1.30 (its CPU build ships inside the npm package)',
    });
  } else {
    const built = ort.backends?.map((b) => `${b.name}${b.bundled ? '' : ' (separate library)'}`).join(', ');
    checks.push({
      status: ort.cpu?.ok ? 'ok' : 'no',
      name: 'onnxruntime cpu',
      detail: ort.cpu?.ok
        ? `onnxruntime-node ${ort.version ?? '?'}: a CPU session runs${built ? `; providers in this build: ${built}` : ''}`
        : `onnxruntime-node ${ort.version ?? '?'}: a CPU session fails: ${ort.cpu?.error ?? '?'}`,
      ...(ort.cpu?.ok ? {} : { fix: 'reinstall onnxruntime-node 1.30 for this platform' }),
    });
    checks.push(cudaCheck(p));
  }

  const nv = p.nvidia;
  if (!nv.found) {
    checks.push({
      status: 'info',
      name: 'nvidia',
      detail: nv.error ? `nvidia-smi failed: ${nv.error}` : 'nvidia-smi not found: no NVIDIA driver here',
      fix: 'GPU inference and training need an NVIDIA GPU with its driver; everything else runs on the CPU',
    });
  } else {
    const gpus = nv.gpus.map((g) => `${g.name} (${g.memory})`).join(', ') || 'no GPU listed';
    checks.push({
      status: nv.gpus.length ? 'ok' : 'warn',
      name: 'nvidia',
      detail: `driver ${nv.gpus[0]?.driver ?? '?'}, supports CUDA up to ${nv.cudaVersion ?? '?'}; ${gpus}`,
      ...(nv.gpus.length
        ? {}
        : { fix: 'nvidia-smi lists no GPU: check the driver and the GPU (nvidia-smi -L)' }),
    });
  }

  const driverCuda = majorMinor(nv.cudaVersion);
  for (const stack of Object.values(STACKS)) {
    const c = stackCheck(stack, p.libraries);
    if (driverCuda !== undefined && older(driverCuda, stack.cuda)) {
      checks.push({
        ...c,
        status: 'warn',
        detail: `${c.detail}; the driver supports CUDA ${nv.cudaVersion} only`,
        fix: `update the NVIDIA driver to one that supports ${stack.needs.split(' + ')[0]}${c.fix ? `; ${c.fix}` : ''}`,
      });
    } else checks.push(c);
  }

  const tb = p.tfjsBackend;
  if (tb.ok)
    checks.push({ status: 'ok', name: 'tfjs', detail: `${tb.package} loads (training with TensorFlow.js)` });
  else {
    checks.push(
      tb.installed
        ? {
            status: 'no',
            name: 'tfjs',
            detail: `${tb.package} is installed but does not load: ${tb.error ?? '?'}`,
            fix: `reinstall it: ${TFJS_INSTALL}`,
          }
        : {
            status: 'info',
            name: 'tfjs',
            detail: `${tb.package} not installed: train runs on onnxruntime (--backend tfjs and --device wasm or js need it)`,
            fix: `${TFJS_INSTALL} to train with TensorFlow.js`,
          },
    );
  }
  for (const t of p.tfjs) {
    const name = t.package.replace('@tensorflow/', '').replace('tfjs-backend-wasm', 'tfjs-wasm');
    const platform =
      t.package === '@tensorflow/tfjs-node-gpu'
        ? 'native TensorFlow on CUDA 11.2 + cuDNN 8.1'
        : t.package === '@tensorflow/tfjs-node'
          ? 'native TensorFlow on the CPU'
          : 'WebAssembly, no native libraries';
    if (t.ok) checks.push({ status: 'ok', name, detail: `${t.package} loads (${platform})` });
    else if (!t.installed) {
      checks.push({
        status: 'info',
        name,
        detail: `${t.package} not installed (${platform}; for training)`,
        fix: `pnpm add ${t.package}@4.22.0 next to @siamese/backend-tfjs to train on it`,
      });
    } else {
      checks.push({
        status: 'no',
        name,
        detail: `${t.package} is installed but does not load: ${t.error ?? '?'}`,
        fix:
          t.package === '@tensorflow/tfjs-backend-wasm'
            ? 'reinstall it (and @tensorflow/tfjs-core 4.22.0 next to it)'
            : `its native libtensorflow is missing or broken: run its install script (pnpm rebuild ${t.package}; pnpm 10 needs it allowed in onlyBuiltDependencies)`,
      });
    }
  }
  return checks;
}

function cudaCheck(p: Probe): Check {
  const ort = p.onnxruntime;
  const name = 'onnxruntime cuda';
  if (ort.cuda?.ok)
    return { status: 'ok', name, detail: 'a CUDA session runs: --device cuda and auto use the GPU' };
  const why = ort.cuda?.error ?? 'not available';
  let fix: string;
  if (!ort.cudaProvider && p.nvidia.found) {
    fix =
      "install onnxruntime-node's CUDA provider: run its install script with ONNXRUNTIME_NODE_INSTALL=cuda12 (in node_modules/onnxruntime-node: ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js)";
  } else if (!p.nvidia.found) {
    fix = 'no NVIDIA driver here: inference runs on the CPU (--device auto picks it; --device cuda fails)';
  } else if (ort.cudaProviderMissing?.length) {
    fix = `the CUDA provider cannot find ${ort.cudaProviderMissing.join(', ')}: install CUDA 12.x and cuDNN 9 and put them on LD_LIBRARY_PATH`;
  } else {
    fix =
      'onnxruntime-node 1.30 needs CUDA 12.x and cuDNN 9 on the library path and a driver that supports CUDA 12';
  }
  return { status: p.nvidia.found ? 'no' : 'info', name, detail: why, fix };
}

/** Whether the essentials work: Node, image decoding, CPU inference. */
export function healthy(checks: readonly Check[]): boolean {
  return checks
    .filter(
      (c) =>
        c.name === 'node' || c.name === 'sharp' || c.name === 'onnxruntime' || c.name === 'onnxruntime cpu',
    )
    .every((c) => c.status === 'ok');
}
