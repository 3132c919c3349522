#!/usr/bin/env bash
# On a CUDA machine, two checks (run both, or name one):
#   bash bench/gpu-check.sh [tfjs|onnx|all] [steps]     (default: all, 10 steps)
# tfjs: installs @tensorflow/tfjs-node-gpu 4.22.0 (its install script downloads libtensorflow 2.9),
#   trains a few steps of the ResNet-18 Siamese (1x105x105, batch 16) with device 'gpu', and prints
#   whether TensorFlow really used the GPU and the training pairs/s.
# onnx: installs onnxruntime-node's CUDA provider (CUDA 12.x + cuDNN 9), runs the exported pair
#   model on CUDA and on CPU, checks that they agree, and prints inference pairs/s on both; then
#   trains a few steps through onnxruntime (the IR's training-step graph) on CUDA and on CPU and
#   prints training pairs/s and whether the first losses agree.
# tfjs-node-gpu needs CUDA 11.2 and cuDNN 8.1 libraries (libcudart.so.11.0, libcudnn.so.8); without
# them libtensorflow silently runs on the CPU, which this check reports. The workspace's
# package.json, lockfile and pnpm-workspace.yaml are restored afterwards; node_modules keeps the package.
set -euo pipefail
WHICH="${1:-all}"
STEPS="${2:-10}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PKG="$ROOT/packages/backend-tfjs"
cd "$ROOT"
case "$WHICH" in tfjs|onnx|all) ;; *) echo "usage: bash bench/gpu-check.sh [tfjs|onnx|all] [steps]" >&2; exit 2 ;; esac

