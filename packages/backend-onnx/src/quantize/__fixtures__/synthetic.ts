/**
 * Test inputs for quantization: digit-like images (a few thick strokes on a dark 28x28 canvas,
 * normalized with MNIST's mean and std) and weights whose BatchNorm statistics are not the
 * identity, so folded biases are non-zero. Seeded: the same seed gives the same data.
 */
import { type Graph, initWeights, Random, type Tensor } from '@siamese/core';

export const SIZE = 28;
const [MEAN, STD] = [0.1307, 0.3081];

/** `n` images [n, 1, 28, 28]. */
export function strokeImages(n: number, seed: number): Tensor<'float32'> {
  const rng = new Random(seed);
  const data = new Float32Array(n * SIZE * SIZE);
  for (let k = 0; k < n; k++) {
    const img = data.subarray(k * SIZE * SIZE, (k + 1) * SIZE * SIZE);
    const strokes = 2 + Math.floor(rng.uniform() * 3);
    for (let s = 0; s < strokes; s++) {
      const [x0, y0, x1, y1] = [0, 0, 0, 0].map(() => 5 + rng.uniform() * (SIZE - 10)) as [number, number, number, number];
      const width = 1 + rng.uniform() * 1.5;
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          const d = distanceToSegment(x, y, x0, y0, x1, y1);
          const i = y * SIZE + x;
          img[i] = Math.max(img[i]!, Math.exp(-((d / width) ** 2)));
        }
      }
    }
    for (let i = 0; i < img.length; i++) img[i] = (img[i]! - MEAN) / STD;
  }
  return { dtype: 'float32', shape: [n, 1, SIZE, SIZE], data };
}

function distanceToSegment(x: number, y: number, x0: number, y0: number, x1: number, y1: number): number {
  const [dx, dy] = [x1 - x0, y1 - y0];
  const t = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(x - (x0 + t * dx), y - (y0 + t * dy));
}

/** initWeights with BatchNorm statistics and affine terms drawn away from the identity. */
export function trainedLooking(graph: Graph, seed: number): Map<string, Tensor> {
  const weights = initWeights(graph, seed);
  const rng = new Random(seed + 1);
  for (const [name, t] of weights) {
    if (t.dtype !== 'float32' || !/\.(bn\d|downsample\.1)\./.test(name)) continue;
    const d = t.data as Float32Array;
    const kind = name.slice(name.lastIndexOf('.') + 1);
    for (let i = 0; i < d.length; i++) {
      const u = rng.uniform();
      d[i] = kind === 'running_var' || kind === 'weight' ? 0.5 + u : (u - 0.5) * 0.4;
    }
  }
  return weights;
}

/** Row-wise cosine similarity of two [n, d] batches. */
export function cosines(a: Float32Array, b: Float32Array, n: number): number[] {
  const d = a.length / n;
  return Array.from({ length: n }, (_, r) => {
    let [dot, na, nb] = [0, 0, 0];
    for (let i = r * d; i < (r + 1) * d; i++) {
      dot += a[i]! * b[i]!;
      na += a[i]! * a[i]!;
      nb += b[i]! * b[i]!;
    }
    return dot / Math.sqrt(na * nb);
  });
}
