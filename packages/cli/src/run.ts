/** Dispatches `siamese <command>`; turns user errors into one line and an exit code. */
import { GraphError } from '@siamese/core';
import { INFO_HELP, info } from './commands/info.js';
import { UsageError } from './errors.js';
import { consoleOutput, type Output } from './io.js';

const COMMANDS: Record<string, { help: string; run: (argv: string[], io: Output) => void | Promise<void> }> =
  {
    info: { help: INFO_HELP, run: info },
  };

const USAGE = `usage: siamese <command> [options]

commands:
  info    model summary: architecture, parameters, multiply-adds

Run 'siamese <command> --help' for a command's options.`;

/** Runs the CLI and returns the process exit code. */
export async function run(argv: string[], io: Output = consoleOutput): Promise<number> {
  const [name, ...rest] = argv;
  const verbose = rest.includes('--verbose');
  const args = rest.filter((a) => a !== '--verbose');
  if (!name || name === '--help' || name === '-h') {
    io.out(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`siamese: unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out(command.help);
    return 0;
  }
  try {
    await command.run(args, io);
    return 0;
  } catch (e) {
    const err = e as Error & { code?: string };
    // parseArgs reports unknown flags and missing values with ERR_PARSE_ARGS_* codes.
    const userError =
      e instanceof UsageError || e instanceof GraphError || err.code?.startsWith('ERR_PARSE_ARGS');
    io.err(`siamese ${name}: ${err.message}`);
    if (verbose && err.stack) io.err(err.stack);
    return userError ? 2 : 1;
  }
}
