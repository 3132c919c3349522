/** @siamese/cli: the `siamese` command. The programmatic entry point runs it with captured output. */

export { UsageError } from './errors.js';
export type { Output } from './io.js';
export { run } from './run.js';
