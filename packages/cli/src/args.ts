/**
 * A command's arguments, parsed from its declaration. node:util's parseArgs does the splitting;
 * its strict mode is off because its messages are written for programmers (and it takes `-1` for
 * an option), so the tokens are checked here and every mistake is one line naming the flag.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { CommandDef, OptionDef, ParsedArgs } from './commands/types.js';
import { UsageError } from './errors.js';
import { didYouMean } from './suggest.js';

/** Flags every command takes on top of its own (run handles them). */
const GLOBAL_FLAGS = ['help', 'verbose'];

/** `-1`, `-0.5`, `-.5`, `-1e-3`: a value, not a flag. */
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

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

type Token = NonNullable<ReturnType<typeof parseArgs>['tokens']>[number];

/** One option as parseArgs read it, against its declaration. */
function checkOption(c: CommandDef, token: Extract<Token, { kind: 'option' }>): void {
  const o: OptionDef | undefined = c.options[token.name];
  const flag = token.rawName;
  if (!o) {
    const candidates = [...Object.keys(c.options), ...GLOBAL_FLAGS];
    throw new UsageError(
      `unknown option ${flag}${flag.startsWith('--') ? didYouMean(token.name, candidates, (n) => `--${n}`) : ''}`,
    );
  }
  if (o.type === 'boolean') {
    if (token.value !== undefined)
      throw new UsageError(`${flag} takes no value, got '${flag}=${token.value}'`);
    return;
  }
  const needs = `${flag} needs a value (${o.value ?? 'VALUE'})`;
  if (token.value === undefined) throw new UsageError(needs);
  // parseArgs takes the next argument whatever it is: a flag there means the value was left out
  // (a value that starts with '-' can still be given as --flag=-value).
  if (!token.inlineValue && token.value.startsWith('-') && !NEGATIVE_NUMBER.test(token.value))
    throw new UsageError(`${needs}, got the option ${token.value}`);
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
    strict: false,
    tokens: true,
  });
  for (const token of parsed.tokens) if (token.kind === 'option') checkOption(c, token);
  checkPositionals(c, parsed.positionals);
  const given = parsed.values as Record<string, string | boolean | string[] | undefined>;
  return {
    values: { ...defaults, ...given },
    positionals: parsed.positionals,
    given: new Set(Object.keys(given)),
  };
}
