/** The one error type of the weights module: every problem with a weights file or map is a WeightsError. */
export class WeightsError extends Error {
  override name = 'WeightsError';
  constructor(
    message: string,
    /** The file the problem was found in, when known. */
    readonly source?: string,
    /** The tensor at fault, when there is one. */
    readonly tensor?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Builds the one-line message: `weights: [source: ]detail`. */
export function weightsError(
  detail: string,
  source?: string,
  tensor?: string,
  cause?: unknown,
): WeightsError {
  const where = source === undefined ? '' : `${source}: `;
  return new WeightsError(
    `weights: ${where}${detail}`,
    source,
    tensor,
    cause === undefined ? undefined : { cause },
  );
}
