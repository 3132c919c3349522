/**
 * Runtime values and their layout. The IR is NCHW with OIHW weights; inside tfjs activations are
 * NHWC and conv weights HWIO. A value carries its layout, so conversions happen once, at the
 * boundary or where an op really needs the IR layout (e.g. flatten of a spatial map).
 */
import * as tf from '@tensorflow/tfjs-core';

/** `ir`: the IR's own layout (any rank). `nhwc`: a rank-4 activation. `hwio`: a rank-4 conv weight. */
export type Layout = 'ir' | 'nhwc' | 'hwio';

export interface Val {
  readonly t: tf.Tensor;
  readonly layout: Layout;
}

export const NCHW_TO_NHWC = [0, 2, 3, 1];
export const NHWC_TO_NCHW = [0, 3, 1, 2];
export const OIHW_TO_HWIO = [2, 3, 1, 0];
export const HWIO_TO_OIHW = [3, 2, 0, 1];

export const ir = (t: tf.Tensor): Val => ({ t, layout: 'ir' });
export const nhwc = (t: tf.Tensor): Val => ({ t, layout: 'nhwc' });

/** The tensor in the IR's layout. */
export function toIR(v: Val): tf.Tensor {
  if (v.layout === 'nhwc') return tf.transpose(v.t, NHWC_TO_NCHW);
  if (v.layout === 'hwio') return tf.transpose(v.t, HWIO_TO_OIHW);
  return v.t;
}

/** A rank-4 activation as NHWC. */
export function toNHWC(v: Val): tf.Tensor4D {
  if (v.layout === 'nhwc') return v.t as tf.Tensor4D;
  if (v.layout !== 'ir' || v.t.rank !== 4)
    throw new Error(`expected a rank-4 activation, got [${v.t.shape}]`);
  return tf.transpose(v.t, NCHW_TO_NHWC) as tf.Tensor4D;
}

/** A conv weight as HWIO. */
export function toHWIO(v: Val): tf.Tensor4D {
  if (v.layout === 'hwio') return v.t as tf.Tensor4D;
  return tf.transpose(toIR(v), OIHW_TO_HWIO) as tf.Tensor4D;
}

/** Stored axis of each IR axis: IR axis `k` of `v` is axis `irAxes(v)[k]` of `v.t`. */
export function irAxes(v: Val): number[] {
  if (v.layout === 'nhwc') return NHWC_TO_NCHW;
  if (v.layout === 'hwio') return HWIO_TO_OIHW;
  return v.t.shape.map((_, i) => i);
}

/** IR axis of each stored axis: axis `j` of `v.t` is IR axis `storedAxes(v)[j]`. */
export function storedAxes(v: Val): number[] {
  if (v.layout === 'nhwc') return NCHW_TO_NHWC;
  if (v.layout === 'hwio') return OIHW_TO_HWIO;
  return v.t.shape.map((_, i) => i);
}

/** The shape in the IR layout, without moving data (what a `like` input gives). */
export function irShape(v: Val): number[] {
  return irAxes(v).map((a) => v.t.shape[a] as number);
}

export function need(v: Val | undefined, what: string): Val {
  if (v === undefined) throw new Error(`input '${what}' is missing`);
  return v;
}
