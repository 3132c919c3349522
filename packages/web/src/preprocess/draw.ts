/**
 * An image's pixels at its own size, over white (transparent pixels end up over white, as sharp's
 * flatten puts them), as RGBA. Self-contained (no outer references): the preprocessing worker's
 * source embeds this function's text.
 */
export function readRgba(image: ImageBitmap): { data: Uint8ClampedArray; width: number; height: number } {
  const { width, height } = image;
  const canvas =
    typeof OffscreenCanvas === 'undefined'
      ? Object.assign(document.createElement('canvas'), { width, height })
      : new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true }) as
    | CanvasRenderingContext2D
    | OffscreenCanvasRenderingContext2D
    | null;
  if (!ctx) throw new Error('no 2D canvas context');
  ctx.fillStyle = 'rgb(255, 255, 255)';
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(image, 0, 0);
  return { data: ctx.getImageData(0, 0, width, height).data, width, height };
}
