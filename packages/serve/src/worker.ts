/**
 * An inference worker: a child process that owns one onnxruntime session set (OnnxSiamese) and
 * decodes uploads with the model's own preprocessing (@siamese/datasets), so neither ever runs on
 * the server's event loop. A child process rather than a worker thread: onnxruntime-node aborts
 * the whole process when a worker thread that holds a session is terminated, and has had fatal
 * V8 locking errors with sessions in several threads (microsoft/onnxruntime#24486); a dead child
 * takes only its own requests with it.
 *
 * Fault injection for tests and benchmarks (first-generation workers only):
 * `SIAMESE_FAILPOINT=serve-worker:exit[:n]` exits hard on the n-th images job (default the 1st);
 * `SIAMESE_FAILPOINT=serve-worker:delay:<ms>` makes every job take at least that long.
 */
import type { OnnxSiamese } from '@siamese/backend-onnx';
import type { DatasetError } from '@siamese/datasets';
import type {
  FromWorker,
  HeadJob,
  HeadResult,
  ImageFailure,
  ImagesJob,
  ImagesResult,
  ModelInfo,
  ToWorker,
  WorkerInit,
} from './protocol.js';

let model: OnnxSiamese | undefined;
let init: WorkerInit | undefined;
let jobs = 0;
/** The last table a head job sent with a key (the gallery at one version). */
let table: { key: string; data: Float32Array } | undefined;

function send(m: FromWorker): void {
  // The server may be gone (it closed the pool, or died): then there is no one to tell.
  if (process.connected) process.send?.(m, undefined, {}, () => undefined);
}

function failpoint(): { exitAt?: number; delayMs?: number } {
  const spec = process.env.SIAMESE_FAILPOINT;
  if (!spec?.startsWith('serve-worker:') || init?.generation !== 0) return {};
  const [, what, n] = spec.split(':');
  if (what === 'exit') return { exitAt: Number(n ?? '1') };
  if (what === 'delay') return { delayMs: Number(n ?? '0') };
  return {};
}

async function load(msg: WorkerInit): Promise<void> {
  init = msg;
  const [{ OnnxSiamese }, core] = await Promise.all([
    import('@siamese/backend-onnx'),
    import('@siamese/core'),
  ]);
  const m = await OnnxSiamese.load(msg.modelDir, {
    device: msg.device,
    threads: msg.threads,
    batchSize: msg.batchSize,
  });
  // Warm every session the server uses (encoder and head) so the first request pays nothing.
  const { channels: c, height: h, width: w } = m.preprocessing;
  const e = await m.embed({ dtype: 'float32', shape: [1, c, h, w], data: new Float32Array(c * h * w) });
  await m.scoreEmbeddings(e, e);
  model = m;
  // The precision that runs: OnnxSiamese's own report when it has one (int8 model folders), else
  // the artifact's field, else fp32. Read structurally: that API is still growing.
  const reported = m as unknown as { precision?: unknown; artifact: { precision?: unknown } };
  const precision =
    typeof reported.precision === 'string'
      ? reported.precision
      : typeof reported.artifact.precision === 'string'
        ? reported.artifact.precision
        : 'fp32';
  const info: ModelInfo = {
    architecture: typeof m.artifact.config.encoder === 'string' ? m.artifact.config.encoder : 'custom',
    embeddingSize: m.embeddingSize,
    input: { channels: c, height: h, width: w },
    preprocessing: m.preprocessing,
    threshold: m.threshold ?? null,
    precision,
    metrics: { ...(m.artifact.metrics ?? {}) },
    fingerprint: core.modelFingerprint(m.artifact),
    provider: (await m.device()).provider,
  };
  send({ type: 'ready', info });
}

