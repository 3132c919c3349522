/**
 * A command is declared once: its options drive argument parsing, `--help` and the generated CLI
 * reference in the docs.
 */
import type { Output } from '../io.js';

export interface OptionDef {
  readonly type: 'string' | 'boolean';
  /** Shown in help; strings are validated by the command itself. */
  readonly description: string;
  /**
   * Used when the flag is not given (and, for flags a config file can set, when the file does not
   * set it either: flag > siamese.config.json > this default).
   */
  readonly default?: string | boolean;
  /** Placeholder for the value in usage lines, e.g. 'DIR'. */
  readonly value?: string;
  readonly short?: string;
  /** The siamese.config.json field that sets this option when the flag is not given, e.g. 'infer.device'. */
  readonly config?: string;
  readonly multiple?: boolean;
}

export interface CommandDef {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /**
   * Positional arguments as shown in usage, e.g. ['MODEL', 'A.png', 'B.png']; `[NAME]` marks an
   * optional one (only at the end). `run` checks the count before calling the command.
   */
  readonly positionals?: readonly string[];
  readonly options: Readonly<Record<string, OptionDef>>;
  /** Longer explanation and examples for `--help` and the docs. */
  readonly details?: string;
  readonly examples?: readonly string[];
  /** Returns the exit code, or nothing for 0. Throw for errors (user errors exit 2). */
  run(args: ParsedArgs, io: Output): Promise<number | undefined> | number | undefined | Promise<void> | void;
}

export interface ParsedArgs {
  /** Every option: the flag's value when given, else its declared default. */
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
  /** The options given on the command line (so that a config file can fill in the others). */
  readonly given: ReadonlySet<string>;
}
