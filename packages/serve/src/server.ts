/**
 * `startServer(options)`: the HTTP service. fastify with schema validation, multipart uploads,
 * OpenAPI and Prometheus metrics in front of a pool of inference workers fed by the micro-batcher.
 * The event loop only parses, hashes and routes: decoding and onnxruntime run in the workers.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { stat } from 'node:fs/promises';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { Batcher, type Upload } from './batcher.js';
import { errorBody, ServeConfigError, ServeError } from './errors.js';
import { FlatGallery, type Gallery } from './gallery.js';
import { IndexGallery } from './index-gallery.js';
import { createMetrics, type Metrics } from './metrics.js';
import { type ResolvedOptions, resolveOptions, type ServeOptions } from './options.js';
import { WorkerPool } from './pool.js';
import type { ModelInfo } from './protocol.js';
import {
  compareSchema,
  embedSchema,
  enrolSchema,
  healthSchema,
  modelSchema,
  readySchema,
  removeSchema,
  searchSchema,
} from './schemas.js';
import { serveVersion } from './version.js';

export interface SiameseServer {
  /** `http://host:port` actually bound (port 0 resolved). */
  readonly url: string;
  readonly app: FastifyInstance;
  readonly model: ModelInfo;
  readonly options: ResolvedOptions;
  readonly pool: WorkerPool;
  readonly gallery: Gallery;
  readonly metrics: Metrics;
  /** Every worker warm and not draining. */
  readonly ready: boolean;
  /** Stops accepting, answers what is in flight, stops the workers. Safe to call twice. */
  close(): Promise<void>;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** Starts the workers, opens the gallery and listens; resolves once the first worker is warm. */
export async function startServer(input: ServeOptions): Promise<SiameseServer> {
  const options = resolveOptions(input);
  const metrics = createMetrics();
  const pool = new WorkerPool({
    size: options.workers,
    init: {
      modelDir: options.model,
      device: options.device,
      threads: options.threads,
      batchSize: options.maxBatch,
      pixelLimit: options.pixelLimit,
    },
  });
  const model = await pool.start();
  let gallery: Gallery;
  try {
    gallery = await openGallery(options.gallery, model.embeddingSize, model.fingerprint);
  } catch (e) {
    await pool.close();
    throw e;
  }
  metrics.galleryRows.set(gallery.size);
  const batcher = new Batcher(pool, metrics, options);
  pool.on('crash', () => metrics.workerCrashes.inc());
  const trackWorkers = () => metrics.workersWarm.set(pool.warm);
  pool.on('ready', trackWorkers);
  pool.on('idle', trackWorkers);
  pool.on('crash', trackWorkers);
  trackWorkers();

  let draining = false;
  const app = buildApp({ options, metrics, model, pool, batcher, gallery, isDraining: () => draining });
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (e) {
    // Nothing may outlive a server that never started: the workers would keep the process alive.
    await app.close().catch(() => undefined);
    await pool.close();
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    app,
    model,
    options,
    pool,
    gallery,
    metrics,
    get ready() {
      return !draining && pool.ready;
    },
    close() {
      closing ??= (async () => {
        draining = true;
        // fastify stops accepting, answers 503 to new requests on open connections and waits
        // for the requests in flight; then nothing is queued, and the workers can go.
        await app.close();
        await batcher.drain();
        // Every gallery change was written before its response went out: nothing to save here.
        await pool.close();
      })();
      return closing;
    },
  };
}

interface AppParts {
  readonly options: ResolvedOptions;
  readonly metrics: Metrics;
  readonly model: ModelInfo;
  readonly pool: WorkerPool;
  readonly batcher: Batcher;
  readonly gallery: Gallery;
  isDraining(): boolean;
}

/** Base64 (optionally a data: URL) to bytes; the field is named when it is not base64. */
function fromBase64(field: string, s: string, max: number): Uint8Array {
  const text = s.startsWith('data:') ? s.slice(s.indexOf(',') + 1) : s;
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw new ServeError(
      'invalid-request',
      `field '${field}': not base64 (send the image's bytes, base64-encoded)`,
      field,
    );
  }
  const bytes = Buffer.from(compact, 'base64');
  if (bytes.length > max) {
    throw new ServeError(
      'too-large',
      `field '${field}': ${bytes.length} bytes is over the limit of ${max} bytes per image`,
      field,
    );
  }
  return bytes;
}

