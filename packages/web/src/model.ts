/**
 * A Siamese model in the browser: `load` it, then `score` two images, `embed` one, or `search` a
 * gallery. Images are preprocessed as the model's metadata says (off the main thread where
 * possible); the encoder and head run in onnxruntime-web. Runs are queued: onnxruntime-web runs one
 * session call at a time.
 */
import { type Preprocessing, sigmoid, type Threshold } from '@siamese/core/portable';
import type * as Ort from 'onnxruntime-web';
import { oneLine, WebModelError } from './errors.js';
import type { Gallery } from './gallery.js';
import type { WebPrecision } from './manifest.js';
import {
  type ImageInput,
  type PreprocessOptions,
  Preprocessor,
  type PreprocessReport,
} from './preprocess/preprocessor.js';
import { type Runtime, type RuntimeOptions, type RuntimeReport, startRuntime } from './runtime.js';
import { type Fetcher, type ModelSource, type ResolvedModel, resolveSource } from './source.js';

export interface LoadOptions extends RuntimeOptions, PreprocessOptions {
  /** Images per encoder run (default 16). */
  readonly batchSize?: number;
  /** Embedding pairs per head run when searching a gallery (default 4096). */
  readonly headBatchSize?: number;
  /** The fetch to download the model with (default: the page's). */
  readonly fetch?: Fetcher;
  /**
   * Run each session once on zeros while loading (default true): WebGPU compiles its shaders on
   * the first run (seconds on some GPUs), which then happens before `load` resolves instead of on
   * the user's first comparison, and a provider that cannot run the model falls back to the next
   * one at load time, with the reason in `info.runtime.tried`.
   */
  readonly warmup?: boolean;
}

export interface Score {
  readonly probability: number;
  readonly logit: number;
  /** probability >= the model's threshold; absent when the model has none. */
  readonly same?: boolean;
}

export interface SearchHit extends Score {
  readonly id: string;
}

export interface ModelInfo {
  /** 'folder': encoder + head (score, embed, search); 'pair' or 'encoder': one ONNX cut. */
  readonly layout: ResolvedModel['layout'];
  readonly precision: WebPrecision;
  readonly preprocessing: Preprocessing;
  readonly threshold?: Threshold;
  readonly embeddingSize?: number;
  readonly irVersion?: number;
  readonly runtime: RuntimeReport;
  readonly preprocess: PreprocessReport;
}

type Sessions = { pair?: Ort.InferenceSession; encoder?: Ort.InferenceSession; head?: Ort.InferenceSession };

/** Loads a model: the URL of a web folder's `siamese-web.json`, or the URL or bytes of one ONNX cut. */
export async function load(source: ModelSource, options: LoadOptions = {}): Promise<WebSiamese> {
  const batchSize = positive('batchSize', options.batchSize, 16);
  const headBatchSize = positive('headBatchSize', options.headBatchSize, 4096);
  const model = await resolveSource(source, options.fetch);
  const sessions: Sessions = {};
  const runtime = await startRuntime(options, async (rt) => {
    try {
      for (const cut of ['pair', 'encoder', 'head'] as const) {
        const bytes = model.onnx[cut];
        if (bytes) sessions[cut] = await rt.create(bytes, `${model.from} (${cut})`);
      }
      if (options.warmup !== false) await warmUp(rt, sessions, model);
    } catch (e) {
      // A provider that fails on a later cut must not keep the earlier cuts' sessions (GPU memory).
      await releaseAll(sessions);
      throw e;
    }
  });
  const preprocessor = new Preprocessor(model.preprocessing, {
    ...(options.worker === undefined ? {} : { worker: options.worker }),
    ...(options.maxPixels === undefined ? {} : { maxPixels: options.maxPixels }),
  });
  return new WebSiamese(model, runtime, sessions, preprocessor, batchSize, headBatchSize);
}

/** One run of each session on zeros (one image, or one pair of embeddings when their size is known). */
async function warmUp(rt: Runtime, sessions: Sessions, model: ResolvedModel): Promise<void> {
  const { channels, height, width } = model.preprocessing;
  const image = () =>
    new rt.ort.Tensor('float32', new Float32Array(channels * height * width), [1, channels, height, width]);
  const d = model.embeddingSize;
  const embedding = (size: number) => new rt.ort.Tensor('float32', new Float32Array(size), [1, size]);
  const runs: [keyof Sessions, Record<string, Ort.Tensor> | undefined][] = [
    ['pair', { x1: image(), x2: image() }],
    ['encoder', { image: image() }],
    ['head', d === undefined ? undefined : { embeddingA: embedding(d), embeddingB: embedding(d) }],
  ];
  for (const [cut, feeds] of runs) {
    const session = sessions[cut];
    if (!session || !feeds) continue;
    try {
      const out = await session.run(feeds);
      for (const t of Object.values(out)) t.dispose();
    } catch (e) {
      throw new WebModelError(
        `${model.from} (${cut}): onnxruntime-web (${rt.report.executionProvider}) could not run it: ${oneLine(e)}`,
        'runtime',
        { cause: e },
      );
    }
  }
}

