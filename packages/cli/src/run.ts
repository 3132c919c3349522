/** Dispatches `siamese <command>`; turns user errors into one line and an exit code. */
import { ArtifactError, GraphError, WeightsError } from '@siamese/core';
import { parseCommandArgs } from './args.js';
import { commandHelp, mainHelp } from './commands/help.js';
import { COMMANDS } from './commands/index.js';
import { ConfigError, UsageError } from './errors.js';
import { consoleOutput, type Output } from './io.js';
import { didYouMean } from './suggest.js';
import { cliVersion } from './version.js';

// Tools and tests parse arguments exactly as the CLI does.
export { parseCommandArgs } from './args.js';

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
    // parseArgs's own errors, should one get past parseCommandArgs's checks.
    (typeof code === 'string' && (code.startsWith('ERR_PARSE_ARGS') || FS_CODES.has(code)))
  );
}

const COMMAND_NAMES = COMMANDS.map((c) => c.name);

/** `unknown command 'trian' (did you mean train?)`, or the list of commands when none is close. */
function unknownCommand(name: string): string {
  const hint = didYouMean(name, COMMAND_NAMES);
  return `unknown command '${name}'${hint || ` (commands: ${COMMAND_NAMES.join(', ')})`}`;
}

/** `siamese help [COMMAND]`: the same text as `--help`. */
function help(rest: readonly string[], io: Output): number {
  const [name, ...extra] = rest;
  if (extra.length) {
    io.err(`siamese help: takes at most [COMMAND] (got ${rest.map((a) => `'${a}'`).join(' ')})`);
    return 2;
  }
  if (name === undefined) {
    io.out(mainHelp(COMMANDS));
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`siamese help: ${unknownCommand(name)}`);
    return 2;
  }
  io.out(commandHelp(command));
  return 0;
}

/** Runs the CLI and returns the process exit code. */
export async function run(argv: string[], io: Output = consoleOutput): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    io.out(mainHelp(COMMANDS));
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V') {
    io.out(cliVersion());
    return 0;
  }
  if (name === 'help') return help(rest, io);
  if (name.startsWith('-')) {
    const hint = didYouMean(name.replace(/^-+/, ''), ['help', 'version'], (n) => `--${n}`);
    io.err(`siamese: unknown option ${name}${hint || ' (before a command: --help, --version)'}`);
    return 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`siamese: ${unknownCommand(name)}`);
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