/** The uploads of `field`, whichever the content type. */
function uploads(req: FastifyRequest, field: string, max: number, many = false): Upload[] {
  const value = (req.body as Record<string, unknown>)[field];
  const list = Array.isArray(value) ? value : [value];
  if (list.length > 1 && !many) {
    throw new ServeError(
      'invalid-request',
      `field '${field}': one image expected, got ${list.length}`,
      field,
    );
  }
  return list.map((v, i) => {
    const name = list.length > 1 ? `${field}[${i}]` : field;
    if (typeof v === 'string') {
      if (req.isMultipart()) {
        throw new ServeError(
          'invalid-request',
          `field '${name}': send the image as a file part, not a text field`,
          field,
        );
      }
      return { field: name, bytes: fromBase64(name, v, max) };
    }
    if (Buffer.isBuffer(v)) return { field: name, bytes: v };
    throw new ServeError('invalid-request', `field '${name}': expected an image`, field);
  });
}

/** A fastify or plugin error as the ServeError a client sees. */
function asServeError(err: FastifyError, options: ResolvedOptions): ServeError {
  if (err instanceof ServeError) return err;
  if (err.validation && err.validation.length > 0) {
    const v = err.validation[0]!;
    const missing = (v.params as { missingProperty?: string }).missingProperty;
    const path = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const where = err.validationContext === 'params' ? 'path parameter' : 'field';
    if (missing) return new ServeError('invalid-request', `${where} '${missing}' is missing`, missing);
    if ((v.params as { additionalProperty?: string }).additionalProperty) {
      const extra = (v.params as { additionalProperty: string }).additionalProperty;
      return new ServeError(
        'invalid-request',
        `field '${extra}' is not allowed (images come only as uploads or base64)`,
        extra,
      );
    }
    const field = path || err.validationContext || 'body';
    return new ServeError('invalid-request', `${where} '${field}' ${v.message ?? 'is invalid'}`, field);
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ServeError('too-large', `the request body is over the limit of ${options.bodyLimit} bytes`);
    case 'FST_REQ_FILE_TOO_LARGE':
      return new ServeError(
        'too-large',
        `an uploaded file is over the limit of ${options.maxImageBytes} bytes`,
      );
    case 'FST_FILES_LIMIT':
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new ServeError('too-large', `too many parts in the multipart body (${err.message})`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new ServeError(
        'unsupported-media-type',
        'send application/json (images as base64) or multipart/form-data (images as file parts)',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ServeError('invalid-request', 'the JSON body is empty');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ServeError('invalid-request', 'the Content-Length does not match the body');
  }
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new ServeError('invalid-request', 'the body is not valid JSON');
  }
  if (err.statusCode === undefined && /multipart|boundary|unexpected end of form/i.test(err.message ?? '')) {
    return new ServeError('invalid-request', 'the multipart body is malformed');
  }
  const status = err.statusCode ?? 500;
  if (status === 413) return new ServeError('too-large', 'the request is over a size limit');
  if (status >= 400 && status < 500) return new ServeError('invalid-request', 'the request is malformed');
  return new ServeError('internal', 'internal error (see the server log)');
}

function buildApp(parts: AppParts): FastifyInstance {
  const { options, metrics } = parts;
  const app = Fastify({
    logger: options.logRequests,
    bodyLimit: options.bodyLimit,
    // Our own 503 while draining (see onRequest), in this API's error format.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // The route schemas are shared between fastify's validation and the OpenAPI document.
    // strictTypes off: file parts are `format: binary` with no type (they arrive as Buffers).
    ajv: {
      customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false, strictTypes: false },
    },
  });
  app.removeContentTypeParser('text/plain');

  app.register(swagger, {
    openapi: {
      info: {
        title: 'siamese serve',
        version: serveVersion(),
        description: 'Compare, embed, search and enrol with a Siamese model',
      },
      components: options.token ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } : {},
      ...(options.token ? { security: [{ bearer: [] }] } : {}),
    },
    transformObject: (doc) => {
      const d = 'openapiObject' in doc ? doc.openapiObject : doc.swaggerObject;
      fileTypes(d);
      return d;
    },
  });
  const multipartBytes = new WeakMap<FastifyRequest, number>();
  app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    // Every file part as its bytes, whatever its declared type (text/plain too).
    // The multipart plugin limits each file, not the body: the body limit is kept here, counting
    // every file part of the request as it is read.
    async onFile(this: FastifyRequest, part) {
      const bytes = await part.toBuffer();
      const total = (multipartBytes.get(this) ?? 0) + bytes.length;
      multipartBytes.set(this, total);
      if (total > options.bodyLimit) {
        throw new ServeError('too-large', `the request body is over the limit of ${options.bodyLimit} bytes`);
      }
      (part as unknown as { value: Buffer }).value = bytes;
    },
    limits: {
      fileSize: options.maxImageBytes,
      files: options.maxEnrolImages,
      fields: 8,
      fieldSize: 4096,
      parts: options.maxEnrolImages + 8,
    },
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const e = asServeError(err, options);
    // A bug: the details go to the server's stderr, never to the client.
    if (e.code === 'internal')
      console.error(`siamese serve: ${req.method} ${req.url}: ${err.stack ?? err.message}`);
    if (e.retryAfter !== undefined) reply.header('retry-after', String(e.retryAfter));
    if (e.code === 'unauthorized') reply.header('www-authenticate', 'Bearer');
    return reply.code(e.status).send(errorBody(e));
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .send(errorBody(new ServeError('not-found', `no route ${req.method} ${req.url.split('?')[0]}`))),
  );

  const expected = options.token === undefined ? undefined : sha256(options.token);
  app.addHook('onRequest', async (req) => {
    (req as FastifyRequest & { deadline?: number }).deadline = Date.now() + options.timeoutMs;
    if (parts.isDraining() && req.url !== '/healthz' && req.url !== '/readyz') {
      throw new ServeError(
        'unavailable',
        'the server is shutting down; retry on another instance',
        undefined,
        1,
      );
    }
    if (!expected || req.url === '/healthz' || req.url === '/readyz') return;
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    // Hashes have one length, so the comparison takes the same time whatever was sent.
    if (!m || !timingSafeEqual(sha256(m[1]!.trim()), expected)) {
      throw new ServeError(
        'unauthorized',
        m ? 'the bearer token is wrong' : 'send Authorization: Bearer <token>',
      );
    }
  });
  // While draining, every answer closes its connection: keep-alive sockets would otherwise hold
  // the listener open until they time out.
  app.addHook('onSend', async (_req, reply) => {
    if (parts.isDraining()) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: req.method, status: String(reply.statusCode) });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
  });

  // Routes in a plugin of their own, so that swagger's and multipart's hooks see them.
  app.register(async (api) => routes(api, parts));
  return app;
}

