/**
 * From RGBA pixels at the model's size to its input tensor, as `siamese compare` computes it:
 * grayscale as sharp's `b-w` (the luminance of linear-light sRGB, re-encoded to 8 bits), then
 * `(v / 255 - mean) / std` per channel, planar (CHW). Self-contained (no outer references): the
 * preprocessing worker's source embeds this function's text.
 */
export function rgbaToTensor(
  rgba: Uint8ClampedArray,
  pixels: number,
  channels: number,
  mean: readonly number[],
  std: readonly number[],
  out: Float32Array,
  offset: number,
): void {
  if (channels === 3) {
    for (let c = 0; c < 3; c++) {
      const scale = 1 / (255 * (std[c] as number));
      const shift = (mean[c] as number) / (std[c] as number);
      const base = offset + c * pixels;
      for (let i = 0; i < pixels; i++) out[base + i] = (rgba[i * 4 + c] as number) * scale - shift;
    }
    return;
  }
  const linear = new Float64Array(256);
  for (let v = 0; v < 256; v++) {
    const s = v / 255;
    linear[v] = s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }
  const scale = 1 / (255 * (std[0] as number));
  const shift = (mean[0] as number) / (std[0] as number);
  for (let i = 0; i < pixels; i++) {
    const y =
      0.2126729 * (linear[rgba[i * 4] as number] as number) +
      0.7151522 * (linear[rgba[i * 4 + 1] as number] as number) +
      0.072175 * (linear[rgba[i * 4 + 2] as number] as number);
    const encoded = y <= 0.0031308 ? 12.92 * y : 1.055 * y ** (1 / 2.4) - 0.055;
    const gray = Math.round(Math.min(1, Math.max(0, encoded)) * 255);
    out[offset + i] = gray * scale - shift;
  }
}
