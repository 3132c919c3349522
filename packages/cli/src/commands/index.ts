/** Every command, in the order `siamese --help` lists them. */
import { info } from './info.js';
import type { CommandDef } from './types.js';

export const COMMANDS: readonly CommandDef[] = [info];
export type { CommandDef, OptionDef, ParsedArgs } from './types.js';
