/**
 * im2col in transposed (column-major) form for NHWC input: row k = (kh, kw, ci) in HWIO filter
 * order, column m = (n, oh, ow). `cols [K, M] @ dy [M, O]` is then the filter gradient [KH*KW*CI, O]
 * with no transpose in the GEMM (the fast path of the wasm matmul).
 */
export interface PatchGeometry {
  readonly batch: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly inChannels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly dilationHeight: number;
  readonly dilationWidth: number;
  readonly padTop: number;
  readonly padLeft: number;
}

export function im2colRows(g: PatchGeometry): number {
  return g.filterHeight * g.filterWidth * g.inChannels;
}

export function im2colCols(g: PatchGeometry): number {
  return g.batch * g.outHeight * g.outWidth;
}

/** Fills `out` (length K * M) from `x` [N, H, W, C]; padding reads as zero. */
export function im2colTransposed(x: Float32Array, g: PatchGeometry, out: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const M = im2colCols(g);
  const rowStride = W * C;
  const colStep = g.strideWidth * C;
  for (let kh = 0; kh < g.filterHeight; kh++) {
    for (let kw = 0; kw < g.filterWidth; kw++) {
      const dw = kw * g.dilationWidth - g.padLeft;
      // Output columns whose input column is inside the image: ow in [owLo, owHi).
      const owLo = Math.min(OW, Math.max(0, Math.ceil(-dw / g.strideWidth)));
      const owHi = Math.max(owLo, Math.min(OW, Math.ceil((W - dw) / g.strideWidth)));
      for (let ci = 0; ci < C; ci++) {
        let m = ((kh * g.filterWidth + kw) * C + ci) * M;
        for (let n = 0; n < g.batch; n++) {
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * g.strideHeight - g.padTop + kh * g.dilationHeight;
            if (ih < 0 || ih >= H) {
              out.fill(0, m, m + OW);
              m += OW;
              continue;
            }
            if (owLo > 0) out.fill(0, m, m + owLo);
            let src = (n * H + ih) * rowStride + (owLo * g.strideWidth + dw) * C + ci;
            for (let ow = owLo; ow < owHi; ow++) {
              out[m + ow] = x[src] as number;
              src += colStep;
            }
            if (owHi < OW) out.fill(0, m + owHi, m + OW);
            m += OW;
          }
        }
      }
    }
  }
}
