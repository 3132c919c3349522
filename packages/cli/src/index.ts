/** @siamese/cli: the `siamese` command. The programmatic entry point runs it with captured output. */

export type { CommandDef, OptionDef, ParsedArgs } from './commands/index.js';
export { COMMANDS } from './commands/index.js';
export {
  CONFIG_FILE,
  CONFIG_SCHEMA_FILE,
  checkConfig,
  configJsonSchema,
  type DataConfig,
  type Infer,
  type InferConfig,
  type JsonSchema,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
  type ModelConfig,
  type ObjectOf,
  type Schema,
  type Shape,
  type SiameseConfig,
  setting,
  siameseConfigSchema,
  type TrainConfig,
} from './config/index.js';
export { ConfigError, type ConfigIssue, UsageError } from './errors.js';
export {
  type EmbeddedItem,
  type EmbeddingsIndex,
  loadEmbeddings,
  saveEmbeddings,
} from './infer/embeddings-file.js';
export type { Output } from './io.js';
export { isUserError, run } from './run.js';
