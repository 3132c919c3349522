/**
 * Scores and embeds with a model artifact on onnxruntime: the pair cut for `score`, the encoder
 * cut for `embed`, the head cut for `scoreEmbeddings` (stored gallery embeddings). Sessions are
 * created on first use, each on the requested device.
 */
import {
  loadModel,
  type ModelArtifact,
  type Preprocessing,
  resnetEmbeddingSize,
  resolveSiamese,
  type Tensor,
  type Threshold,
} from '@siamese/core';
import type { InferenceSession } from 'onnxruntime-node';
import type { DeviceReport } from './device.js';
import { exportSiameseCut, type SiameseCutName } from './export/cuts.js';
import { checkEmbeddings, checkImages, InputError, sameBatch } from './images.js';
import { createSession, loadOrt, type OnnxSession, type SessionOptions } from './session.js';

export interface ModelOptions extends SessionOptions {
  /** Images per onnxruntime run; larger batches are split (bounds memory). Default 32. */
  readonly batchSize?: number;
  /**
   * Embedding pairs per run of the head (`scoreEmbeddings`): a few floats each, so far more than
   * images; one run per 32 pairs made scoring a gallery of thousands hundreds of runs. Default 4096.
   */
  readonly headBatchSize?: number;
  /**
   * 'auto' (default): the int8 models of a quantized artifact (`siamese export --quantize int8`),
   * else fp32. 'fp32' runs a quantized artifact's fp32 weights; 'int8' requires the int8 models.
   */
  readonly precision?: 'auto' | Precision;
}

export type Precision = 'fp32' | 'int8';

export interface Scores {
  readonly logit: Float32Array;
  readonly probability: Float32Array;
  /** probability >= the model's calibrated threshold; absent when the model has none. */
  readonly same?: boolean[];
}

export class OnnxSiamese {
  private readonly sessions = new Map<SiameseCutName, Promise<OnnxSession>>();
  private readonly batchSize: number;
  private readonly headBatchSize: number;
  readonly embeddingSize: number;
  /** What the encoder runs in: int8 for a quantized artifact unless `precision: 'fp32'` was asked for. */
  readonly precision: Precision;

  private constructor(
    readonly artifact: ModelArtifact,
    private readonly options: ModelOptions,
  ) {
    this.batchSize = options.batchSize ?? 32;
    if (!(Number.isInteger(this.batchSize) && this.batchSize >= 1))
      throw new InputError(`batchSize must be a positive integer, got ${options.batchSize}`);
    this.headBatchSize = options.headBatchSize ?? 4096;
    if (!(Number.isInteger(this.headBatchSize) && this.headBatchSize >= 1))
      throw new InputError(`headBatchSize must be a positive integer, got ${options.headBatchSize}`);
    const asked = options.precision ?? 'auto';
    if (!['auto', 'fp32', 'int8'].includes(asked))
      throw new InputError(`precision must be 'auto', 'fp32' or 'int8', got '${String(asked)}'`);
    if (asked === 'int8' && !artifact.quantization)
      throw new InputError(
        "precision 'int8': the model has no int8 models (make them with siamese export MODEL --quantize int8)",
      );
    this.precision = asked === 'auto' ? (artifact.quantization ? 'int8' : 'fp32') : asked;
    this.embeddingSize = resnetEmbeddingSize(resolveSiamese(artifact.config).encoder);
  }

  /** Loads a model folder (model.json + weights.safetensors). */
  static async load(dir: string, options: ModelOptions = {}): Promise<OnnxSiamese> {
    return OnnxSiamese.fromArtifact(await loadModel(dir), options);
  }

  static async fromArtifact(artifact: ModelArtifact, options: ModelOptions = {}): Promise<OnnxSiamese> {
    const m = new OnnxSiamese(artifact, options);
    await m.session(m.firstCut()); // Fail fast on the device, and report it.
    return m;
  }

  get preprocessing(): Preprocessing {
    return this.artifact.preprocessing;
  }

  /** The decision threshold of the precision that runs (an int8 model has its own, re-calibrated). */
  get threshold(): Threshold | undefined {
    if (this.precision === 'int8')
      return this.artifact.quantization?.record.threshold ?? this.artifact.threshold;
    return this.artifact.threshold;
  }

  /** The device the pair session runs on, with every provider tried. */
  async device(): Promise<DeviceReport> {
    return (await this.session(this.firstCut())).device;
  }

