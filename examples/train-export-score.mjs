#!/usr/bin/env node
// The library API end to end, without the CLI: train a Siamese network on a folder of images
// (one folder per class), export it to ONNX, and score pairs with onnxruntime.
//
//   node examples/train-export-score.mjs <images-folder> [out-folder] [--epochs 3] [--size 28]
//
// Each step is a few lines of @siamese/* calls; `siamese train` does the same with more checks,
// progress bars and a report.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exportSiameseCut, OnnxSiamese } from '@siamese/backend-onnx';
import { createTfjsBackend } from '@siamese/backend-tfjs';
import { equalErrorRate, pairAccuracy, saveModel, siamese, siameseTraining, train } from '@siamese/core';
import { chunks, imageFolder, Loader, PairSampler, preprocessingFor, splitDataset } from '@siamese/datasets';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    epochs: { type: 'string', default: '3' },
    size: { type: 'string', default: '28' },
    pairs: { type: 'string', default: '2000' },
  },
});
const [folder, out = 'runs/example'] = positionals;
if (!folder) {
  console.error(
    'usage: node examples/train-export-score.mjs <images-folder> [out-folder] [--epochs N] [--size N]',
  );
  process.exit(2);
}
const size = Number(values.size);

// 1. Data: a folder per class, split by image (seeded), decoded and normalized by a loader.
const dataset = await imageFolder(folder);
const split = splitDataset(dataset, { by: 'image', seed: 1 });
const preprocessing = preprocessingFor(1, size, size);
const loader = new Loader(split.train, { preprocessing, seed: 1 });
const valLoader = new Loader(split.val, { preprocessing });
const batchOf = (b) => ({ inputs: { x1: b.x1, x2: b.x2, labels: b.labels }, size: b.labels.shape[0] });
const validation = [];
for (const pairs of chunks(new PairSampler(split.val, { seed: 2 }).next(200), 100)) {
  validation.push(batchOf(await valLoader.pairBatch(pairs)));
}

// 2. Model: a small ResNet encoder shared by both images, |a - b|, an MLP head, BCE loss.
const config = { encoder: 'resnet10_w8', input: { channels: 1, height: size, width: size } };
const backend = await createTfjsBackend({ graph: siameseTraining(config, { kind: 'bce' }), seed: 1 });
console.log(`training on ${backend.description}`);

// 3. Train with core's loop: the backend only supplies the step.
const steps = Math.floor(Number(values.pairs) / 32);
await train({
  backend,
  model: { graph: siamese(config), config, preprocessing },
  epochs: Number(values.epochs),
  lr: { lr: 0.003, schedule: { kind: 'cosine' } },
  data: {
    stepsPerEpoch: steps,
    async *train(epoch) {
      const sampler = new PairSampler(split.train, { seed: 100 + epoch });
      const batches = (function* () {
        for (let i = 0; i < steps; i++) yield sampler.next(32);
      })();
      for await (const b of loader.pairBatches(batches, { train: true })) yield batchOf(b);
    },
    validation: () => validation,
  },
  onEvent: (e) => {
    if (e.type === 'epoch')
      console.log(
        `epoch ${e.epoch}: loss ${e.trainLoss.toFixed(3)}, validation AUC ${e.validation.auc.toFixed(3)}`,
      );
  },
});

// 4. Calibrate a threshold on validation pairs and save the model folder.
const scores = [];
const labels = [];
for (const b of validation) {
  scores.push(...(await backend.evaluate(b)).scores);
  labels.push(...b.inputs.labels.data);
}
const { threshold } = equalErrorRate(scores, labels);
const weights = await backend.readWeights();
const graph = siamese(config);
await saveModel(join(out, 'model'), {
  graph,
  config,
  preprocessing,
  threshold: { probability: threshold, method: 'eer' },
  weights,
});
await backend.dispose();

// 5. Export ONNX, then score pairs with onnxruntime from the saved folder.
await writeFile(join(out, 'pair.onnx'), exportSiameseCut(graph, weights, 'pair'));
const model = await OnnxSiamese.load(join(out, 'model'), { device: 'auto' });
const testPairs = new PairSampler(split.test, { seed: 3 }).next(100);
const test = await new Loader(split.test, { preprocessing }).pairBatch(testPairs);
const { probability, same } = await model.score(test.x1, test.x2);
console.log(`exported ${join(out, 'pair.onnx')}; onnxruntime on ${(await model.device()).provider}`);
console.log(
  `test pairs: accuracy ${(pairAccuracy(probability, test.labels.data, threshold) * 100).toFixed(1)}%`,
);
console.log(
  `first pair: probability ${probability[0].toFixed(3)} -> ${same[0] ? 'same' : 'different'} (truth: ${test.labels.data[0] ? 'same' : 'different'})`,
);
await model.dispose();
