/**
 * The training loop, written once for every backend: epochs, learning-rate schedule, validation
 * each epoch, early stopping, checkpoints, resume, interruption, progress events.
 */
import { join } from 'node:path';
import type { ModelArtifact } from '../artifact/model.js';
import { formatType } from '../ir/shape.js';
import type { Graph } from '../ir/types.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Batch, TrainingBackend } from './backend.js';
import { type Checkpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { EarlyStopping, type EarlyStoppingConfig } from './early-stopping.js';
import {
  type EpochRecord,
  RateMeter,
  type StallConfig,
  stallAt,
  type TrainEvent,
  type ValidationMetrics,
} from './events.js';
import { checkSchedule, learningRate, type ScheduleConfig } from './schedule.js';
import { validate } from './validate.js';

export interface TrainOptions {
  readonly backend: TrainingBackend;
  /** What a checkpoint needs besides the weights: the inference graph, config, preprocessing. */
  readonly model: Omit<ModelArtifact, 'weights'>;
  readonly data: {
    /** One epoch of training batches; seed the sampler with `epoch` so runs repeat. */
    train(epoch: number): AsyncIterable<Batch> | Iterable<Batch>;
    /** Batches per epoch, for the schedule and the ETA. */
    readonly stepsPerEpoch: number;
    validation?(): AsyncIterable<Batch> | Iterable<Batch>;
  };
  readonly epochs: number;
  readonly lr: ScheduleConfig;
  readonly earlyStopping?: EarlyStoppingConfig;
  /**
   * `dir/last` after every `everyEpochs` epochs, at the end and on interruption; `dir/best` when
   * the early-stopping metric (default validation AUC) improves.
   */
  readonly checkpoint?: { readonly dir: string; readonly everyEpochs?: number };
  /** Continue from `checkpoint.dir/last` when it exists. */
  readonly resume?: boolean;
  /**
   * This run's id, written into every checkpoint; resuming a checkpoint another run wrote is an
   * error (a folder reused by a new run must not continue the old one's weights).
   */
  readonly runId?: string;
  /**
   * When training ends (completed or early stopping), load the weights of the best epoch by the
   * early-stopping metric into the backend, so what is exported is the best model, not the last.
   * From `checkpoint.dir/best`, or without checkpoints from a copy kept in memory. Default true.
   */
  readonly restoreBest?: boolean;
  /**
   * Say so (a `stall` event, once) when validation AUC stays below `below` (0.55) for `epochs` (2)
   * epochs in a row; `false` to never check. Training goes on either way.
   */
  readonly stall?: StallConfig | false;
  /** Abort (e.g. on Ctrl-C) to stop after the current step with a checkpoint saved. */
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: TrainEvent) => void;
  /** Clock in seconds (tests inject one). */
  readonly now?: () => number;
}

export interface TrainResult {
  readonly epochs: number;
  readonly steps: number;
  readonly stopped: 'completed' | 'early-stopping' | 'interrupted';
  readonly history: readonly EpochRecord[];
  readonly best?: { readonly epoch: number; readonly value: number };
  /** Which weights the backend holds on return: the best epoch's (restored) or the last step's. */
  readonly weights: 'best' | 'last';
}

export class TrainingError extends Error {
  override name = 'TrainingError';
}

function metricOf(record: EpochRecord, metric: string): number | undefined {
  if (metric === 'trainLoss') return record.trainLoss;
  const v = record.validation?.[metric as keyof ValidationMetrics];
  return typeof v === 'number' ? v : undefined;
}

