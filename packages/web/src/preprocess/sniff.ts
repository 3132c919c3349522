/**
 * Which decoder sharp would shrink on load with: JPEG (FF D8 FF) or WebP (RIFF....WEBP), from a
 * file's first bytes. Self-contained: the preprocessing worker's source embeds this function.
 */
export function sniffFormat(head: Uint8Array): 'jpeg' | 'webp' | 'other' {
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  const ascii = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
  if (head.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  return 'other';
}