async function releaseAll(sessions: Sessions): Promise<void> {
  const all = Object.values(sessions);
  for (const key of Object.keys(sessions)) delete sessions[key as keyof Sessions];
  await Promise.allSettled(all.map((s) => s?.release()));
}

function positive(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!(Number.isInteger(v) && v >= 1))
    throw new WebModelError(`${name} must be a positive integer, got ${JSON.stringify(v)}`, 'input');
  return v;
}

export class WebSiamese {
  private queue: Promise<unknown> = Promise.resolve();
  private lostError: WebModelError | undefined;
  private abortRun: ((e: Error) => void) | undefined;
  private embeddingSizeSeen: number | undefined;

  constructor(
    private readonly model: ResolvedModel,
    private readonly runtime: Runtime,
    private readonly sessions: Sessions,
    private readonly preprocessor: Preprocessor,
    private readonly batchSize: number,
    private readonly headBatchSize: number,
  ) {
    this.embeddingSizeSeen = model.embeddingSize;
    // A lost WebGPU device never settles the run in flight: reject it, and every later one, instead.
    void runtime.lost.then((reason) => {
      this.lostError = new WebModelError(
        `the WebGPU device was lost (${reason}): load the model again to run it on wasm, or reload the page to use WebGPU again`,
        'runtime',
      );
      this.abortRun?.(this.lostError);
    });
  }

  get info(): ModelInfo {
    const m = this.model;
    return {
      layout: m.layout,
      precision: m.precision,
      preprocessing: m.preprocessing,
      ...(m.threshold ? { threshold: m.threshold } : {}),
      ...(this.embeddingSizeSeen !== undefined ? { embeddingSize: this.embeddingSizeSeen } : {}),
      ...(m.irVersion !== undefined ? { irVersion: m.irVersion } : {}),
      runtime: this.runtime.report,
      preprocess: this.preprocessor.report,
    };
  }

  get preprocessing(): Preprocessing {
    return this.model.preprocessing;
  }

  /** The model's input tensor [N, C, H, W] for `images`, preprocessed as its metadata says. */
  preprocess(images: readonly ImageInput[]): Promise<Float32Array> {
    return this.preprocessor.tensor(
      images,
      images.map((_, i) => `image ${i + 1}`),
    );
  }

  /** The match probability of two images, and the decision at the model's threshold. */
  async score(a: ImageInput, b: ImageInput): Promise<Score> {
    const x = await this.preprocessor.tensor([a, b], ['image A', 'image B']);
    const size = this.inputSize;
    const [s] = await this.scoreTensors(x.subarray(0, size), x.subarray(size), 1);
    return s as Score;
  }

  /** The image's embedding (needs the encoder: a web folder or an encoder cut). */
  async embed(image: ImageInput): Promise<Float32Array> {
    this.need('encoder', 'embed');
    const x = await this.preprocessor.tensor([image], ['the image']);
    return this.embedTensors(x, 1);
  }

  /** Embeddings of preprocessed images `x` [n, C, H, W] (row-major, n x D). */
  async embedTensors(x: Float32Array, n: number): Promise<Float32Array> {
    const encoder = this.need('encoder', 'embed');
    this.checkImages(x, n, 'x');
    const size = this.inputSize;
    const parts: Float32Array[] = [];
    for (let start = 0; start < n; start += this.batchSize) {
      const m = Math.min(this.batchSize, n - start);
      const out = await this.run(
        encoder,
        { image: this.tensor(x.subarray(start * size, (start + m) * size), m) },
        'embedding',
      );
      parts.push(out);
    }
    const all = concat(parts);
    this.embeddingSizeSeen = all.length / n;
    return all;
  }

  /** Scores of n pairs of preprocessed images (a[i], b[i]), each [n, C, H, W]. */
  async scoreTensors(a: Float32Array, b: Float32Array, n: number): Promise<Score[]> {
    this.checkImages(a, n, 'a');
    this.checkImages(b, n, 'b');
    if (this.sessions.pair) {
      const session = this.sessions.pair;
      const size = this.inputSize;
      const logits: Float32Array[] = [];
      for (let start = 0; start < n; start += this.batchSize) {
        const m = Math.min(this.batchSize, n - start);
        const feeds = {
          x1: this.tensor(a.subarray(start * size, (start + m) * size), m),
          x2: this.tensor(b.subarray(start * size, (start + m) * size), m),
        };
        logits.push(await this.run(session, feeds, 'logit'));
      }
      return this.decide(concat(logits));
    }
    this.need('head', 'score');
    const ea = await this.embedTensors(a, n);
    const eb = await this.embedTensors(b, n);
    return this.scoreEmbeddings(ea, eb, n);
  }

