/**
 * col2im, the adjoint of im2col: scatters-adds patch rows `cols [M, K]` (m = (n, oh, ow), k = (kh,
 * kw, ci) in HWIO order) back onto an NHWC image. `dy [M, O] @ filter^T [O, K]` then col2im is the
 * input gradient of a convolution.
 */
import type { PatchGeometry } from './im2col.js';

/** Adds into `dx` [N, H, W, C] (zero it first); taps that fall in the padding are dropped. */
export function col2imAdd(cols: Float32Array, g: PatchGeometry, dx: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const K = g.filterHeight * g.filterWidth * C;
  let row = 0;
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, row += K) {
        for (let kh = 0; kh < g.filterHeight; kh++) {
          const ih = oh * g.strideHeight - g.padTop + kh * g.dilationHeight;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < g.filterWidth; kw++) {
            const iw = ow * g.strideWidth - g.padLeft + kw * g.dilationWidth;
            if (iw < 0 || iw >= W) continue;
            const src = row + (kh * g.filterWidth + kw) * C;
            const dst = ((n * H + ih) * W + iw) * C;
            for (let c = 0; c < C; c++) dx[dst + c] = (dx[dst + c] as number) + (cols[src + c] as number);
          }
        }
      }
    }
  }
}