/** Which parts of the model description differ between a checkpoint and this run. */
function differences(saved: Omit<ModelArtifact, 'weights'>, now: Omit<ModelArtifact, 'weights'>): string[] {
  const out: string[] = [];
  const a = saved.config as unknown as Record<string, unknown>;
  const b = now.config as unknown as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key]))
      out.push(`model ${key} (${JSON.stringify(a[key])}, now ${JSON.stringify(b[key])})`);
  }
  if (JSON.stringify(saved.preprocessing) !== JSON.stringify(now.preprocessing)) out.push('preprocessing');
  if (saved.graph.name !== now.graph.name) out.push(`graph (${saved.graph.name}, now ${now.graph.name})`);
  return out;
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const problem = checkSchedule(o.lr);
  if (problem) throw new TrainingError(`train: ${problem}`);
  if (!(Number.isInteger(o.epochs) && o.epochs >= 1))
    throw new TrainingError(`train: epochs must be a positive integer, got ${o.epochs}`);
  if (!(Number.isInteger(o.data.stepsPerEpoch) && o.data.stepsPerEpoch >= 1)) {
    throw new TrainingError(`train: stepsPerEpoch must be a positive integer, got ${o.data.stepsPerEpoch}`);
  }
  const now = o.now ?? (() => performance.now() / 1000);
  const emit = (e: TrainEvent): void => o.onEvent?.(e);
  const stopping = new EarlyStopping(
    o.earlyStopping ?? {
      metric: o.data.validation ? 'auc' : 'trainLoss',
      mode: o.data.validation ? 'max' : 'min',
      patience: Infinity,
    },
  );
  const lastDir = o.checkpoint ? join(o.checkpoint.dir, 'last') : undefined;
  const bestDir = o.checkpoint ? join(o.checkpoint.dir, 'best') : undefined;
  const history: EpochRecord[] = [];
  const keepBest = o.restoreBest ?? true;
  /** The best epoch's weights when there is no checkpoint folder to hold them. */
  let bestInMemory: Map<string, Tensor> | undefined;
  const restoreBest = async (): Promise<TrainResult['weights']> => {
    if (!keepBest) return 'last';
    const weights = bestDir ? (await loadCheckpoint(bestDir))?.model.weights : bestInMemory;
    if (!weights) return 'last';
    await o.backend.writeWeights(weights);
    return 'best';
  };
  let epoch0 = 0;
  let step = 0;

  if (o.resume && lastDir) {
    const c = await loadCheckpoint(lastDir);
    if (c) {
      if (o.runId !== undefined && c.trainer.runId !== undefined && c.trainer.runId !== o.runId) {
        throw new TrainingError(
          `train: the checkpoint in ${lastDir} belongs to run ${c.trainer.runId}, not to this run (${o.runId}); it is not resumed`,
        );
      }
      const changed = differences(c.model, o.model);
      if (changed.length > 0) {
        throw new TrainingError(
          `train: the checkpoint in ${lastDir} was trained with a different ${changed.join(', ')}; resume with the same settings or start a new run`,
        );
      }
      await o.backend.writeWeights(c.model.weights);
      await o.backend.writeOptimizerState(c.optimizer);
      epoch0 = c.trainer.epoch;
      step = c.trainer.step;
      history.push(...c.trainer.history);
      if (c.trainer.earlyStopping) stopping.restore(c.trainer.earlyStopping);
    }
  }

  if (epoch0 >= o.epochs || (epoch0 > 0 && stopping.shouldStop)) {
    // Nothing left to train: keep the checkpoint as it is.
    const stopped = epoch0 < o.epochs ? 'early-stopping' : 'completed';
    emit({
      type: 'start',
      backend: o.backend.description,
      epochs: o.epochs,
      stepsPerEpoch: o.data.stepsPerEpoch,
      resumedAt: step,
    });
    emit({ type: 'stop', reason: stopped, epoch: epoch0, step });
    const best = stopping.best;
    const weights = await restoreBest();
    return { epochs: epoch0, steps: step, stopped, history, weights, ...(best ? { best } : {}) };
  }
  const totalSteps = o.epochs * o.data.stepsPerEpoch;
  const save = async (
    dir: string | undefined,
    reason: 'epoch' | 'best' | 'interrupted' | 'final',
    epochsDone: number,
  ): Promise<void> => {
    if (!dir) return;
    const checkpoint: Checkpoint = {
      model: { ...o.model, weights: await o.backend.readWeights() },
      optimizer: await o.backend.readOptimizerState(),
      trainer: {
        ...(o.runId !== undefined ? { runId: o.runId } : {}),
        epoch: epochsDone,
        step,
        earlyStopping: stopping.toJSON(),
        history,
      },
    };
    await saveCheckpoint(dir, checkpoint);
    emit({ type: 'checkpoint', path: dir, reason });
  };
  const finish = async (stopped: TrainResult['stopped'], epochsDone: number): Promise<TrainResult> => {
    emit({ type: 'stop', reason: stopped, epoch: epochsDone, step });
    const best = stopping.best;
    const weights = stopped === 'interrupted' ? 'last' : await restoreBest();
    return { epochs: epochsDone, steps: step, stopped, history, weights, ...(best ? { best } : {}) };
  };

  emit({
    type: 'start',
    backend: o.backend.description,
    epochs: o.epochs,
    stepsPerEpoch: o.data.stepsPerEpoch,
    resumedAt: step,
  });
  const meter = new RateMeter();
  // Train-mode BatchNorm needs two values per channel; one would give a NaN running variance.
  const thinnest = thinnestBatchNorm(o.model.graph);
  const checkBatchStatistics = (size: number): void => {
    if (thinnest && size * thinnest.values < 2) {
      throw new TrainingError(
        `train: a batch of ${size} gives BatchNorm '${thinnest.node}' one value per channel (its input is ${thinnest.shape}); use batches of at least 2`,
      );
    }
  };
  for (let epoch = epoch0; epoch < o.epochs; epoch++) {
    const started = now();
    let lossSum = 0;
    let seen = 0;
    let epochStep = 0;
    for await (const batch of o.data.train(epoch)) {
      if (o.signal?.aborted) {
        // The interrupted epoch is repeated from its start on resume; optimizer and step count go on.
        await save(lastDir, 'interrupted', epoch);
        return await finish('interrupted', epoch);
      }
      checkBatchStatistics(batch.size);
      const lr = learningRate(o.lr, step, totalSteps);
      const t0 = now();
      const { loss } = await o.backend.step(batch, lr);
      if (!Number.isFinite(loss)) {
        throw new TrainingError(
          `train: the loss became ${loss} at step ${step + 1} (epoch ${epoch + 1}); lower the learning rate (now ${lr})`,
        );
      }
      step++;
      epochStep++;
      meter.add(now() - t0, batch.size);
      lossSum += loss * batch.size;
      seen += batch.size;
      const rate = meter.perSecond;
      const stepsLeft = (o.epochs - epoch) * o.data.stepsPerEpoch - epochStep;
      const left = Math.max(0, stepsLeft) * (batch.size / Math.max(rate, 1e-9));
      emit({
        type: 'step',
        epoch: epoch + 1,
        step,
        epochStep,
        totalSteps,
        loss,
        lr,
        pairsPerSecond: rate,
        eta: left,
      });
    }
    if (seen === 0) throw new TrainingError(`train: epoch ${epoch + 1} produced no batches`);
    const validation = o.data.validation ? await validate(o.backend, o.data.validation()) : undefined;
    const record: EpochRecord = {
      epoch: epoch + 1,
      trainLoss: lossSum / seen,
      ...(validation ? { validation } : {}),
      seconds: now() - started,
    };
    history.push(record);
    emit({ type: 'epoch', ...record });
    const stall = o.stall === false ? undefined : stallAt(history, o.stall);
    if (stall) emit(stall);
    const value = metricOf(record, stopping.config.metric);
    if (value === undefined)
      throw new TrainingError(
        `train: early-stopping metric '${stopping.config.metric}' is not measured (validation data given: ${Boolean(validation)})`,
      );
    if (stopping.update(epoch + 1, value)) {
      await save(bestDir, 'best', epoch + 1);
      if (keepBest && !bestDir) bestInMemory = await o.backend.readWeights();
    }
    const every = o.checkpoint?.everyEpochs ?? 1;
    if ((epoch + 1) % every === 0 && epoch + 1 < o.epochs) await save(lastDir, 'epoch', epoch + 1);
    if (stopping.shouldStop) {
      await save(lastDir, 'final', epoch + 1);
      return await finish('early-stopping', epoch + 1);
    }
  }
  await save(lastDir, 'final', o.epochs);
  return await finish('completed', o.epochs);
}

/** The batchNorm node with the fewest values per channel for one example (the product of its non-batch, non-channel dimensions). */
function thinnestBatchNorm(graph: Graph): { node: string; values: number; shape: string } | undefined {
  let best: { node: string; values: number; shape: string } | undefined;
  for (const n of graph.nodes) {
    if (n.op !== 'batchNorm') continue;
    const t = graph.values[n.inputs[0]!] ?? graph.inputs.find((i) => i.name === n.inputs[0]);
    if (!t) continue;
    const dims = t.shape.slice(2);
    if (!dims.every((d) => typeof d === 'number')) continue;
    const values = (dims as number[]).reduce((p, d) => p * d, 1);
    if (!best || values < best.values) best = { node: n.name, values, shape: formatType(t) };
  }
  return best;
}
