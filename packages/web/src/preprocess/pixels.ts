/**
 * From RGBA pixels at the model's size to its input tensor, as `siamese compare` computes it:
 * grayscale as sharp's `b-w` (the luminance of linear-light sRGB, re-encoded to 8 bits, in
 * libvips' float32 arithmetic and tables, so the grey levels are sharp's own), then
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
  // libvips' sRGB -> b-w in its own float32 arithmetic and tables (what sharp computes exactly):
  // 8-bit value -> linear light; Rec. 709 luminance; linear light -> 8-bit through a 256-step table,
  // interpolated and rounded half to even.
  const f32 = Math.fround;
  const toLinear = new Float32Array(256);
  const toByte = new Float32Array(257);
  for (let v = 0; v < 256; v++) {
    const f = f32(v / 255);
    toLinear[v] = f <= 0.04045 ? f32(f / 12.92) : f32(f32(f32(f + 0.055) / 1.055) ** 2.4);
    const e = f <= 0.0031308 ? f32(12.92 * f) : f32(f32(1.055 * f32(f ** (1 / 2.4))) - 0.055);
    toByte[v] = Math.round(f32(255 * e));
  }
  toByte[256] = toByte[255] as number;
  const rint = (x: number) => {
    const r = Math.round(x);
    return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
  };
  const scale = 1 / (255 * (std[0] as number));
  const shift = (mean[0] as number) / (std[0] as number);
  for (let i = 0; i < pixels; i++) {
    const y = f32(
      f32(
        f32(0.2126 * (toLinear[rgba[i * 4] as number] as number)) +
          f32(0.7152 * (toLinear[rgba[i * 4 + 1] as number] as number)),
      ) + f32(0.0722 * (toLinear[rgba[i * 4 + 2] as number] as number)),
    );
    const at = Math.min(255, Math.max(0, f32(y * 255)));
    const k = Math.trunc(at);
    const lo = toByte[k] as number;
    const gray = rint(f32(lo + f32(f32((toByte[k + 1] as number) - lo) * f32(at - k))));
    out[offset + i] = gray * scale - shift;
  }
}
