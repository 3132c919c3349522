/**
 * Checkpoints: a model artifact folder (model.json + weights.safetensors) plus the optimizer
 * state and the loop's own position, so a resumed run continues its optimizer and step count.
 * The whole folder is replaced at once (`replaceFolder`): an interrupted save (Ctrl-C twice, a
 * full disk) leaves the previous checkpoint whole, never new weights beside an old optimizer state.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModel, writeModelFiles } from '../artifact/file.js';
import type { ModelArtifact } from '../artifact/model.js';
import type { Tensor } from '../tensor/tensor.js';
import { loadWeights, saveWeights, writeFileAtomic } from '../weights/file.js';
import { recoverFolder, replaceFolder } from '../weights/folder.js';
import type { OptimizerState } from './backend.js';
import type { EarlyStopping } from './early-stopping.js';
import type { EpochRecord } from './events.js';

export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const TRAINER_FILE = 'trainer.json';

export interface TrainerState {
  /** The run that wrote the checkpoint: a resumed run continues only its own. */
  readonly runId?: string;
  /** Epochs fully completed. */
  readonly epoch: number;
  /** Global optimizer steps taken. */
  readonly step: number;
  readonly earlyStopping?: ReturnType<EarlyStopping['toJSON']>;
  readonly history: readonly EpochRecord[];
}

export interface Checkpoint {
  readonly model: ModelArtifact;
  readonly optimizer: OptimizerState;
  readonly trainer: TrainerState;
}

export async function saveCheckpoint(dir: string, c: Checkpoint): Promise<void> {
  await replaceFolder(dir, async (tmp) => {
    await writeModelFiles(tmp, c.model);
    await saveWeights(join(tmp, OPTIMIZER_FILE), c.optimizer.slots, { step: String(c.optimizer.step) });
    const json = `${JSON.stringify({ format: 'siamese-trainer', ...c.trainer }, null, 1)}\n`;
    await writeFileAtomic(join(tmp, TRAINER_FILE), new TextEncoder().encode(json));
  });
}

/** The checkpoint in `dir`, or undefined when there is none (or it was never completed). */
export async function loadCheckpoint(dir: string): Promise<Checkpoint | undefined> {
  // A writer killed mid-swap: the newest complete checkpoint wins.
  await recoverFolder(dir);
  const text = await readFile(join(dir, TRAINER_FILE), 'utf8').catch((e: unknown) => {
    // Only a missing checkpoint means "start fresh"; an unreadable one must not be trained over.
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw new Error(`checkpoint: cannot read ${join(dir, TRAINER_FILE)}: ${(e as Error).message}`);
  });
  if (text === undefined) return undefined;
  let trainer: TrainerState & { format?: string };
  try {
    trainer = JSON.parse(text);
  } catch (e) {
    throw new Error(`checkpoint: ${join(dir, TRAINER_FILE)} is not valid JSON (${(e as Error).message})`);
  }
  if (
    trainer.format !== 'siamese-trainer' ||
    !Number.isInteger(trainer.step) ||
    !Number.isInteger(trainer.epoch)
  ) {
    throw new Error(`checkpoint: ${join(dir, TRAINER_FILE)} is not a siamese trainer state`);
  }
  const model = await loadModel(dir);
  if (trainer.runId !== undefined && typeof trainer.runId !== 'string')
    throw new Error(`checkpoint: ${join(dir, TRAINER_FILE)} has a runId that is not a string`);
  const opt = await loadWeights(join(dir, OPTIMIZER_FILE));
  const slots = new Map<string, Tensor>(opt.tensors);
  return {
    model,
    optimizer: { step: Number(opt.metadata.step ?? trainer.step), slots },
    trainer: {
      ...(trainer.runId !== undefined ? { runId: trainer.runId } : {}),
      epoch: trainer.epoch,
      step: trainer.step,
      ...(trainer.earlyStopping ? { earlyStopping: trainer.earlyStopping } : {}),
      history: trainer.history ?? [],
    },
  };
}
