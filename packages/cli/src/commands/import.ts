/**
 * `siamese import RUN --out MODEL`: the way back from the PyTorch package's train.py. Reads the run
 * folder (weights.safetensors under siamese's names, siamese.config.json, split.json), loads the
 * weights into the model, calibrates the threshold on the validation part of the same split,
 * measures the held-out test part and writes a model folder ready for export, compare and serve.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  decodeSafetensors,
  saveModel,
  scoreKind,
  siamese,
  siameseTraining,
  weightsForGraph,
} from '@siamese/core';
import { configFor } from '../config/load.js';
import { UsageError } from '../errors.js';
import { chooseBackend } from '../train/backend-choice.js';
import { openTrainingData } from '../train/data.js';
import { finish } from '../train/finish.js';
import { trainSettings } from '../train/settings.js';
import { str } from './parse.js';
import { modelConfig } from './train.js';
import type { CommandDef } from './types.js';

/** The data source a run's siamese.config.json names, if it can be read. */
async function trainedOn(configPath: string): Promise<string | undefined> {
  try {
    const c = JSON.parse(await readFile(configPath, 'utf8')) as { data?: { source?: unknown } };
    return typeof c.data?.source === 'string' ? c.data.source : undefined;
  } catch {
    return undefined;
  }
}

export const importCommand: CommandDef = {
  name: 'import',
  summary:
    'bring weights trained by the exported PyTorch package (train.py) back into a calibrated model folder',
  positionals: ['RUN'],
  details:
    "RUN is train.py's --out folder: weights.safetensors (siamese's parameter names), siamese.config.json (the model and data it trained on) and split.json. The threshold is calibrated on the validation part of that split (equal error rate, or --far), the test part is measured, and MODEL is a model folder like `siamese train` writes.",
  options: {
    out: { type: 'string', value: 'MODEL', description: 'the model folder to write' },
    weights: {
      type: 'string',
      value: 'FILE',
      description: 'the weights to import (default: RUN/weights.safetensors, the best validation epoch)',
    },
    data: {
      type: 'string',
      value: 'SOURCE',
      description: "the images train.py trained on (default: RUN/siamese.config.json's data.source)",
    },
    'val-pairs': { type: 'string', value: 'N', description: 'validation and test pairs (default 2000 each)' },
    far: {
      type: 'string',
      value: 'RATE',
      description: 'calibrate the threshold for this false-accept rate instead of the equal error rate',
    },
    seed: { type: 'string', value: 'N', description: "seeds the pairs (default: the run's seed)" },
  },
  examples: ['siamese import runs/torch --out runs/torch/model'],
  async run(args, io) {
    const [runDir] = args.positionals as [string];
    const out = str(args.values.out);
    if (out === undefined) throw new UsageError('--out MODEL is required (the model folder to write)');
    if (!(await stat(runDir).catch(() => undefined))?.isDirectory())
      throw new UsageError(`RUN '${runDir}' is not a folder (train.py's --out)`);
    const configPath = join(runDir, 'siamese.config.json');
    if (!(await stat(configPath).catch(() => undefined)))
      throw new UsageError(`RUN '${runDir}' has no siamese.config.json: is it a folder train.py wrote?`);
    if (!(await stat(join(runDir, 'split.json')).catch(() => undefined))) {
      const source = await trainedOn(configPath);
      throw new UsageError(
        source?.toLowerCase().endsWith('.csv')
          ? `RUN '${runDir}' trained on a CSV of pairs (${source}): import calibrates the threshold on the validation part of the split train.py makes of an image folder (a folder per class), which a list of pairs has not`
          : `RUN '${runDir}' has no split.json: is it a folder train.py wrote?`,
      );
    }
    const weightsPath = str(args.values.weights) ?? join(runDir, 'weights.safetensors');
    const bytes = await readFile(weightsPath).catch(() => {
      throw new UsageError(`--weights '${weightsPath}' cannot be read`);
    });
    const loaded = await configFor({ ...args, values: { ...args.values, config: configPath } });
    const s = {
      ...trainSettings(
        { ...args, values: { backend: 'onnx', device: 'cpu', ...args.values, out: resolve(runDir) } },
        loaded,
      ),
      // The split train.py wrote (RUN/split.json) is read, never made afresh.
      resume: true,
    };
    const config = modelConfig(s);
    const inference = siamese(config);
    const training = siameseTraining(
      config,
      s.loss.kind === 'contrastive' ? { kind: 'contrastive' } : { kind: 'bce' },
    );
    let weights: ReturnType<typeof weightsForGraph>;
    try {
      weights = weightsForGraph(inference, decodeSafetensors(bytes, { source: weightsPath }).tensors, {
        source: weightsPath,
      });
    } catch (e) {
      throw new UsageError(`--weights '${weightsPath}': ${(e as Error).message}`);
    }
    const data = await openTrainingData(s, resolve(runDir), io.err);
    const chosen = await chooseBackend(s, training);
    try {
      await chosen.backend.writeWeights(weights);
      const f = await finish(chosen.backend, data, s, inference, scoreKind(training));
      await saveModel(out, {
        graph: inference,
        config,
        preprocessing: data.preprocessing,
        threshold: f.threshold,
        metrics: f.metrics,
        weights: f.weights,
        provenance: {
          importedFrom: resolve(runDir),
          weights: resolve(weightsPath),
          trainer: 'pytorch (train.py)',
        },
      });
      const pct = (v: number | undefined) => `${((v ?? 0) * 100).toFixed(2)}%`;
      io.out(
        `validation pairs: threshold ${f.threshold.probability.toFixed(4)} (${f.threshold.method === 'far' ? `false-accept rate ${s.far}` : 'equal error rate'}), accuracy ${pct(f.metrics.valAccuracy)}`,
      );
      io.out(
        `test pairs: accuracy ${pct(f.metrics.testAccuracy)}, ROC AUC ${f.metrics.testAuc?.toFixed(4)}, EER ${pct(f.metrics.testEer)}`,
      );
      io.out(`model: ${out}`);
    } finally {
      await chosen.backend.dispose();
    }
  },
};
