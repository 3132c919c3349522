/** One error type for the page to show: what went wrong, in one line, and of which kind. */

export type WebErrorKind =
  /** A model file could not be fetched (network, HTTP status). */
  | 'fetch'
  /** A file is not a model this package can run (manifest, ONNX metadata, checksum). */
  | 'format'
  /** The caller's input is wrong: not an image, a wrong tensor size, an unknown option. */
  | 'input'
  /** onnxruntime-web could not start or run (no execution provider, out of memory). */
  | 'runtime';

export class WebModelError extends Error {
  override readonly name = 'WebModelError';
  constructor(
    message: string,
    readonly kind: WebErrorKind,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A thrown value's message on one line (DOMException, Error, or anything else). */
export function oneLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.replace(/\s+/g, ' ').trim();
}
