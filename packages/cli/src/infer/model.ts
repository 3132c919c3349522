/**
 * Opening a model folder for inference. core's loadModel checks the whole artifact (model.json's
 * fields, a config that describes the graph, the weights), so a bad model is one ArtifactError line
 * before anything runs; onnxruntime is loaded only then: commands that do not run a model never
 * load it.
 */
import type { OnnxSiamese } from '@siamese/backend-onnx';
import { loadModel } from '@siamese/core';
import type { InferSettings } from '../commands/options.js';

/** The model on onnxruntime, on the device asked for (a GPU that is not there is a DeviceError). */
export async function openModel(dir: string, settings: InferSettings): Promise<OnnxSiamese> {
  const artifact = await loadModel(dir);
  const { OnnxSiamese } = await import('@siamese/backend-onnx');
  return OnnxSiamese.fromArtifact(artifact, {
    device: settings.device,
    batchSize: settings.batchSize,
    ...(settings.threads !== undefined ? { threads: settings.threads } : {}),
  });
}
