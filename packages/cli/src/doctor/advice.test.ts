import { describe, expect, it } from 'vitest';
import { assess, type Check, healthy } from './advice.js';
import type { LibraryFile, Probe } from './probe.js';

const lib = (
  soname: string,
  version: string,
  dir = '/usr/lib/x86_64-linux-gnu',
  onPath = true,
): LibraryFile => ({
  soname,
  version,
  dir,
  onPath,
});

const ORT_LIBS = [
  lib('libcudart.so.12', '12.4.127'),
  lib('libcublas.so.12', '12.4.5.8'),
  lib('libcublasLt.so.12', '12.4.5.8'),
  lib('libcufft.so.11', '11.2.1.3'),
  lib('libcudnn.so.9', '9.1.0'),
];

function probe(over: Partial<Probe> = {}): Probe {
  return {
    node: { version: '20.20.2', platform: 'linux', arch: 'x64' },
    sharp: { ok: true, version: '0.35.5', libvips: '8.18.7' },
    onnxruntime: {
      ok: true,
      version: '1.30.0',
      backends: [
        { name: 'cpu', bundled: true },
        { name: 'cuda', bundled: false },
      ],
      cpu: { ok: true },
      cuda: {
        ok: false,
        error: 'the CUDA execution provider is not installed (no libonnxruntime_providers_cuda.so in /x/bin)',
      },
    },
    nvidia: { found: false, gpus: [] },
    libraries: [],
    tfjsBackend: { package: '@siamese/backend-tfjs', installed: true, ok: true },
    tfjs: [
      {
        package: '@tensorflow/tfjs-node-gpu',
        installed: false,
        ok: false,
        error: "Cannot find package '@tensorflow/tfjs-node-gpu'",
      },
      {
        package: '@tensorflow/tfjs-node',
        installed: false,
        ok: false,
        error: "Cannot find package '@tensorflow/tfjs-node'",
      },
      { package: '@tensorflow/tfjs-backend-wasm', installed: true, ok: true },
    ],
    ...over,
  };
}

const byName = (checks: Check[], name: string) => checks.find((c) => c.name === name)!;
const GPU = {
  found: true,
  gpus: [{ name: 'NVIDIA H200', driver: '550.54.15', memory: '143771 MiB' }],
  cudaVersion: '12.4',
};

