/**
 * The resized image inside the model's input: `fill` covers it; `letterbox` centres it (offsets
 * rounded down, as sharp's embed does) on the pad colour. RGBA in, RGBA out. Self-contained (no
 * outer references): the preprocessing worker's source embeds this function's text.
 */
export function placeRgba(
  image: { readonly data: Uint8ClampedArray; readonly width: number; readonly height: number },
  width: number,
  height: number,
  pad: readonly number[],
): Uint8ClampedArray {
  if (image.width === width && image.height === height) return image.data;
  const out = new Uint8ClampedArray(width * height * 4);
  const byte = (i: number) => Math.round(Math.min(1, Math.max(0, pad[i] ?? pad[0] ?? 0)) * 255);
  const rgb = [byte(0), byte(1), byte(2)];
  for (let i = 0; i < width * height; i++) {
    out[i * 4] = rgb[0] as number;
    out[i * 4 + 1] = rgb[1] as number;
    out[i * 4 + 2] = rgb[2] as number;
    out[i * 4 + 3] = 255;
  }
  const left = Math.floor((width - image.width) / 2);
  const top = Math.floor((height - image.height) / 2);
  for (let y = 0; y < image.height; y++) {
    const ty = top + y;
    if (ty < 0 || ty >= height) continue;
    for (let x = 0; x < image.width; x++) {
      const tx = left + x;
      if (tx < 0 || tx >= width) continue;
      const s = (y * image.width + x) * 4;
      const d = (ty * width + tx) * 4;
      out[d] = image.data[s] as number;
      out[d + 1] = image.data[s + 1] as number;
      out[d + 2] = image.data[s + 2] as number;
    }
  }
  return out;
}