tfjs_check() {
echo "== GPU"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
else
  echo "nvidia-smi not found: this is not a CUDA machine (the check still runs and will report CPU)"
fi
echo "== CUDA 11 / cuDNN 8 libraries libtensorflow 2.9 loads"
for lib in libcudart.so.11.0 libcublas.so.11 libcudnn.so.8; do
  if ldconfig -p 2>/dev/null | grep -q "$lib" || find ${LD_LIBRARY_PATH//:/ } /usr/local/cuda*/lib64 -name "$lib*" 2>/dev/null | grep -q .; then
    echo "  $lib: found"
  else
    echo "  $lib: MISSING"
  fi
done

if [ ! -e "$PKG/node_modules/@tensorflow/tfjs-node-gpu/lib" ]; then
  echo "== installing @tensorflow/tfjs-node-gpu@4.22.0"
  backup="$(mktemp -d)"
  cp "$PKG/package.json" pnpm-lock.yaml pnpm-workspace.yaml "$backup/"
  restore() { cp "$backup/package.json" "$PKG/"; cp "$backup/pnpm-lock.yaml" "$backup/pnpm-workspace.yaml" "$ROOT/"; }
  trap restore EXIT
  pnpm add @tensorflow/tfjs-node-gpu@4.22.0 --save-exact --save-dev --filter @siamese/backend-tfjs \
    --allow-build=@tensorflow/tfjs-node-gpu
fi

echo "== build"
(cd packages/core && npx tsc -b) && (cd "$PKG" && npx tsc -b)

echo "== train $STEPS steps on device 'gpu'"
node --input-type=module - "$STEPS" <<'JS'
import { createTfjsBackend, resolveDevice, describeDevice } from './packages/backend-tfjs/dist/index.js';
import { allocate, Random, siameseTraining } from './packages/core/dist/index.js';
const steps = Number(process.argv[2]);
let device = 'gpu';
try {
  await resolveDevice('gpu');
} catch (e) {
  console.log(`strict 'gpu' refused:\n${e.message}\n-> continuing with 'auto' to show what would run`);
  device = 'auto';
}
const config = { encoder: 'resnet18', input: { channels: 1, height: 105, width: 105 } };
const backend = await createTfjsBackend({ graph: siameseTraining(config, { kind: 'bce' }), device, optimizer: { kind: 'adam' } });
const r = new Random(1);
const img = () => { const t = allocate('float32', [16, 1, 105, 105]); t.data.forEach((_, i) => { t.data[i] = r.normal(); }); return t; };
const labels = allocate('float32', [16, 1]);
labels.data.forEach((_, i) => { labels.data[i] = i % 2; });
const batch = { inputs: { x1: img(), x2: img(), labels }, size: 16 };
for (let i = 0; i < 2; i++) await backend.step(batch, 1e-3);
const t0 = performance.now();
for (let i = 0; i < steps; i++) await backend.step(batch, 1e-3);
const pps = (steps * 16) / ((performance.now() - t0) / 1000);
console.log(`device: ${describeDevice(backend.device)}`);
console.log(`GPU really used: ${backend.device.gpuInUse ? 'YES' : 'NO'}`);
console.log(`training: ${pps.toFixed(1)} pairs/s (ResNet-18 Siamese, 1x105x105, batch 16, Adam)`);
backend.dispose();
JS
}

onnx_check() {
  echo "== onnxruntime CUDA provider (needs CUDA 12.x and cuDNN 9)"
  local ort
  ort="$(cd packages/backend-onnx && node -e "console.log(require('path').dirname(require.resolve('onnxruntime-node/package.json')))")"
  if ! command -v nvidia-smi >/dev/null; then
    echo "   nvidia-smi not found: not a CUDA machine, not installing the provider (CPU is still measured)"
  elif ! ls "$ort"/bin/napi-v*/linux/x64/libonnxruntime_providers_cuda.so >/dev/null 2>&1; then
    echo "   installing it: ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js"
    (cd "$ort" && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js)
  fi
  (cd packages/core && npx tsc -b) && (cd packages/backend-onnx && npx tsc -b)
  node --input-type=module - "$STEPS" <<'JS'
import { createSession, describeDevice, exportSiameseCut, loadOrt } from './packages/backend-onnx/dist/index.js';
import { initWeights, Random, siamese } from './packages/core/dist/index.js';
const runs = Math.max(5, Number(process.argv[2]));
const ort = await loadOrt();
const config = { encoder: 'resnet18', input: { channels: 1, height: 105, width: 105 } };
const graph = siamese(config);
const model = exportSiameseCut(graph, initWeights(graph, 1), 'pair');
const n = 32;
const r = new Random(2);
const image = () => new ort.Tensor('float32', Float32Array.from({ length: n * 105 * 105 }, () => r.normal()), [n, 1, 105, 105]);
const feeds = { x1: image(), x2: image() };
const rate = async (s) => {
  for (let i = 0; i < 3; i++) await s.run(feeds);
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await s.run(feeds);
  return (runs * n) / ((performance.now() - t0) / 1000);
};
const cpu = await createSession(model, { device: 'cpu' });
const cpuOut = (await cpu.session.run(feeds)).logit.data;
let cuda;
try {
  cuda = await createSession(model, { device: 'cuda' });
} catch (e) {
  console.log(`CUDA: NOT usable: ${e.message}`);
  console.log(`CPU: ${(await rate(cpu.session)).toFixed(1)} pairs/s (ResNet-18 Siamese, 1x105x105, batch ${n})`);
  process.exit(1);
}
console.log(`device: ${describeDevice(cuda.device)}`);
const cudaOut = (await cuda.session.run(feeds)).logit.data;
const diff = Math.max(...Array.from(cudaOut, (v, i) => Math.abs(v - cpuOut[i])));
console.log(`parity CUDA vs CPU: max |logit diff| ${diff.toExponential(2)} ${diff < 1e-3 ? 'OK' : 'TOO LARGE (TF32 convolutions?)'}`);
console.log(`inference: CUDA ${(await rate(cuda.session)).toFixed(1)} pairs/s, CPU ${(await rate(cpu.session)).toFixed(1)} pairs/s (ResNet-18 Siamese, 1x105x105, batch ${n})`);
JS
  echo "== train $STEPS steps through onnxruntime (core's training-step graph) on CUDA, then on CPU"
  node --input-type=module - "$STEPS" <<'JS'
import { createOnnxBackend } from './packages/backend-onnx/dist/index.js';
import { allocate, initWeights, Random, siameseTraining } from './packages/core/dist/index.js';
const steps = Number(process.argv[2]);
const graph = siameseTraining({ encoder: 'resnet18', input: { channels: 1, height: 105, width: 105 } }, { kind: 'bce' });
const weights = initWeights(graph, 1);
const r = new Random(3);
const img = () => { const t = allocate('float32', [16, 1, 105, 105]); t.data.forEach((_, i) => { t.data[i] = r.normal(); }); return t; };
const labels = allocate('float32', [16, 1]);
labels.data.forEach((_, i) => { labels.data[i] = i % 2; });
const batch = { inputs: { x1: img(), x2: img(), labels }, size: 16 };
const train = async (device) => {
  const b = await createOnnxBackend({ graph, weights, device, optimizer: { kind: 'adam' } });
  const losses = [];
  for (let i = 0; i < 2; i++) losses.push((await b.step(batch, 1e-3)).loss);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) losses.push((await b.step(batch, 1e-3)).loss);
  const pps = (steps * 16) / ((performance.now() - t0) / 1000);
  console.log(`${b.deviceSummary}: ${pps.toFixed(1)} training pairs/s; losses ${losses.slice(0, 3).map((l) => l.toFixed(5)).join(', ')}`);
  await b.dispose();
  return losses;
};
let cuda;
try {
  cuda = await train('cuda');
} catch (e) {
  console.log(`CUDA training: NOT usable: ${e.message}`);
}
const cpu = await train('cpu');
if (cuda) {
  const gap = Math.max(...cuda.slice(0, 3).map((l, i) => Math.abs(l - cpu[i])));
  console.log(`first-step losses CUDA vs CPU: max diff ${gap.toExponential(2)} ${gap < 1e-3 ? 'OK' : 'TOO LARGE'}`);
} else process.exitCode = 1;
JS
}

status=0
if [ "$WHICH" = tfjs ] || [ "$WHICH" = all ]; then tfjs_check || status=1; fi
if [ "$WHICH" = onnx ] || [ "$WHICH" = all ]; then onnx_check || status=1; fi
exit $status