async function images(job: ImagesJob): Promise<ImagesResult> {
  const m = model!;
  const { DatasetError, decodeImageBytes, decodeOptionsFor, toPlanarNormalized } = await import(
    '@siamese/datasets'
  );
  const p = m.preprocessing;
  const size = p.channels * p.height * p.width;
  const options = decodeOptionsFor(p, { pixelLimit: init!.pixelLimit });
  const n = job.images.length;
  const pixels = new Float32Array(n * size);
  const failures: (ImageFailure | null)[] = new Array(n).fill(null);
  // Decodes run at once on libuv's thread pool (sharp); each failure stays with its image.
  await Promise.all(
    job.images.map(async (bytes, i) => {
      try {
        toPlanarNormalized(await decodeImageBytes(bytes, options), p.mean, p.std, pixels, i * size);
      } catch (e) {
        if (!(e instanceof DatasetError)) throw e;
        const d = e as DatasetError;
        failures[i] = {
          code: d.code === 'pixel-limit' ? 'pixel-limit' : 'invalid-image',
          message: d.message.replace(/^dataset: /, ''),
        };
      }
    }),
  );
  const ok = failures.flatMap((f, i) => (f === null ? [i] : []));
  const d = m.embeddingSize;
  const embeddings = new Float32Array(n * d);
  if (ok.length > 0) {
    const x = new Float32Array(ok.length * size);
    ok.forEach((i, k) => {
      x.set(pixels.subarray(i * size, (i + 1) * size), k * size);
    });
    const e = await m.embed({ dtype: 'float32', shape: [ok.length, p.channels, p.height, p.width], data: x });
    ok.forEach((i, k) => {
      embeddings.set(e.data.subarray(k * d, (k + 1) * d), i * d);
    });
  }
  const pairCount = job.pairs.length / 2;
  const logits = new Float32Array(pairCount).fill(Number.NaN);
  const probabilities = new Float32Array(pairCount).fill(Number.NaN);
  const scored = Array.from({ length: pairCount }, (_, k) => k).filter(
    (k) => failures[job.pairs[2 * k]!] === null && failures[job.pairs[2 * k + 1]!] === null,
  );
  if (scored.length > 0) {
    const a = new Float32Array(scored.length * d);
    const b = new Float32Array(scored.length * d);
    scored.forEach((k, r) => {
      const i = job.pairs[2 * k]!;
      const j = job.pairs[2 * k + 1]!;
      a.set(embeddings.subarray(i * d, (i + 1) * d), r * d);
      b.set(embeddings.subarray(j * d, (j + 1) * d), r * d);
    });
    const s = await m.scoreEmbeddings(
      { dtype: 'float32', shape: [scored.length, d], data: a },
      { dtype: 'float32', shape: [scored.length, d], data: b },
    );
    scored.forEach((k, r) => {
      logits[k] = s.logit[r]!;
      probabilities[k] = s.probability[r]!;
    });
  }
  return { type: 'images', id: job.id, failures, embeddings, logits, probabilities };
}

async function head(job: HeadJob): Promise<HeadResult> {
  const m = model!;
  const d = m.embeddingSize;
  let rows: Float32Array;
  if (job.table) {
    rows = job.table;
    table = job.tableKey === undefined ? undefined : { key: job.tableKey, data: job.table };
  } else if (table && table.key === job.tableKey) rows = table.data;
  else throw new Error(`head job ${job.id}: table ${job.tableKey} is not held by this worker`);
  const q = job.queries.length / d;
  const n = job.rows;
  const logits = new Float32Array(q * n);
  if (n > 0) {
    const a = new Float32Array(n * d);
    for (let i = 0; i < q; i++) {
      const query = job.queries.subarray(i * d, (i + 1) * d);
      for (let r = 0; r < n; r++) a.set(query, r * d);
      const s = await m.scoreEmbeddings(
        { dtype: 'float32', shape: [n, d], data: a },
        { dtype: 'float32', shape: [n, d], data: rows.subarray(0, n * d) },
      );
      logits.set(s.logit, i * n);
    }
  }
  return { type: 'head', id: job.id, logits };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// One job at a time: the pool never sends a second before the first is answered.
process.on('message', (msg: ToWorker) => {
  void (async () => {
    if (msg.type === 'init') {
      try {
        await load(msg);
      } catch (e) {
        send({ type: 'failed', message: String((e as Error)?.message ?? e) });
        process.exitCode = 1;
        if (process.connected) process.disconnect();
      }
      return;
    }
    if (msg.type === 'close') {
      await model?.dispose();
      if (process.connected) process.disconnect();
      return;
    }
    const fp = failpoint();
    try {
      if (msg.type === 'images') {
        jobs++;
        if (fp.exitAt === jobs) process.kill(process.pid, 'SIGKILL');
      }
      const started = Date.now();
      const result = msg.type === 'images' ? await images(msg) : await head(msg);
      if (fp.delayMs) await sleep(fp.delayMs - (Date.now() - started));
      send(result);
    } catch (e) {
      send({ type: 'job-failed', id: msg.id, message: String((e as Error)?.message ?? e) });
    }
  })();
});
// The server went away (killed, crashed): never outlive it.
process.on('disconnect', () => {
  void model?.dispose().finally(() => process.exit(process.exitCode ?? 0));
});
