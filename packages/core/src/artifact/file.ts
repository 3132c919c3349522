/** Reads and writes model artifact folders (Node only). */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { toJSON } from '../ir/serialize.js';
import { weightsForGraph } from '../weights/check.js';
import { WeightsError } from '../weights/errors.js';
import { loadWeights, saveWeights, writeFileAtomic } from '../weights/file.js';
import { readFolder, replaceFolder } from '../weights/folder.js';
import {
  ArtifactError,
  MODEL_FILE,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  type ModelArtifact,
  WEIGHTS_FILE,
} from './model.js';
import { type QuantizationJson, readModelJson } from './model-json.js';
import { checkPreprocessing } from './preprocessing.js';
import { QUANTIZED_CUTS, type Quantization, quantizedFile } from './quantization.js';
import { FieldProblem, isRecord } from './schema.js';

/**
 * Writes model.json and weights.safetensors into a fresh folder and swaps it in (`replaceFolder`):
 * an interrupted or failed save leaves the previous model as it was. Other files in the folder
 * (an exported ONNX model, say) are kept.
 */
export async function saveModel(dir: string, model: ModelArtifact): Promise<void> {
  await replaceFolder(dir, (tmp) => writeModelFiles(tmp, model));
}

/** Writes the two files of a model into `dir` (which exists), weights first. */
export async function writeModelFiles(dir: string, model: ModelArtifact): Promise<void> {
  const problem = checkPreprocessing(model.preprocessing);
  if (problem) throw new ArtifactError(`model: ${problem}`);
  const weights = weightsForGraph(model.graph, model.weights);
  const quantization = model.quantization ? await writeQuantized(dir, model.quantization) : undefined;
  await saveWeights(join(dir, WEIGHTS_FILE), weights, { format: MODEL_FORMAT });
  const json = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    producer: '@siamese/core',
    config: model.config,
    preprocessing: model.preprocessing,
    threshold: model.threshold ?? null,
    metrics: model.metrics ?? {},
    ...(model.provenance ? { provenance: model.provenance } : {}),
    ...(quantization ? { quantization } : {}),
    graph: toJSON(model.graph),
  };
  await writeFileAtomic(
    join(dir, MODEL_FILE),
    new TextEncoder().encode(`${JSON.stringify(json, null, 1)}\n`),
  );
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Writes the quantized ONNX files; returns model.json's `quantization` with their hashes. */
async function writeQuantized(dir: string, q: Quantization): Promise<Record<string, unknown>> {
  const files: Record<string, { sha256: string; bytes: number }> = {};
  for (const cut of QUANTIZED_CUTS) {
    const bytes = q.onnx[cut];
    if (!bytes) continue;
    await writeFileAtomic(join(dir, quantizedFile(cut)), bytes);
    files[cut] = { sha256: sha256(bytes), bytes: bytes.length };
  }
  return { precision: q.precision, files, ...q.record };
}

/** Reads the quantized files model.json names, each checked against its recorded hash. */
async function readQuantized(dir: string, q: QuantizationJson): Promise<Quantization> {
  const onnx: { encoder?: Uint8Array; pair?: Uint8Array } = {};
  for (const cut of QUANTIZED_CUTS) {
    const entry = q.files[cut];
    if (!entry) continue;
    const path = join(dir, quantizedFile(cut));
    const bytes = await readFile(path).catch(() => undefined);
    if (!bytes) throw new ArtifactError(`model: ${path} is missing (model.json's quantization names it)`);
    if (bytes.length !== entry.bytes || sha256(bytes) !== entry.sha256) {
      throw new ArtifactError(
        `model: ${path} is not the file model.json's quantization recorded (its sha256 differs); export the int8 model again`,
      );
    }
    onnx[cut] = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  return { precision: q.precision, onnx: onnx as Quantization['onnx'], record: q.record };
}

/**
 * Loads and checks a model folder: model.json against its schema (types, ranges, a config that
 * describes the graph), the weights against the graph and for NaN/Inf. Every problem is one
 * ArtifactError line naming the file (and the field).
 */
export function loadModel(dir: string): Promise<ModelArtifact> {
  // A training run may swap in a new version meanwhile: read one version, whole.
  return readFolder(dir, readModelFolder);
}

async function readModelFolder(dir: string): Promise<ModelArtifact> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) throw new ArtifactError(`model: folder '${dir}' does not exist`);
  if (!info.isDirectory())
    throw new ArtifactError(
      `model: '${dir}' is a file; a model is a folder with ${MODEL_FILE} and ${WEIGHTS_FILE}`,
    );
  const jsonPath = join(dir, MODEL_FILE);
  const text = await readFile(jsonPath, 'utf8').catch(() => undefined);
  if (text === undefined) throw new ArtifactError(`model: '${dir}' is not a model folder (no ${MODEL_FILE})`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    // V8 quotes the text around the error, newlines included; the message stays one line.
    const why = (e as Error).message.replace(/\s+/g, ' ');
    throw new ArtifactError(`model: ${jsonPath} is not valid JSON (${why})`);
  }
  if (!isRecord(raw) || raw.format !== MODEL_FORMAT)
    throw new ArtifactError(
      `model: ${jsonPath} is not a siamese model file (format is not '${MODEL_FORMAT}')`,
    );
  if (raw.formatVersion !== MODEL_FORMAT_VERSION) {
    throw new ArtifactError(
      `model: ${jsonPath} has formatVersion ${JSON.stringify(raw.formatVersion)}; this version reads ${MODEL_FORMAT_VERSION}`,
    );
  }
  let model: ReturnType<typeof readModelJson>;
  try {
    model = readModelJson(raw);
  } catch (e) {
    if (e instanceof FieldProblem) throw new ArtifactError(`model: ${jsonPath}: ${e.message}`);
    throw e;
  }
  try {
    const { tensors } = await loadWeights(join(dir, WEIGHTS_FILE), model.graph);
    const { quantization, ...rest } = model;
    return {
      ...rest,
      weights: tensors,
      ...(quantization ? { quantization: await readQuantized(dir, quantization) } : {}),
    };
  } catch (e) {
    if (e instanceof WeightsError) throw new ArtifactError(e.message, { cause: e });
    throw e;
  }
}
