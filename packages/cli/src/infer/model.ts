/**
 * Opening a model folder for inference. The artifact is loaded and its configuration checked here
 * (so a model.json naming an unknown architecture is one ArtifactError line), then handed to
 * onnxruntime, loaded only now: commands that do not run a model never load it.
 */

import { join } from 'node:path';
import type { OnnxSiamese } from '@siamese/backend-onnx';
import { ArtifactError, loadModel, MODEL_FILE, type ModelArtifact, resolveSiamese } from '@siamese/core';
import type { InferSettings } from '../commands/options.js';

/** Loads `dir` and checks that its configuration describes a model this version can build. */
export async function loadArtifact(dir: string): Promise<ModelArtifact> {
  const artifact = await loadModel(dir);
  try {
    resolveSiamese(artifact.config);
  } catch (e) {
    throw new ArtifactError(`model: ${join(dir, MODEL_FILE)}: config: ${(e as Error).message}`, { cause: e });
  }
  return artifact;
}

/** The model on onnxruntime, on the device asked for (a GPU that is not there is a DeviceError). */
export async function openModel(dir: string, settings: InferSettings): Promise<OnnxSiamese> {
  const artifact = await loadArtifact(dir);
  const { OnnxSiamese } = await import('@siamese/backend-onnx');
  return OnnxSiamese.fromArtifact(artifact, {
    device: settings.device,
    batchSize: settings.batchSize,
    ...(settings.threads !== undefined ? { threads: settings.threads } : {}),
  });
}
