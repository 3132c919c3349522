/**
 * Parameter initializers, declared in the graph and materialized with core's seeded generator.
 * They reproduce PyTorch's defaults: Kaiming-normal (fan-out, relu) for ResNet convolutions,
 * BatchNorm weight 1 / bias 0, and Linear's U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 */
import type { Graph, Initializer, Param } from '../ir/types.js';
import { allocate, type Tensor } from '../tensor/tensor.js';
import { Random } from './random.js';

export type { Initializer } from '../ir/types.js';

/** fan_in and fan_out of a weight as torch.nn.init computes them ([out, in, ...receptive field]). */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error(`fan needs a weight of rank >= 2, got [${shape.join(',')}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: (shape[1] as number) * receptive, fanOut: (shape[0] as number) * receptive };
}

/** PyTorch's Linear default for a [out, in] weight and its bias: both U(-1/sqrt(in), 1/sqrt(in)). */
export function linearDefault(inFeatures: number): Initializer {
  return { kind: 'uniform', bound: 1 / Math.sqrt(inFeatures) };
}

export function initTensor(param: Param, seed: number): Tensor {
  const shape = param.shape.map((d) => {
    if (typeof d !== 'number') throw new Error(`parameter '${param.name}' has symbolic dimension '${d}'`);
    return d;
  });
  const t = allocate(param.dtype, shape);
  const init = param.init;
  if (t.dtype !== 'float32') {
    if (init.kind !== 'zeros')
      throw new Error(`parameter '${param.name}' (${param.dtype}) can only be zero-initialized`);
    return t;
  }
  const data = t.data as Float32Array;
  const rng = Random.forName(seed, param.name);
  switch (init.kind) {
    case 'zeros':
      break;
    case 'ones':
      data.fill(1);
      break;
    case 'constant':
      data.fill(init.value);
      break;
    case 'kaimingNormal': {
      const f = fans(shape);
      const gain = init.nonlinearity === 'relu' ? Math.SQRT2 : 1;
      const std = gain / Math.sqrt(init.mode === 'fanIn' ? f.fanIn : f.fanOut);
      for (let i = 0; i < data.length; i++) data[i] = rng.normal() * std;
      break;
    }
    case 'normal':
      for (let i = 0; i < data.length; i++) data[i] = rng.normal() * init.std;
      break;
    case 'uniform':
      for (let i = 0; i < data.length; i++) data[i] = (rng.uniform() * 2 - 1) * init.bound;
      break;
  }
  return t;
}

/** Every parameter and buffer of a graph, initialized from `seed`, in declaration order. */
export function initWeights(graph: Graph, seed: number): Map<string, Tensor> {
  return new Map(graph.params.map((p) => [p.name, initTensor(p, seed)]));
}