function routes(app: FastifyInstance, parts: AppParts): void {
  const { options, metrics, model, pool, batcher, gallery } = parts;
  const deadline = (req: FastifyRequest) => (req as FastifyRequest & { deadline?: number }).deadline!;
  const accepting = () => {
    if (parts.isDraining())
      throw new ServeError(
        'unavailable',
        'the server is shutting down; retry on another instance',
        undefined,
        1,
      );
  };
  const threshold = model.threshold;
  const decide = (p: number) => (threshold ? p >= threshold.probability : null);
  const max = options.maxImageBytes;

  app.post('/v1/compare', { schema: compareSchema }, async (req) => {
    accepting();
    const images = [...uploads(req, 'a', max), ...uploads(req, 'b', max)];
    const r = await batcher.images(images, [[0, 1]], deadline(req));
    const probability = r.probabilities[0]!;
    return { probability, logit: r.logits[0]!, same: decide(probability), threshold };
  });

  app.post('/v1/embed', { schema: embedSchema }, async (req) => {
    accepting();
    const r = await batcher.images(uploads(req, 'image', max), [], deadline(req));
    return { embedding: Array.from(r.embeddings[0]!), size: model.embeddingSize };
  });

  app.post('/v1/search', { schema: searchSchema }, async (req) => {
    accepting();
    const k = Number((req.body as { k?: unknown }).k ?? 5);
    const r = await batcher.images(uploads(req, 'image', max), [], deadline(req));
    const matches = await gallery.search(r.embeddings[0]!, k, (query, rows) =>
      batcher.head(query, rows, deadline(req)),
    );
    return {
      gallery: gallery.ids,
      threshold,
      matches: matches.map((m, i) => {
        const probability = 1 / (1 + Math.exp(-m.logit));
        return { rank: i + 1, id: m.id, label: m.label, probability, same: decide(probability) };
      }),
    };
  });

  /** Ids whose enrolment is in flight. */
  const enrolling = new Set<string>();
  app.post('/v1/gallery', { schema: enrolSchema(options.maxEnrolImages) }, async (req, reply) => {
    accepting();
    const b = req.body as { id: string; label?: string };
    const images = req.isMultipart() ? uploads(req, 'image', max, true) : uploads(req, 'images', max, true);
    if (images.length > options.maxEnrolImages) {
      throw new ServeError(
        'too-large',
        `field 'image': at most ${options.maxEnrolImages} images per enrolment`,
        'image',
      );
    }
    // An id being enrolled by a request still in flight counts as taken: two enrolments of one id
    // at once give one 201 and one 409, never two copies.
    if (gallery.has(b.id) || enrolling.has(b.id)) {
      throw new ServeError(
        'conflict',
        `id '${b.id}' is already enrolled; DELETE /v1/gallery/${b.id} first`,
        'id',
      );
    }
    enrolling.add(b.id);
    try {
      const r = await batcher.images(images, [], deadline(req));
      const d = model.embeddingSize;
      const table = new Float32Array(images.length * d);
      r.embeddings.forEach((e, i) => {
        table.set(e, i * d);
      });
      await gallery.add({
        id: b.id,
        ...(b.label !== undefined ? { label: b.label } : {}),
        embeddings: table,
      });
    } finally {
      enrolling.delete(b.id);
    }
    metrics.galleryRows.set(gallery.size);
    return reply
      .code(201)
      .send({ id: b.id, label: b.label ?? null, images: images.length, gallery: gallery.ids });
  });

  app.delete('/v1/gallery/:id', { schema: removeSchema }, async (req) => {
    accepting();
    const { id } = req.params as { id: string };
    const removed = await gallery.remove(id);
    if (removed === 0) throw new ServeError('not-found', `id '${id}' is not enrolled`, 'id');
    metrics.galleryRows.set(gallery.size);
    return { id, removed, gallery: gallery.ids };
  });

  app.get('/v1/model', { schema: modelSchema }, async () => ({
    ...model,
    workers: options.workers,
    threadsPerWorker: options.threads,
    maxBatch: options.maxBatch,
    maxDelayMs: options.maxDelayMs,
    gallery: { enrolments: gallery.ids, images: gallery.size, persisted: options.gallery !== undefined },
  }));

  app.get('/healthz', { schema: healthSchema }, async () => ({ ok: true }));

  app.get('/readyz', { schema: readySchema }, async (_req, reply: FastifyReply) => {
    const draining = parts.isDraining();
    const ready = !draining && pool.ready;
    return reply.code(ready ? 200 : 503).send({ ready, workers: options.workers, warm: pool.warm, draining });
  });

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', hide: false } }, async (_req, reply) => {
    metrics.queueDepth.set(batcher.depth);
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.get('/openapi.json', { schema: { summary: 'This API as OpenAPI 3' } }, async () => app.swagger());
}

/** File parts are `format: binary` without a type (fastify sees Buffers); OpenAPI wants strings. */
function fileTypes(node: unknown): void {
  if (Array.isArray(node)) node.forEach(fileTypes);
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o.format === 'binary' && o.type === undefined) o.type = 'string';
    Object.values(o).forEach(fileTypes);
  }
}

export { ServeConfigError };

/**
 * No file: enrolments held in memory. A folder: an ANN index (`siamese index build`). Otherwise an
 * embeddings file (`siamese embed`), created on the first enrolment when it does not exist yet.
 */
async function openGallery(
  path: string | undefined,
  dimension: number,
  fingerprint: string,
): Promise<Gallery> {
  if (path === undefined) return FlatGallery.memory(dimension, fingerprint);
  if ((await stat(path).catch(() => undefined))?.isDirectory())
    return IndexGallery.open(path, dimension, fingerprint);
  return FlatGallery.open(path, dimension, fingerprint);
}
