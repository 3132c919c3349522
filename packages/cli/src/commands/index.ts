/** Every command, in the order `siamese --help` lists them. */
import { compare } from './compare.js';
import { convert } from './convert.js';
import { doctor } from './doctor.js';
import { embed } from './embed.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';
import { galleryIndex } from './gallery-index.js';
import { importCommand } from './import.js';
import { info } from './info.js';
import { lintCommand } from './lint.js';
import { score } from './score.js';
import { search } from './search.js';
import { serve } from './serve.js';
import { trainCommand } from './train.js';
import type { CommandDef } from './types.js';

export const COMMANDS: readonly CommandDef[] = [
  lintCommand,
  trainCommand,
  evalCommand,
  compare,
  exportCommand,
  importCommand,
  embed,
  search,
  galleryIndex,
  score,
  serve,
  convert,
  info,
  doctor,
];
export type { CommandDef, OptionDef, ParsedArgs } from './types.js';
