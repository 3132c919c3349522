/** Dispatches `siamese <command>`; turns user errors into one line and an exit code. */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ArtifactError, GraphError, WeightsError } from '@siamese/core';
import { commandHelp, mainHelp } from './commands/help.js';
import { COMMANDS } from './commands/index.js';
import type { CommandDef, ParsedArgs } from './commands/types.js';
import { ConfigError, UsageError } from './errors.js';
import { consoleOutput, type Output } from './io.js';

/**
 * Errors from other packages, known by name so that this module does not have to load them:
 * backend-onnx's DeviceError and InputError, datasets' DatasetError, core's TrainingError.
 */
const USER_ERROR_NAMES = new Set(['DeviceError', 'InputError', 'DatasetError', 'TrainingError']);

/** File-system failures on paths the user named: their machine, not our bug. */
const FS_CODES = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EEXIST', 'ENOSPC', 'EROFS']);

/** Errors that describe the user's input or machine: printed as one line, exit code 2. */
export function isUserError(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  return (
    e instanceof UsageError ||
    e instanceof ConfigError ||
    e instanceof GraphError ||
    e instanceof ArtifactError ||
    e instanceof WeightsError ||
    USER_ERROR_NAMES.has((e as Error | undefined)?.name ?? '') ||
    // parseArgs reports unknown flags and missing values with ERR_PARSE_ARGS_* codes.
    (typeof code === 'string' && (code.startsWith('ERR_PARSE_ARGS') || FS_CODES.has(code)))
  );
}

/** Checks the number of positionals against the declaration (`[NAME]` is optional). */
function checkPositionals(c: CommandDef, got: readonly string[]): void {
  const declared = c.positionals ?? [];
  const required = declared.filter((p) => !p.startsWith('[')).length;
  if (got.length >= required && got.length <= declared.length) return;
  const shown = got.length ? ` (got ${got.map((g) => `'${g}'`).join(' ')})` : '';
  if (declared.length === 0) throw new UsageError(`takes no arguments${shown}`);
  if (got.length < required) throw new UsageError(`needs ${declared.join(' ')}${shown}`);
  throw new UsageError(`takes at most ${declared.join(' ')}${shown}`);
}

/** Parses `args` for a command: defaults apply after parsing, so `given` knows what was typed. */
export function parseCommandArgs(c: CommandDef, args: readonly string[]): ParsedArgs {
  const options: ParseArgsConfig['options'] = {};
  const defaults: Record<string, string | boolean> = {};
  for (const [name, o] of Object.entries(c.options)) {
    options[name] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    };
    if (o.default !== undefined) defaults[name] = o.default;
  }
  const parsed = parseArgs({
    args: [...args],
    options,
    allowPositionals: true, // counted by checkPositionals, with a clearer message
    strict: true,
  });
  checkPositionals(c, parsed.positionals);
  const given = parsed.values as Record<string, string | boolean | string[] | undefined>;
  return {
    values: { ...defaults, ...given },
    positionals: parsed.positionals,
    given: new Set(Object.keys(given)),
  };
}

/** Runs the CLI and returns the process exit code. */
export async function run(argv: string[], io: Output = consoleOutput): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    io.out(mainHelp(COMMANDS));
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`siamese: unknown command '${name}' (commands: ${COMMANDS.map((c) => c.name).join(', ')})`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(commandHelp(command));
    return 0;
  }
  const verbose = rest.includes('--verbose');
  try {
    const args = parseCommandArgs(
      command,
      rest.filter((a) => a !== '--verbose'),
    );
    return (await command.run(args, io)) ?? 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // A config file with several bad fields: one line each; anything else: one line.
    const lines = e instanceof ConfigError ? message.split('\n') : [message.replace(/\s*\n\s*/g, '; ')];
    for (const line of lines) io.err(`siamese ${name}: ${line}`);
    if (verbose && (e as Error).stack) io.err((e as Error).stack!);
    return isUserError(e) ? 2 : 1;
  }
}
