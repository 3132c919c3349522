/** A problem with what the user asked for: printed as one line, exit code 2, no stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** One bad field of a config file: where it is and what was expected. */
export interface ConfigIssue {
  /** Dotted path inside the file, e.g. `train.batchSize` or `model.head.hidden[1]`. */
  readonly path: string;
  /** `expected a positive integer, got -3`. */
  readonly message: string;
  /** Where in the file (1-based), for problems that have a place rather than a field: JSON syntax. */
  readonly line?: number;
  readonly column?: number;
}

/** `file:4:7: message`, `file: train.lr: message` or `file: message`. */
function issueLine(file: string, i: ConfigIssue): string {
  if (i.line !== undefined) return `${file}:${i.line}:${i.column ?? 1}: ${i.message}`;
  return `${file}: ${i.path ? `${i.path}: ` : ''}${i.message}`;
}

/**
 * A config file that cannot be used. The message has one line per bad field
 * (`siamese.config.json: train.batchSize: expected a positive integer, got -3`; a syntax error as
 * `siamese.config.json:4:7: not valid JSON: ...`), and `run` prints each of them as its own line.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    /** The file as the user named it (or found it). */
    readonly file: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(issues.map((i) => issueLine(file, i)).join('\n'));
  }
}

/** An int8 model that costs more accuracy than the targets allow: exit code 1, nothing written. */
export class QuantizeError extends Error {
  override name = 'QuantizeError';
}