describe('doctor advice', () => {
  it('a CPU-only machine: healthy, CUDA explained, tfjs platforms listed', () => {
    const checks = assess(probe());
    expect(healthy(checks)).toBe(true);
    expect(byName(checks, 'onnxruntime cpu')).toMatchObject({
      status: 'ok',
      detail:
        'onnxruntime-node 1.30.0: a CPU session runs; providers in this build: cpu, cuda (separate library)',
    });
    expect(byName(checks, 'onnxruntime cuda')).toMatchObject({
      status: 'info',
      fix: expect.stringContaining('no NVIDIA driver here'),
    });
    expect(byName(checks, 'nvidia')).toMatchObject({
      status: 'info',
      detail: 'nvidia-smi not found: no NVIDIA driver here',
    });
    expect(byName(checks, 'cuda-libs onnxruntime')).toMatchObject({
      status: 'info',
      detail: expect.stringMatching(
        /^onnxruntime-node 1\.30 CUDA \(training and inference\) needs CUDA 12\.x \+ cuDNN 9; missing libcudart\.so\.12, /,
      ),
    });
    expect(byName(checks, 'tfjs-node')).toMatchObject({
      status: 'info',
      detail: expect.stringMatching(/^@tensorflow\/tfjs-node not installed/),
    });
    expect(byName(checks, 'tfjs-wasm')).toMatchObject({ status: 'ok' });
  });

  it('a GPU without the CUDA provider: says how to install it', () => {
    const checks = assess(probe({ nvidia: GPU, libraries: ORT_LIBS }));
    expect(byName(checks, 'nvidia')).toMatchObject({
      status: 'ok',
      detail: 'driver 550.54.15, supports CUDA up to 12.4; NVIDIA H200 (143771 MiB)',
    });
    expect(byName(checks, 'onnxruntime cuda')).toMatchObject({
      status: 'no',
      fix: expect.stringContaining('ONNXRUNTIME_NODE_INSTALL=cuda12'),
    });
    expect(byName(checks, 'cuda-libs onnxruntime')).toMatchObject({
      status: 'ok',
      detail:
        'onnxruntime-node 1.30 CUDA (training and inference) needs CUDA 12.x + cuDNN 9: found libcudart 12.4.127, libcudnn 9.1.0 on the library path',
    });
    expect(byName(checks, 'cuda-libs tfjs-node-gpu')).toMatchObject({
      status: 'info',
      detail: expect.stringContaining('missing libcudart.so.11.0'),
    });
  });

  it('the provider installed but its libraries missing; libraries off the path; an old driver', () => {
    const ort = {
      ...probe().onnxruntime,
      cudaProvider: '/x/libonnxruntime_providers_cuda.so',
      cudaProviderMissing: ['libcudnn.so.9'],
    };
    const offPath = ORT_LIBS.map((l) => ({ ...l, dir: '/usr/local/cuda-12.4/lib64', onPath: false }));
    const checks = assess(probe({ nvidia: GPU, onnxruntime: ort, libraries: offPath }));
    expect(byName(checks, 'onnxruntime cuda').fix).toBe(
      'the CUDA provider cannot find libcudnn.so.9: install CUDA 12.x and cuDNN 9 and put them on LD_LIBRARY_PATH',
    );
    expect(byName(checks, 'cuda-libs onnxruntime').fix).toBe(
      'found in /usr/local/cuda-12.4/lib64 but not on the library path: export LD_LIBRARY_PATH=/usr/local/cuda-12.4/lib64:$LD_LIBRARY_PATH',
    );
    const old = assess(probe({ nvidia: { ...GPU, cudaVersion: '11.4' }, libraries: ORT_LIBS }));
    expect(byName(old, 'cuda-libs onnxruntime')).toMatchObject({
      status: 'warn',
      fix: expect.stringMatching(/^update the NVIDIA driver to one that supports CUDA 12\.x/),
    });
    expect(byName(old, 'cuda-libs tfjs-node-gpu').status).toBe('info');
  });

  it('unhealthy when Node is too old, sharp or CPU inference fails', () => {
    expect(healthy(assess(probe({ node: { version: '18.19.0', platform: 'linux', arch: 'x64' } })))).toBe(
      false,
    );
    const noSharp = assess(probe({ sharp: { ok: false, error: 'Could not load the "sharp" module' } }));
    expect(healthy(noSharp)).toBe(false);
    expect(byName(noSharp, 'sharp').fix).toContain('@img/sharp-linux-x64');
    expect(
      healthy(assess(probe({ onnxruntime: { ok: false, error: 'libonnxruntime.so.1: cannot open' } }))),
    ).toBe(false);
    const broken = assess(
      probe({
        tfjs: [
          {
            package: '@tensorflow/tfjs-node-gpu',
            installed: true,
            ok: false,
            error: 'libcudart.so.11.0: cannot open shared object file',
          },
        ],
      }),
    );
    expect(byName(broken, 'tfjs-node-gpu')).toMatchObject({
      status: 'no',
      detail: expect.stringContaining('libcudart.so.11.0'),
    });
    expect(healthy(broken)).toBe(true);
  });

  it('a cli installed without @siamese/backend-tfjs: healthy, one tfjs line saying what to install', () => {
    const checks = assess(
      probe({
        tfjsBackend: {
          package: '@siamese/backend-tfjs',
          installed: false,
          ok: false,
          error: "Cannot find package '@siamese/backend-tfjs' imported from /x/probe.js",
        },
        tfjs: [],
      }),
    );
    expect(healthy(checks)).toBe(true);
    expect(checks.filter((c) => c.name.startsWith('tfjs'))).toEqual([
      {
        status: 'info',
        name: 'tfjs',
        detail:
          '@siamese/backend-tfjs not installed: train runs on onnxruntime (--backend tfjs and --device wasm or js need it)',
        fix: 'npm install @siamese/backend-tfjs to train with TensorFlow.js',
      },
    ]);
    expect(byName(assess(probe()), 'tfjs')).toMatchObject({ status: 'ok' });
  });
});