  /** The cut pairs are scored with (an int8 artifact without its pair cut scores them via its encoder). */
  private firstCut(): SiameseCutName {
    return this.precision === 'int8' && !this.artifact.quantization?.onnx.pair ? 'encoder' : 'pair';
  }

  /** Match probability of each pair (a[i], b[i]): batches [N, C, H, W] preprocessed like `preprocessing`. */
  async score(a: Tensor, b: Tensor): Promise<Scores> {
    const { channels: c, height: h, width: w } = this.preprocessing;
    const n = checkImages(a, 'a', c, h, w);
    sameBatch(n, checkImages(b, 'b', c, h, w), 'a', 'b');
    // An int8 artifact without its pair cut: the int8 encoder, then the head (what the pair cut computes).
    if (this.precision === 'int8' && !this.artifact.quantization?.onnx.pair)
      return this.scoreEmbeddings(await this.embed(a), await this.embed(b));
    const [logit, probability] = await this.runChunked('pair', n, c * h * w, [h, w, c], { x1: a, x2: b }, [
      'logit',
      'probability',
    ]);
    return this.decide(logit!, probability!);
  }

  /** Embeddings [N, D] of a batch of images. */
  async embed(images: Tensor): Promise<Tensor<'float32'>> {
    const { channels: c, height: h, width: w } = this.preprocessing;
    const n = checkImages(images, 'images', c, h, w);
    const [e] = await this.runChunked('encoder', n, c * h * w, [h, w, c], { image: images }, ['embedding']);
    return { dtype: 'float32', shape: [n, this.embeddingSize], data: e! };
  }

  /** Scores pairs of stored embeddings with the head alone (no image work). */
  async scoreEmbeddings(a: Tensor, b: Tensor): Promise<Scores> {
    const d = this.embeddingSize;
    const n = checkEmbeddings(a, 'embeddingA', d);
    sameBatch(n, checkEmbeddings(b, 'embeddingB', d), 'embeddingA', 'embeddingB');
    const [logit, probability] = await this.runChunked('head', n, d, [d], { embeddingA: a, embeddingB: b }, [
      'logit',
      'probability',
    ]);
    return this.decide(logit!, probability!);
  }

  async dispose(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    // Release every session that was created, even if another failed to start or to release.
    await Promise.allSettled(all.map(async (s) => (await s).session.release()));
  }

  private decide(logit: Float32Array, probability: Float32Array): Scores {
    const t = this.threshold?.probability;
    return t === undefined
      ? { logit, probability }
      : { logit, probability, same: Array.from(probability, (p) => p >= t) };
  }

  private session(cut: SiameseCutName): Promise<OnnxSession> {
    let s = this.sessions.get(cut);
    if (!s) {
      const { graph, weights, preprocessing, quantization } = this.artifact;
      const threshold = this.threshold;
      const int8 = this.precision === 'int8' && cut !== 'head' ? quantization?.onnx[cut] : undefined;
      const bytes =
        int8 ??
        exportSiameseCut(graph, weights, cut, {
          metadata: { preprocessing, ...(threshold ? { threshold } : {}) },
        });
      s = createSession(bytes, this.options);
      s.catch(() => this.sessions.delete(cut));
      this.sessions.set(cut, s);
    }
    return s;
  }

  /** Runs `cut` over `n` items in chunks (headBatchSize for the head, else batchSize); `item` values and `dims` per item. */
  private async runChunked(
    cut: SiameseCutName,
    n: number,
    item: number,
    dims: number[],
    inputs: Record<string, Tensor>,
    outputs: string[],
  ): Promise<Float32Array[]> {
    const ort = await loadOrt();
    const { session } = await this.session(cut);
    const shape = dims.length === 3 ? [dims[2]!, dims[0]!, dims[1]!] : dims; // [C, H, W] or [D]
    const results: Float32Array[][] = outputs.map(() => []);
    const chunk = cut === 'head' ? this.headBatchSize : this.batchSize;
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      // subarray: a view, no copy, of this chunk's items.
      const feeds: InferenceSession.FeedsType = Object.fromEntries(
        Object.entries(inputs).map(([name, t]) => [
          name,
          new ort.Tensor('float32', (t.data as Float32Array).subarray(start * item, (start + m) * item), [
            m,
            ...shape,
          ]),
        ]),
      );
      const out = await session.run(feeds, outputs);
      for (const [i, o] of outputs.entries()) results[i]!.push(out[o]!.data as Float32Array);
    }
    return results.map((parts) => (parts.length === 1 ? parts[0]! : concat(parts)));
  }
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
