/** linear (PyTorch's Linear), dropout and matmul. */
import { ShapeError } from '../ir/errors.js';
import { boundSize, formatType } from '../ir/shape.js';
import { bool, checkKnown, none, num } from './attrs.js';
import { float } from './check.js';
import type { OpSpec } from './spec.js';

export const linear: OpSpec<Record<string, never>> = {
  doc: 'y = x @ weight^T + bias; x [..., in], weight [out, in], bias [out].',
  inputs: [{ name: 'x' }, { name: 'weight' }, { name: 'bias', optional: true }],
  outputs: ['y'],
  attrs: none,
  shape: ([xt, wt, bt]) => {
    const x = float(xt, 'x');
    const w = float(wt, 'weight', 2);
    if (x.shape.length < 1) throw new ShapeError(`input 'x' must have rank >= 1, got ${formatType(x)}`);
    const inF = x.shape[x.shape.length - 1];
    if (inF !== w.shape[1]) {
      throw new ShapeError(
        `x ${formatType(x)} has ${String(inF)} features but weight ${formatType(w)} expects ${String(w.shape[1])}`,
      );
    }
    if (bt) {
      const b = float(bt, 'bias', 1);
      if (b.shape[0] !== w.shape[0])
        throw new ShapeError(`bias ${formatType(b)} must have ${String(w.shape[0])} elements`);
    }
    return [{ dtype: 'float32', shape: [...x.shape.slice(0, -1), w.shape[0]!] }];
  },
  flops: ([x], [y], _a, bind) => boundSize(y!.shape, bind) * (x!.shape[x!.shape.length - 1] as number),
};

export interface DropoutAttrs {
  /** Probability of zeroing an element in train mode; survivors are scaled by 1 / (1 - p). */
  readonly p: number;
}

export const dropout: OpSpec<DropoutAttrs> = {
  doc: 'Train mode: zero each element with probability p and scale the rest by 1/(1-p). Eval mode: identity.',
  inputs: [{ name: 'x' }],
  outputs: ['y'],
  attrs: (raw) => {
    checkKnown(raw, ['p']);
    const p = num(raw, 'p', 0.5, 0, 1);
    if (p === 1) throw new ShapeError(`attribute 'p' must be below 1 (p = 1 zeroes everything)`);
    return { p };
  },
  shape: ([x]) => [{ dtype: 'float32', shape: float(x, 'x').shape }],
  flops: () => 0,
};

export interface MatmulAttrs {
  readonly transA: boolean;
  readonly transB: boolean;
}

export const matmul: OpSpec<MatmulAttrs> = {
  doc: 'y = op(a) @ op(b) for rank-2 a and b, op transposing when transA / transB is set.',
  inputs: [{ name: 'a' }, { name: 'b' }],
  outputs: ['y'],
  attrs: (raw) => {
    checkKnown(raw, ['transA', 'transB']);
    return { transA: bool(raw, 'transA', false), transB: bool(raw, 'transB', false) };
  },
  shape: ([at, bt], t) => {
    const a = float(at, 'a', 2);
    const b = float(bt, 'b', 2);
    const [m, ka] = t.transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
    const [kb, n] = t.transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
    if (ka !== kb)
      throw new ShapeError(
        `a ${formatType(a)} and b ${formatType(b)} do not multiply (inner sizes ${ka} vs ${kb})`,
      );
    return [{ dtype: 'float32', shape: [m, n] }];
  },
  flops: ([a], [y], t, bind) => boundSize(y!.shape, bind) * (a!.shape[t.transA ? 0 : 1] as number),
};
