/** Dispatches `siamese <command>`; turns user errors into one line and an exit code. */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ArtifactError, GraphError, WeightsError } from '@siamese/core';
import { commandHelp, mainHelp } from './commands/help.js';
import { COMMANDS } from './commands/index.js';
import { UsageError } from './errors.js';
import { consoleOutput, type Output } from './io.js';

/** Errors that describe the user's input or machine: printed as one line, exit code 2. */
function isUserError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return (
    e instanceof UsageError ||
    e instanceof GraphError ||
    e instanceof ArtifactError ||
    e instanceof WeightsError ||
    (e as Error).name === 'DeviceError' ||
    (e as Error).name === 'InputError' ||
    (e as Error).name === 'DatasetError' ||
    // parseArgs reports unknown flags and missing values with ERR_PARSE_ARGS_* codes.
    (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
  );
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
    const parsed = parseArgs({
      args: rest.filter((a) => a !== '--verbose'),
      // Extra keys (description, value) are ignored by parseArgs.
      options: command.options as ParseArgsConfig['options'],
      allowPositionals: (command.positionals?.length ?? 0) > 0,
      strict: true,
    });
    await command.run(
      {
        values: parsed.values as Record<string, string | boolean | string[] | undefined>,
        positionals: parsed.positionals,
      },
      io,
    );
    return 0;
  } catch (e) {
    io.err(`siamese ${name}: ${(e as Error).message}`);
    if (verbose && (e as Error).stack) io.err((e as Error).stack!);
    return isUserError(e) ? 2 : 1;
  }
}
