/** The one error type of @siamese/datasets: every problem with the data or the options is a DatasetError. */

/** What went wrong, for code that reacts to a kind of problem; the message is for people. */
export type DatasetErrorCode =
  /** A folder or file that was named does not exist, or is the wrong kind. */
  | 'not-found'
  /** A file that is empty, not an image, truncated or corrupt. */
  | 'invalid-image'
  /** An image over the decoder's pixel limit (decompression-bomb guard). */
  | 'pixel-limit'
  /** A dataset with no usable images, or too few classes/images for what was asked. */
  | 'empty'
  | 'too-few'
  /** A malformed CSV row. */
  | 'csv'
  /** A split manifest that cannot be read or does not match the dataset. */
  | 'manifest'
  /** An option out of range. */
  | 'options';

export class DatasetError extends Error {
  override name = 'DatasetError';
  constructor(
    message: string,
    readonly code: DatasetErrorCode,
    /** The file the problem was found in, when there is one. */
    readonly file?: string,
    options?: ErrorOptions,
  ) {
    super(oneLine(message), options);
  }
}

/** Builds the one-line message `dataset: [file: ]detail`. */
export function datasetError(
  code: DatasetErrorCode,
  detail: string,
  file?: string,
  cause?: unknown,
): DatasetError {
  const where = file === undefined ? '' : `${file}: `;
  return new DatasetError(
    `dataset: ${where}${detail}`,
    code,
    file,
    cause === undefined ? undefined : { cause },
  );
}

/** Messages from other libraries can span lines; ours never do. */
export function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, '; ').trim();
}
