/**
 * Finding, reading and checking siamese.config.json, and merging it with flags: a flag given on
 * the command line wins, then the file, then the option's default.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ParsedArgs } from '../commands/types.js';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { jsonSyntaxError } from './json-syntax.js';
import { CONFIG_FILE, type SiameseConfig, siameseConfigSchema } from './siamese-config.js';

export interface LoadedConfig {
  /** The checked settings; paths in them are absolute (they were relative to the file). */
  readonly config: SiameseConfig;
  /** The file read, as named or found; undefined when there was none. */
  readonly file?: string;
}

export interface LoadConfigOptions {
  /** A file named by the user (`--config`): it must exist. */
  readonly path?: string;
  /** Where `siamese.config.json` is looked for when no path is given. Default: the working directory. */
  readonly cwd?: string;
}

/** Data sources that are not paths. */
export function isBuiltinSource(source: string): boolean {
  return source === 'mnist' || source.startsWith('mnist:');
}

function resolvePaths(c: SiameseConfig, base: string): SiameseConfig {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  return {
    ...c,
    ...(c.data
      ? {
          data: {
            ...c.data,
            ...(c.data.source !== undefined && !isBuiltinSource(c.data.source)
              ? { source: at(c.data.source) }
              : {}),
            ...(c.data.split !== undefined ? { split: at(c.data.split) } : {}),
          },
        }
      : {}),
    ...(c.train?.out !== undefined ? { train: { ...c.train, out: at(c.train.out) } } : {}),
  };
}

/** Checks parsed JSON against the schema; throws one ConfigError listing every bad field. */
export function checkConfig(raw: unknown, file = CONFIG_FILE): SiameseConfig {
  const issues: ConfigIssue[] = [];
  const config = siameseConfigSchema.check(raw, '', issues);
  if (config === undefined || issues.length > 0) throw new ConfigError(file, issues);
  return config;
}

/** Reads the config named by `path`, or `siamese.config.json` in `cwd` when it exists, or nothing. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const file = options.path ?? CONFIG_FILE;
  const full = resolve(cwd, file);
  const info = await stat(full).catch(() => undefined);
  if (!info) {
    if (options.path === undefined) return { config: {} };
    throw new ConfigError(file, [{ path: '', message: 'config file does not exist' }]);
  }
  if (!info.isFile()) throw new ConfigError(file, [{ path: '', message: 'is a folder, not a config file' }]);
  // A byte-order mark is not JSON; editors do not count it as a column either.
  const text = (await readFile(full, 'utf8')).replace(/^\uFEFF/, '');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const { message, ...at } = jsonSyntaxError(text, e as Error);
    throw new ConfigError(file, [{ path: '', message: `not valid JSON: ${message}`, ...at }]);
  }
  return { config: resolvePaths(checkConfig(raw, file), dirname(full)), file };
}

/** The config a command's `--config` option names (or the default file). */
export function configFor(args: ParsedArgs, cwd?: string): Promise<LoadedConfig> {
  const path = args.values.config;
  return loadConfig({
    ...(typeof path === 'string' ? { path } : {}),
    ...(cwd !== undefined ? { cwd } : {}),
  });
}

/**
 * One setting: the flag when it was given, else the config file's value (as the flag would
 * spell it), else the flag's default.
 */
export function setting(
  args: ParsedArgs,
  flag: string,
  fromConfig: string | number | boolean | undefined,
): string | boolean | undefined {
  const v = args.values[flag];
  if (args.given.has(flag) || fromConfig === undefined) return Array.isArray(v) ? v.at(-1) : v;
  return typeof fromConfig === 'boolean' ? fromConfig : String(fromConfig);
}
