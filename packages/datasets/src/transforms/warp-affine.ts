/** The affine warp kernel: inverse-mapped bilinear sampling of CHW float32 planes, with edge or value fill. */
import type { Affine } from './affine.js';

/**
 * dst(x, y) = src(M⁻¹ (x, y)) for every channel, bilinear; `inverse` maps destination pixels to
 * source coordinates. Outside the source: the border pixel (`edge`) or the fill value per channel.
 */
export function warpAffine(
  src: Float32Array,
  dst: Float32Array,
  channels: number,
  width: number,
  height: number,
  inverse: Affine,
  fill: 'edge' | readonly number[] = 'edge',
  offset = 0,
): void {
  const [a, b, c, d, e, f] = inverse;
  const hw = width * height;
  const edge = fill === 'edge';
  const maxX = width - 1;
  const maxY = height - 1;
  for (let y = 0; y < height; y++) {
    let sx = b * y + c;
    let sy = e * y + f;
    for (let x = 0; x < width; x++, sx += a, sy += d) {
      const o = offset + y * width + x;
      if (sx >= 0 && sy >= 0 && sx < maxX && sy < maxY) {
        // Fast path: all four neighbours inside (most pixels).
        const x0 = sx | 0;
        const y0 = sy | 0;
        const wx = sx - x0;
        const wy = sy - y0;
        const w00 = (1 - wx) * (1 - wy);
        const w10 = wx * (1 - wy);
        const w01 = (1 - wx) * wy;
        const w11 = wx * wy;
        let i = y0 * width + x0;
        for (let ch = 0, to = o; ch < channels; ch++, i += hw, to += hw) {
          dst[to] =
            (src[i] as number) * w00 +
            (src[i + 1] as number) * w10 +
            (src[i + width] as number) * w01 +
            (src[i + width + 1] as number) * w11;
        }
        continue;
      }
      let fx = sx;
      let fy = sy;
      if (!(fx >= 0 && fx <= maxX && fy >= 0 && fy <= maxY)) {
        if (!edge && (fx <= -1 || fx >= width || fy <= -1 || fy >= height)) {
          for (let ch = 0; ch < channels; ch++)
            dst[o + ch * hw] = (fill as readonly number[])[ch] ?? (fill as readonly number[])[0] ?? 0;
          continue;
        }
        if (edge) {
          fx = Math.min(Math.max(fx, 0), maxX);
          fy = Math.min(Math.max(fy, 0), maxY);
        }
      }
      // Bilinear over the (up to) four neighbours; outside ones take the fill value.
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const wx = fx - x0;
      const wy = fy - y0;
      const x1 = x0 + 1;
      const y1 = y0 + 1;
      const in00 = x0 >= 0 && y0 >= 0;
      const in10 = x1 <= maxX && y0 >= 0;
      const in01 = x0 >= 0 && y1 <= maxY;
      const in11 = x1 <= maxX && y1 <= maxY;
      const w00 = (1 - wx) * (1 - wy);
      const w10 = wx * (1 - wy);
      const w01 = (1 - wx) * wy;
      const w11 = wx * wy;
      const i00 = y0 * width + x0;
      for (let ch = 0; ch < channels; ch++) {
        const base = ch * hw;
        const out = edge ? 0 : ((fill as readonly number[])[ch] ?? (fill as readonly number[])[0] ?? 0);
        const v00 = in00 ? (src[base + i00] as number) : out;
        const v10 = in10 && w10 !== 0 ? (src[base + i00 + 1] as number) : out;
        const v01 = in01 && w01 !== 0 ? (src[base + i00 + width] as number) : out;
        const v11 = in11 && w11 !== 0 ? (src[base + i00 + width + 1] as number) : out;
        dst[o + base] = v00 * w00 + v10 * w10 + v01 * w01 + v11 * w11;
      }
    }
  }
}
