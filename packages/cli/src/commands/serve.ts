/** `siamese serve MODEL`: the HTTP service (@siamese/serve) until SIGTERM or Ctrl-C. */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { nonNegativeInt, oneOfFlag, positiveInt, str } from './parse.js';
import type { CommandDef } from './types.js';

const DEVICES = ['auto', 'cuda', 'cpu'] as const;

export const serve: CommandDef = {
  name: 'serve',
  summary: 'an HTTP service for compare, embed, search and enrolment (micro-batched, with metrics)',
  positionals: ['MODEL'],
  options: {
    host: {
      type: 'string',
      value: 'HOST',
      default: '127.0.0.1',
      description: 'address to listen on (0.0.0.0 for every interface: put a token in front)',
    },
    port: {
      type: 'string',
      value: 'PORT',
      default: '8080',
      description: 'port to listen on (0: any free port)',
    },
    gallery: {
      type: 'string',
      value: 'PATH',
      description:
        'embeddings file (from siamese embed, or a new file) or index folder (from siamese index build) to search and enrol into; every change is written atomically',
    },
    workers: {
      type: 'string',
      value: 'N',
      description: 'inference worker processes (default: the cores, at most 8)',
    },
    threads: {
      type: 'string',
      value: 'N',
      description: 'onnxruntime threads per worker (default: cores / workers); workers x threads <= cores',
    },
    device: {
      type: 'string',
      value: DEVICES.join('|'),
      default: 'auto',
      description: 'where onnxruntime runs: auto (CUDA when it works, else CPU), cuda or cpu',
    },
    'max-batch': {
      type: 'string',
      value: 'N',
      default: '32',
      description: 'distinct images per encoder batch',
    },
    'max-delay-ms': {
      type: 'string',
      value: 'MS',
      default: '5',
      description: 'how long a request waits for others to share its batch',
    },
    'max-queue': {
      type: 'string',
      value: 'N',
      description: 'requests waiting for a worker before new ones get 503 (default 64 per worker)',
    },
    'timeout-ms': {
      type: 'string',
      value: 'MS',
      default: '30000',
      description: "each request's deadline (504 past it)",
    },
    'token-file': {
      type: 'string',
      value: 'FILE',
      description: "require Authorization: Bearer <the file's content> (all routes but /healthz and /readyz)",
    },
    'log-requests': { type: 'boolean', default: false, description: 'log every request as JSON to stdout' },
  },
  details:
    'Endpoints: POST /v1/compare, /v1/embed, /v1/search, /v1/gallery; DELETE /v1/gallery/{id}; GET /v1/model, /healthz, /readyz, /metrics (Prometheus), /openapi.json. Images come in the request body only (multipart file parts or base64 in JSON). Requests that arrive within --max-delay-ms share one encoder batch; a full queue answers 503 with Retry-After. SIGTERM stops accepting, finishes what is in flight and exits 0. See the serve guide in the docs.',
  examples: [
    'siamese serve runs/omniglot/model',
    'siamese serve model --gallery gallery.safetensors --port 9000 --token-file token.txt',
    'siamese serve model --workers 2 --threads 1 --max-batch 16 --max-delay-ms 2',
  ],
  async run(args, io) {
    const [model] = args.positionals as [string];
    const int = (flag: string) => {
      const v = str(args.values[flag]);
      return v === undefined ? undefined : positiveInt(flag, v);
    };
    const port = nonNegativeInt('port', String(args.values.port));
    if (port > 65535) throw new UsageError(`--port must be at most 65535, got '${port}'`);
    const maxDelayMs = nonNegativeInt('max-delay-ms', String(args.values['max-delay-ms']));
    const tokenFile = str(args.values['token-file']);
    let token: string | undefined;
    if (tokenFile !== undefined) {
      const text = await readFile(tokenFile, 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new UsageError(`--token-file '${tokenFile}': cannot read it (${e.code ?? e.message})`);
      });
      token = text.trim();
      if (token.length < 16 || /\s/.test(token)) {
        throw new UsageError(
          `--token-file '${tokenFile}': the token must be one line of at least 16 characters without spaces`,
        );
      }
    }
    const gallery = str(args.values.gallery);
    const workers = int('workers');
    const threads = int('threads');
    const maxQueue = int('max-queue');
    const options = {
      model,
      host: String(args.values.host),
      port,
      ...(gallery !== undefined ? { gallery } : {}),
      ...(workers !== undefined ? { workers } : {}),
      ...(threads !== undefined ? { threads } : {}),
      device: oneOfFlag('device', String(args.values.device), DEVICES),
      maxBatch: positiveInt('max-batch', String(args.values['max-batch'])),
      maxDelayMs,
      ...(maxQueue !== undefined ? { maxQueue } : {}),
      timeoutMs: positiveInt('timeout-ms', String(args.values['timeout-ms'])),
      ...(token !== undefined ? { token } : {}),
      logRequests: Boolean(args.values['log-requests']),
    };
    // Loaded only here: the other commands never load fastify.
    const { startServer, ServeConfigError } = await import('@siamese/serve');
    let server: Awaited<ReturnType<typeof startServer>>;
    try {
      server = await startServer(options);
    } catch (e) {
      if (e instanceof ServeConfigError) throw new UsageError(e.message);
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new UsageError(`--port ${port}: the address ${options.host}:${port} is already in use`);
      }
      if ((e as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') {
        throw new UsageError(`--host '${options.host}': not an address of this machine`);
      }
      throw e;
    }
    const o = server.options;
    const m = server.model;
    io.out(`serving     ${model} (${m.architecture}, ${m.precision}, ${m.embeddingSize}-float embeddings)`);
    io.out(`listening   ${server.url}${token ? ' (bearer token required)' : ''}`);
    io.out(
      `workers     ${o.workers} x ${o.threads} onnxruntime thread${o.threads === 1 ? '' : 's'} on ${m.provider} (${o.cores} cores); batches of up to ${o.maxBatch}, ${o.maxDelayMs} ms delay`,
    );
    if (gallery !== undefined)
      io.out(`gallery     ${gallery} (${server.gallery.ids} enrolments, ${server.gallery.size} images)`);
    await new Promise<void>((stopped) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) {
          io.err(`${signal} again: stopping now`);
          process.exit(1);
        }
        stopping = true;
        io.out(`${signal}: draining (no new requests; finishing those in flight)`);
        void server.close().then(stopped, (e: unknown) => {
          io.err(`error while stopping: ${(e as Error).message}`);
          process.exitCode = 1;
          stopped();
        });
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    io.out('stopped');
    return process.exitCode === 1 ? 1 : 0;
  },
};