  /** Scores of n pairs of embeddings (each n x D) by the head alone. */
  async scoreEmbeddings(a: Float32Array, b: Float32Array, n: number): Promise<Score[]> {
    const head = this.need('head', 'score embeddings');
    const d = this.embeddingDims(a, n, 'embeddings a');
    if (b.length !== n * d)
      throw new WebModelError(`embeddings b: expected ${n} x ${d} values, got ${b.length}`, 'input');
    const logits: Float32Array[] = [];
    for (let start = 0; start < n; start += this.headBatchSize) {
      const m = Math.min(this.headBatchSize, n - start);
      const feeds = {
        embeddingA: new this.runtime.ort.Tensor('float32', a.slice(start * d, (start + m) * d), [m, d]),
        embeddingB: new this.runtime.ort.Tensor('float32', b.slice(start * d, (start + m) * d), [m, d]),
      };
      logits.push(await this.run(head, feeds, 'logit'));
    }
    return this.decide(concat(logits));
  }

  /** The gallery's entries ranked by match probability against `image` (best first), `k` of them (default all). */
  async search(
    image: ImageInput,
    gallery: Gallery,
    options: { readonly k?: number } = {},
  ): Promise<SearchHit[]> {
    this.need('head', 'search');
    const query = await this.embed(image);
    return this.searchEmbedding(query, gallery, options);
  }

  /** `search` from an embedding. */
  async searchEmbedding(
    query: Float32Array,
    gallery: Gallery,
    options: { readonly k?: number } = {},
  ): Promise<SearchHit[]> {
    const n = gallery.size;
    if (n === 0) return [];
    const d = query.length;
    if (gallery.embeddingSize !== d)
      throw new WebModelError(
        `the gallery holds ${gallery.embeddingSize}-value embeddings; this model makes ${d}`,
        'input',
      );
    const repeated = new Float32Array(n * d);
    for (let i = 0; i < n; i++) repeated.set(query, i * d);
    const scores = await this.scoreEmbeddings(repeated, gallery.matrix(), n);
    const ids = gallery.ids;
    const hits = scores.map((s, i) => ({ id: ids[i] as string, ...s }));
    hits.sort((x, y) => y.logit - x.logit);
    return options.k === undefined ? hits : hits.slice(0, options.k);
  }

  /** Releases the sessions once the runs already asked for are done; the model cannot be used after. */
  async dispose(): Promise<void> {
    this.preprocessor.dispose();
    await this.queue;
    await releaseAll(this.sessions);
  }

  private get inputSize(): number {
    const { channels, height, width } = this.model.preprocessing;
    return channels * height * width;
  }

  private tensor(data: Float32Array, n: number): Ort.Tensor {
    const { channels, height, width } = this.model.preprocessing;
    // A copy: onnxruntime-web may hand the buffer to the wasm heap or the GPU.
    return new this.runtime.ort.Tensor('float32', data.slice(), [n, channels, height, width]);
  }

  private checkImages(x: Float32Array, n: number, name: string): void {
    if (!(Number.isInteger(n) && n >= 1))
      throw new WebModelError(`${name}: n must be a positive integer, got ${n}`, 'input');
    const { channels, height, width } = this.model.preprocessing;
    if (!(x instanceof Float32Array) || x.length !== n * this.inputSize)
      throw new WebModelError(
        `${name}: expected a Float32Array of ${n} x ${channels} x ${height} x ${width} = ${n * this.inputSize} values, got ${x?.length}`,
        'input',
      );
  }

  private embeddingDims(a: Float32Array, n: number, name: string): number {
    if (!(Number.isInteger(n) && n >= 1))
      throw new WebModelError(`${name}: n must be a positive integer, got ${n}`, 'input');
    const d = this.embeddingSizeSeen ?? a.length / n;
    if (!Number.isInteger(d) || a.length !== n * d)
      throw new WebModelError(`${name}: expected ${n} x ${d} values, got ${a.length}`, 'input');
    return d;
  }

  private need(cut: 'encoder' | 'head', what: string): Ort.InferenceSession {
    const s = this.sessions[cut];
    if (!s)
      throw new WebModelError(
        `${what} needs the model's ${cut}, and ${this.model.from} is a ${this.model.layout} cut; load the folder 'siamese export MODEL --web' writes`,
        'input',
      );
    return s;
  }

  private decide(logits: Float32Array): Score[] {
    const t = this.model.threshold?.probability;
    return Array.from(logits, (logit) => {
      const probability = sigmoid(logit);
      return t === undefined ? { probability, logit } : { probability, logit, same: probability >= t };
    });
  }

  /** One session run at a time, in call order. */
  private run(
    session: Ort.InferenceSession,
    feeds: Record<string, Ort.Tensor>,
    output: string,
  ): Promise<Float32Array> {
    const next = this.queue.then(async () => {
      if (this.lostError) throw this.lostError;
      // Runs are queued, so at most one is in flight: the one a lost device must reject.
      const out = await new Promise<Ort.InferenceSession.OnnxValueMapType>((resolve, reject) => {
        this.abortRun = reject;
        session.run(feeds, [output]).then(resolve, (e) => reject(this.lostError ?? e));
      }).finally(() => {
        this.abortRun = undefined;
      });
      const t = out[output];
      if (!t) throw new WebModelError(`the model gave no '${output}' output`, 'runtime');
      const data = (await t.getData()) as Float32Array;
      t.dispose();
      return data;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function concat(parts: readonly Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0] as Float32Array;
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
