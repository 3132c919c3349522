/**
 * A command is declared once: its options drive argument parsing, `--help` and the generated CLI
 * reference in the docs.
 */
import type { Output } from '../io.js';

export interface OptionDef {
  readonly type: 'string' | 'boolean';
  /** Shown in help; strings are validated by the command itself. */
  readonly description: string;
  readonly default?: string | boolean;
  /** Placeholder for the value in usage lines, e.g. 'DIR'. */
  readonly value?: string;
  readonly short?: string;
  readonly multiple?: boolean;
}

export interface CommandDef {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Positional arguments as shown in usage, e.g. ['MODEL', 'A.png', 'B.png']. */
  readonly positionals?: readonly string[];
  readonly options: Readonly<Record<string, OptionDef>>;
  /** Longer explanation and examples for `--help` and the docs. */
  readonly details?: string;
  readonly examples?: readonly string[];
  run(args: ParsedArgs, io: Output): void | Promise<void>;
}

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
}
