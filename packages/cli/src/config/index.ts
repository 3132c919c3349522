/** siamese.config.json: schema, loading, merging with flags. */
export {
  checkConfig,
  configFor,
  isBuiltinSource,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
  setting,
} from './load.js';
export type { Infer, JsonSchema, ObjectOf, Schema, Shape } from './schema.js';
export {
  CONFIG_FILE,
  CONFIG_SCHEMA_FILE,
  configJsonSchema,
  type DataConfig,
  INFER_DEVICES,
  type InferConfig,
  type ModelConfig,
  OPTIMIZERS,
  type SiameseConfig,
  siameseConfigSchema,
  TRAIN_BACKENDS,
  TRAIN_DEVICES,
  type TrainConfig,
} from './siamese-config.js';
