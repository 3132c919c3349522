/**
 * Lighting jitter on float32 pixels in [0, 1]: contrast about the image mean, then brightness,
 * clamped; alone, or fused with normalization for the loader's hot path.
 */

/** In place: contrast about the image mean, then brightness, clamped to [0, 1]. */
export function adjustLighting(
  planes: Float32Array,
  length: number,
  contrast: number,
  brightness: number,
  offset = 0,
): void {
  if (contrast === 1 && brightness === 0) return;
  let mean = 0;
  if (contrast !== 1) {
    for (let i = offset; i < offset + length; i++) mean += planes[i] as number;
    mean /= length;
  }
  const add = mean * (1 - contrast) + brightness;
  for (let i = offset; i < offset + length; i++) {
    let v = (planes[i] as number) * contrast + add;
    if (v < 0) v = 0;
    else if (v > 1) v = 1;
    planes[i] = v;
  }
}

/**
 * In place, one pass: contrast and brightness (clamped to [0, 1]) then `(v - mean[c]) / std[c]`.
 * The same result as adjustLighting followed by normalize, for the loader's hot path.
 */
export function lightingNormalize(
  planes: Float32Array,
  channels: number,
  hw: number,
  contrast: number,
  brightness: number,
  mean: readonly number[],
  std: readonly number[],
  offset = 0,
): void {
  const length = channels * hw;
  let avg = 0;
  if (contrast !== 1) {
    for (let i = offset; i < offset + length; i++) avg += planes[i] as number;
    avg /= length;
  }
  const add = avg * (1 - contrast) + brightness;
  for (let c = 0; c < channels; c++) {
    const m = mean[c] ?? 0;
    const inv = 1 / (std[c] ?? 1);
    const end = offset + (c + 1) * hw;
    for (let i = offset + c * hw; i < end; i++) {
      let v = (planes[i] as number) * contrast + add;
      if (v < 0) v = 0;
      else if (v > 1) v = 1;
      planes[i] = (v - m) * inv;
    }
  }
}
