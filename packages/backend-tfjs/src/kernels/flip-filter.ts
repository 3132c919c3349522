/**
 * The filter of a stride-1 convolution's input gradient as a forward convolution: spatially
 * reversed with input and output channels swapped, `out[kh, kw, o, i] = w[KH-1-kh, KW-1-kw, i, o]`
 * (HWIO in, HWIO out). Pure data movement: the values are the filter's own.
 */
export function flipFilter(
  w: Float32Array,
  filterHeight: number,
  filterWidth: number,
  inChannels: number,
  outChannels: number,
  out: Float32Array,
): void {
  const I = inChannels;
  const O = outChannels;
  const tap = I * O;
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      const src = ((filterHeight - 1 - kh) * filterWidth + (filterWidth - 1 - kw)) * tap;
      const dst = (kh * filterWidth + kw) * tap;
      for (let i = 0; i < I; i++) {
        let s = src + i * O;
        let d = dst + i;
        for (let o = 0; o < O; o++, s++, d += I) out[d] = w[s] as number;
      }
    }
  }
}
